/*
 * job_get: the artefact collection of one job: the get frame, the time limit, and the frames of
 * this get's id handed to artset (the pure assembly, artset.h). The done callback is deferred
 * to the loop by a zero timer when the end comes from a failed send.
 */
#include "job_get.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "artset.h"
#include "vm.h"

struct job_get {
	struct ev_loop *loop;
	uint32_t id;
	struct artset set;
	bool finished, complete;
	char why[WIRE_REASON_MAX + 1];
	ev_timer timer;
	job_get_done_fn *done;
	void *ud;
};

static void finish(struct job_get *g, bool complete, const char *why)
{
	if (g->finished)
		return;
	g->finished = true;
	g->complete = complete;
	ev_timer_stop(g->loop, &g->timer);
	g->done(g->ud, complete, why);	/* may free g */
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct job_get *g = w->data;

	(void)loop;
	(void)revents;
	finish(g, false, g->why[0] ? g->why : "artefacts: no getend in time");
}

bool job_get_frame(struct job_get *g, const struct wire_frame *f)
{
	if (g->finished || f->id != g->id)
		return false;
	switch (f->type) {
	case WIRE_FRAME_FILE:
		artset_add(&g->set, f);
		return true;
	case WIRE_FRAME_GETEND:
		if (f->truncated)
			g->set.truncated = true;
		finish(g, true, NULL);
		return true;
	case WIRE_FRAME_ERROR:
		snprintf(g->why, sizeof(g->why), "artefacts: %.200s",
			 f->message[0] ? f->message : errno_name(f->err > 0 ? -f->err : f->err));
		finish(g, false, g->why);
		return true;
	default:
		return false;
	}
}

int job_get_start(struct ev_loop *loop, struct vm *vm, char *const *patterns, size_t npatterns,
		  uint64_t max, unsigned timeout_ms, job_get_done_fn *done, void *ud,
		  struct job_get **ret, struct errmsg *reterr)
{
	struct job_get *g = calloc(1, sizeof(*g));
	/* a failed send is reported through done() from the loop, like any other end */
	struct wire_frame f = {
		.type = WIRE_FRAME_GET,
		.patterns = (char **)patterns,
		.npatterns = npatterns,
		.uid = JOB_GET_UID,
		.gid = JOB_GET_GID,
	};
	int r;

	if (!g)
		return errmsg_set(reterr, -ENOMEM, "artefacts: no memory");
	g->loop = loop;
	artset_init(&g->set, max);
	g->done = done;
	g->ud = ud;
	g->id = vm_next_id(vm);
	f.id = g->id;
	f.max = g->set.max;
	ev_timer_init(&g->timer, on_timer, timeout_ms / 1000.0, 0.);
	g->timer.data = g;
	r = vm_send_frame(vm, &f, NULL);
	if (r < 0) {
		snprintf(g->why, sizeof(g->why), "artefacts: get not sent (%s)", errno_name(r));
		ev_timer_set(&g->timer, 0., 0.);
	}
	ev_timer_start(loop, &g->timer);
	*ret = g;
	return 0;
}

void job_get_take(struct job_get *g, struct wire_artefact **arts, size_t *n, bool *truncated)
{
	artset_take(&g->set, arts, n, truncated);
	if (!g->complete)
		*truncated = true;
}

struct job_get *job_get_free(struct job_get *g)
{
	if (!g)
		return NULL;
	ev_timer_stop(g->loop, &g->timer);
	artset_fini(&g->set);
	free(g);
	return NULL;
}
