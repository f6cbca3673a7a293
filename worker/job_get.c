/*
 * job_get: the artefact collection of one job. A FILE frame continues the current artefact when
 * it has the same path, the artefact is not finished (no `last` yet) and its offset is exactly
 * the bytes kept so far; otherwise it starts a new artefact (offset 0) or is dropped. Data is
 * copied into buffers that grow by doubling, never past the bytes still allowed under `max`.
 * The done callback is deferred to the loop by a zero timer when the end comes from a send.
 */
#include "job_get.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "vm.h"

struct job_get {
	struct ev_loop *loop;
	uint32_t id;
	uint64_t max, kept;
	struct wire_artefact *arts;
	size_t n, alloc;
	size_t cap;			/* allocated bytes of arts[n - 1].data */
	bool cur_open;			/* arts[n - 1] still takes chunks */
	bool truncated;
	bool finished, complete;
	char why[WIRE_REASON_MAX + 1];
	ev_timer timer;
	job_get_done_fn *done;
	void *ud;
};

void job_artefacts_free(struct wire_artefact *arts, size_t n)
{
	for (size_t i = 0; arts && i < n; i++) {
		free(arts[i].path);
		free(arts[i].data);
	}
	free(arts);
}

static void finish(struct job_get *g, bool complete, const char *why)
{
	if (g->finished)
		return;
	g->finished = true;
	g->complete = complete;
	if (!complete)
		g->truncated = true;
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

/* Starts a new artefact for f. -1 when no more artefacts are allowed. */
static int open_artefact(struct job_get *g, const struct wire_frame *f)
{
	struct wire_artefact *a;

	if (g->n >= WIRE_ARTEFACTS_COUNT_MAX)
		return -1;
	if (g->n == g->alloc) {
		size_t na = g->alloc ? g->alloc * 2 : 8;
		struct wire_artefact *nv;

		if (na > WIRE_ARTEFACTS_COUNT_MAX)
			na = WIRE_ARTEFACTS_COUNT_MAX;
		nv = realloc(g->arts, na * sizeof(*nv));
		if (!nv)
			return -1;
		g->arts = nv;
		g->alloc = na;
	}
	a = &g->arts[g->n];
	memset(a, 0, sizeof(*a));
	a->path = strdup(f->path);
	if (!a->path)
		return -1;
	a->size = f->size;
	a->mode = f->mode & 07777;
	g->n++;
	g->cap = 0;
	g->cur_open = true;
	return 0;
}

/* Appends up to what max still allows; marks the cut. */
static void append_data(struct job_get *g, struct wire_artefact *a, const uint8_t *data,
			size_t len)
{
	uint64_t room = g->max - g->kept;
	size_t n = len > room ? (size_t)room : len;

	if (n < len) {
		a->truncated = true;
		g->truncated = true;
	}
	if (n == 0)
		return;
	if (a->len + n > g->cap) {
		size_t nc = g->cap ? g->cap : 4096;
		uint8_t *nd;

		while (nc < a->len + n)
			nc *= 2;
		if (nc > a->len + room)
			nc = a->len + (size_t)room;
		nd = realloc(a->data, nc);
		if (!nd) {
			a->truncated = true;
			g->truncated = true;
			return;
		}
		a->data = nd;
		g->cap = nc;
	}
	memcpy(a->data + a->len, data, n);
	a->len += n;
	g->kept += n;
}

static void on_file(struct job_get *g, const struct wire_frame *f)
{
	struct wire_artefact *cur = g->n ? &g->arts[g->n - 1] : NULL;

	if (!f->path)
		return;
	if (!(cur && g->cur_open && strcmp(cur->path, f->path) == 0 && f->offset == cur->len)) {
		if (cur && g->cur_open && strcmp(cur->path, f->path) == 0) {
			cur->truncated = true;	/* a gap or overlap in one file: drop the chunk */
			g->truncated = true;
			return;
		}
		if (f->offset != 0 || open_artefact(g, f) < 0) {
			g->truncated = true;
			return;
		}
		cur = &g->arts[g->n - 1];
	}
	if (f->truncated) {
		cur->truncated = true;
		g->truncated = true;
	}
	append_data(g, cur, f->data, f->len);
	if (f->last)
		g->cur_open = false;
}

bool job_get_frame(struct job_get *g, const struct wire_frame *f)
{
	if (g->finished || f->id != g->id)
		return false;
	switch (f->type) {
	case WIRE_FRAME_FILE:
		on_file(g, f);
		return true;
	case WIRE_FRAME_GETEND:
		if (f->truncated)
			g->truncated = true;
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
	g->max = max > WIRE_ARTEFACTS_MAX_LIMIT ? WIRE_ARTEFACTS_MAX_LIMIT : max;
	g->done = done;
	g->ud = ud;
	g->id = vm_next_id(vm);
	f.id = g->id;
	f.max = g->max;
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
	for (size_t i = 0; i < g->n; i++)
		if (g->arts[i].len < g->arts[i].size)
			g->arts[i].truncated = true;
	*truncated = g->truncated || !g->complete;
	*arts = g->arts;
	*n = g->n;
	g->arts = NULL;
	g->n = g->alloc = 0;
}

struct job_get *job_get_free(struct job_get *g)
{
	if (!g)
		return NULL;
	ev_timer_stop(g->loop, &g->timer);
	job_artefacts_free(g->arts, g->n);
	free(g);
	return NULL;
}
