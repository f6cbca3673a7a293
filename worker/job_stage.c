/*
 * job_stage: the parts of a job around its process: the repo fetch that runs while the VM
 * starts (repo.h), the put batch of checkout and files before exec (job_put.h), and the
 * artefact collection after the process ended (job_get.h). Each finishes by feeding one input
 * to the state machine; the decisions (fail, retry, go on) are job_sm's. It times each step for
 * the result (fetch_ms, files_ms, collect_ms) and logs one line per step, never file contents.
 */
#define LOG_MOD "job"
#include "job_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "artset.h"
#include "job_get.h"
#include "job_put.h"
#include "log.h"
#include "repo.h"
#include "util.h"
#include "vm.h"

unsigned job_stage_needs(const struct wire_job *wj)
{
	unsigned needs = 0;

	if (!wj)
		return 0;
	if (wj->repo)
		needs |= JOB_NEED_FETCH | JOB_NEED_PUT;
	if (wj->nfiles > 0)
		needs |= JOB_NEED_PUT;
	if (wj->noutputs > 0)
		needs |= JOB_NEED_COLLECT;
	return needs;
}

static void on_prepare_timeout(struct ev_loop *loop, ev_timer *w, int revents);

void job_stage_init(struct job *j)
{
	j->checkout_fd = -1;
	ev_timer_init(&j->prepare, on_prepare_timeout, JOB_PREPARE_TIMEOUT_S, 0.);
	j->prepare.data = j;
}

const char *job_stage_cwd(const struct job *j, char *buf, size_t n)
{
	if (j->wj->cwd && j->wj->cwd[0])
		return j->wj->cwd;
	if (!j->wj->repo)
		return NULL;
	if ((size_t)snprintf(buf, n, "%s/%s", JOB_GUEST_HOME, j->wj->repo->subdir) >= n)
		return NULL;	/* cannot happen: subdir ≤ WIRE_SUBDIR_MAX */
	return buf;
}

/* ---- fetch ---- */

static void on_fetched(void *ud, int err, bool transient, const struct repo_checkout *co,
		       const char *why)
{
	struct job *j = ud;
	struct job_sm_in in = { .kind = JOB_IN_FETCH_FAILED };
	char text[WIRE_REASON_MAX + 1];

	j->fetch = NULL;	/* done: repo.c forgets the op */
	if (err < 0) {
		snprintf(text, sizeof(text), "%s",
			 why && *why ? why : "repo: fetch failed");
		in.text = text;
		in.transient = transient;
		log_warn("job.fetch_failed", "job=%s err=%s transient=%d ms=%llu", j->id,
			 errno_name(err), (int)transient,
			 (unsigned long long)(time_mono_ms() - j->fetch_start_ms));
		job_feed(j, &in, 0, NULL);
		return;
	}
	j->checkout_fd = co->fd;
	snprintf(j->commit, sizeof(j->commit), "%s", co->commit);
	j->t.fetch_ms = co->fetch_ms ? co->fetch_ms : time_mono_ms() - j->fetch_start_ms;
	j->t.mirror_hit = co->mirror_hit;
	log_info("job.fetched", "job=%s commit=%s mirror_hit=%d files=%llu bytes=%llu fetch_ms=%llu",
		 j->id, j->commit, (int)co->mirror_hit, (unsigned long long)co->files,
		 (unsigned long long)co->bytes, (unsigned long long)j->t.fetch_ms);
	job_feed_kind(j, JOB_IN_FETCHED);
}

void job_stage_fetch(struct job *j)
{
	struct errmsg err = { "" };
	int r;

	j->fetch_start_ms = time_mono_ms();
	r = repo_fetch(j->wj->repo, on_fetched, j, &j->fetch, &err);
	if (r < 0) {
		j->fetch = NULL;
		/* refused before starting (policy, bad request) unless the host is short of
		 * something a retry elsewhere may have */
		job_post(j, JOB_IN_FETCH_FAILED, err.msg[0] ? err.msg : "repo: fetch failed",
			 r == -ENOMEM || r == -EMFILE || r == -ENFILE || r == -EAGAIN);
	}
}

/* ---- put ---- */

static void on_put_done(void *ud, enum job_put_outcome o, const char *msg)
{
	struct job *j = ud;
	uint64_t frames = 0, bytes = 0;
	char text[WIRE_REASON_MAX + 1];

	ev_timer_stop(j->env->loop, &j->prepare);
	job_put_stats(j->put, &frames, &bytes);
	j->put = job_put_free(j->put);
	j->t.files_ms = time_mono_ms() - j->put_start_ms;
	if (o == JOB_PUT_DONE) {
		log_info("job.files_placed", "job=%s frames=%llu bytes=%llu files_ms=%llu", j->id,
			 (unsigned long long)frames, (unsigned long long)bytes,
			 (unsigned long long)j->t.files_ms);
		job_feed_kind(j, JOB_IN_PUT_OK);
		return;
	}
	log_warn("job.files_failed", "job=%s refused=%d frames=%llu", j->id,
		 (int)(o == JOB_PUT_REFUSED), (unsigned long long)frames);
	if (o == JOB_PUT_REFUSED) {
		struct job_sm_in in = { .kind = JOB_IN_PUT_FAILED, .text = msg };

		job_feed(j, &in, 0, NULL);
		return;
	}
	snprintf(text, sizeof(text), "placing files: %.200s", msg ? msg : "failed");
	{
		struct job_sm_in in = { .kind = JOB_IN_VM_FAILED, .text = text };

		job_feed(j, &in, 0, NULL);
	}
}

static void on_prepare_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct job *j = w->data;
	char text[96];
	struct job_sm_in in = { .kind = JOB_IN_VM_FAILED, .text = text };

	(void)loop;
	(void)revents;
	snprintf(text, sizeof(text), "placing files: no answer in %u s", JOB_PREPARE_TIMEOUT_S);
	log_warn("job.files_timeout", "job=%s s=%u", j->id, JOB_PREPARE_TIMEOUT_S);
	j->put = job_put_free(j->put);
	job_feed(j, &in, 0, NULL);
}

void job_stage_put(struct job *j)
{
	struct errmsg err = { "" };
	int fd = j->checkout_fd;
	int r;

	j->checkout_fd = -1;	/* job_put owns it now, also on failure */
	j->put_start_ms = time_mono_ms();
	ev_timer_start(j->env->loop, &j->prepare);
	r = job_put_start(j->env->loop, j->vm, fd, j->wj->files, j->wj->nfiles, on_put_done, j,
			  &j->put, &err);
	if (r < 0) {
		j->put = NULL;
		ev_timer_stop(j->env->loop, &j->prepare);
		job_post(j, JOB_IN_VM_FAILED, err.msg[0] ? err.msg : "placing files failed", false);
	}
}

/* ---- collect ---- */

static void take_artefacts(struct job *j)
{
	struct wire_artefact *arts = NULL;
	size_t n = 0;
	bool truncated = false;

	if (!j->get)
		return;
	job_get_take(j->get, &arts, &n, &truncated);
	j->get = job_get_free(j->get);
	artefacts_free(j->arts, j->narts);
	j->arts = arts;
	j->narts = n;
	j->arts_truncated = truncated;
	j->t.collect_ms = time_mono_ms() - j->get_start_ms;
}

static void on_collected(void *ud, bool complete, const char *why)
{
	struct job *j = ud;
	uint64_t bytes = 0;

	take_artefacts(j);
	for (size_t i = 0; i < j->narts; i++)
		bytes += j->arts[i].len;
	if (complete)
		log_info("job.collected", "job=%s artefacts=%zu bytes=%llu truncated=%d collect_ms=%llu",
			 j->id, j->narts, (unsigned long long)bytes, (int)j->arts_truncated,
			 (unsigned long long)j->t.collect_ms);
	else
		log_warn("job.collect_incomplete", "job=%s artefacts=%zu bytes=%llu why=\"%s\"",
			 j->id, j->narts, (unsigned long long)bytes, why ? why : "");
	job_feed_kind(j, JOB_IN_COLLECTED);
}

void job_stage_collect(struct job *j)
{
	struct errmsg err = { "" };
	int r;

	ev_timer_stop(j->env->loop, &j->timeout);
	j->get_start_ms = time_mono_ms();
	r = job_get_start(j->env->loop, j->vm, j->wj->outputs, j->wj->noutputs,
			  j->wj->artefacts_max, JOB_GET_TIMEOUT_MS, on_collected, j, &j->get, &err);
	if (r < 0) {
		j->get = NULL;
		j->arts_truncated = true;
		job_post(j, JOB_IN_COLLECTED, NULL, false);
	}
}

void job_stage_frame(struct job *j, const struct wire_frame *f)
{
	if (j->put && job_put_frame(j->put, f))
		return;
	if (j->get && job_get_frame(j->get, f))
		return;
	log_debug("job.frame_ignored", "job=%s type=%d id=%u", j->id, (int)f->type,
		  (unsigned)f->id);
}

/* ---- end ---- */

void job_stage_stop(struct job *j)
{
	if (j->fetch) {
		repo_cancel(j->fetch);
		j->fetch = NULL;
	}
	ev_timer_stop(j->env->loop, &j->prepare);
	j->put = job_put_free(j->put);
	if (j->get) {
		take_artefacts(j);	/* a cancel or VM failure cut the collection short */
		j->arts_truncated = true;
	}
	j->checkout_fd = fd_close(j->checkout_fd);
}

void job_stage_free(struct job *j)
{
	job_stage_stop(j);
	artefacts_free(j->arts, j->narts);
	j->arts = NULL;
	j->narts = 0;
}

void job_stage_result(struct job *j, struct wire_result *res)
{
	snprintf(res->commit, sizeof(res->commit), "%s", j->commit);
	res->artefacts = j->arts;
	res->nartefacts = j->narts;
	res->artefacts_truncated = j->arts_truncated;
	j->arts = NULL;	/* the result owns them now: wire_result_clear() */
	j->narts = 0;
}
