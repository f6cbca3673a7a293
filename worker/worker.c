/*
 * worker: wiring between claim (entries in), jobs (slots) and the loop's life. The job list is
 * a plain array of at most CONFIG_CONCURRENCY_MAX pointers. It logs the worker's own lifecycle
 * (worker.started, worker.draining, worker.stopped) and nothing about individual jobs.
 */
#define LOG_MOD "worker"
#include "worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "claim.h"
#include "deadletter.h"
#include "job.h"
#include "redis_keys.h"
#include "log.h"
#include "redis_conn.h"
#include "result.h"
#include "vm.h"

#define WORKER_CMD_REPLY_TIMEOUT_MS 15000u
#define WORKER_BLOCK_REPLY_TIMEOUT_MS (CLAIM_BLOCK_MS + 15000u)

struct worker {
	struct ev_loop *loop;
	const struct config *cfg;
	struct redis_keys k;
	struct rconn *blocking, *cmd;
	struct claim *claim;
	struct job_env env;
	struct job *jobs[CONFIG_CONCURRENCY_MAX];
	unsigned njobs;
	bool draining;
	ev_timer drain;
};

static void maybe_stop(struct worker *w)
{
	if (w->draining && w->njobs == 0) {
		log_info("worker.stopped", "id=%s", w->cfg->id);
		ev_break(w->loop, EVBREAK_ALL);
	}
}

static void on_job_done(struct job *job, void *ud)
{
	struct worker *w = ud;

	for (unsigned i = 0; i < w->njobs; i++)
		if (w->jobs[i] == job) {
			w->jobs[i] = w->jobs[--w->njobs];
			break;
		}
	job_free(job);
	if (!w->draining)
		claim_kick(w->claim);
	maybe_stop(w);
}

static unsigned free_slots(void *ud)
{
	struct worker *w = ud;

	return w->draining || w->njobs >= w->cfg->concurrency ? 0 : w->cfg->concurrency - w->njobs;
}

static int on_entry(const struct claim_entry *e, void *ud)
{
	struct worker *w = ud;
	struct job *job;
	int r;

	for (unsigned i = 0; i < w->njobs; i++)
		if (strcmp(job_entry_id(w->jobs[i]), e->entry_id) == 0)
			return 0;	/* re-read after a reconnect: already running here */
	if (w->njobs >= CONFIG_CONCURRENCY_MAX)
		return 0;	/* cannot happen: reads ask for free slots only */
	r = job_new(&w->env, e, &job);
	if (r < 0) {
		log_error("worker.job_failed", "entry=%s err=%s", e->entry_id, errno_name(r));
		return 0;	/* stays pending: re-read at the next start */
	}
	w->jobs[w->njobs++] = job;
	return 1;
}

static void blocking_up(struct rconn *rc, void *ud)
{
	struct worker *w = ud;

	(void)rc;
	if (w->claim)	/* NULL only before worker_new() returned */
		claim_on_up(w->claim);
}

static void cmd_up(struct rconn *rc, void *ud)
{
	(void)ud;
	result_scripts_load(rc);
	deadletter_scripts_load(rc);
}

static void on_drain_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;
	struct job *left[CONFIG_CONCURRENCY_MAX];
	unsigned n = w->njobs;

	(void)loop;
	(void)revents;
	log_warn("worker.drain_expired", "jobs=%u", n);
	memcpy(left, w->jobs, n * sizeof(left[0]));
	for (unsigned i = 0; i < n; i++)
		job_abandon(left[i]);	/* on_job_done removes and frees it */
	maybe_stop(w);
}

void worker_shutdown(struct worker *w)
{
	if (w->draining) {
		on_drain_timeout(w->loop, &w->drain, 0);
		return;
	}
	w->draining = true;
	log_info("worker.draining", "jobs=%u drain_s=%u", w->njobs, w->cfg->drain_s);
	claim_stop(w->claim);
	/* a blocked XREADGROUP would hold the loop for up to CLAIM_BLOCK_MS: drop the connection;
	 * whatever it delivered stays in our pending list */
	w->blocking = rconn_free(w->blocking);
	ev_timer_set(&w->drain, w->cfg->drain_s, 0.);
	ev_timer_start(w->loop, &w->drain);
	maybe_stop(w);
}

int worker_new(struct ev_loop *loop, const struct config *cfg, struct vm_runtime *rt,
	       struct worker **ret, struct errmsg *reterr)
{
	static const struct claim_hooks claim_hooks = { .free_slots = free_slots,
							.entry = on_entry };
	const struct rconn_hooks bh = { .up = blocking_up }, ch = { .up = cmd_up };
	struct worker *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->loop = loop;
	w->cfg = cfg;
	r = redis_keys_init(&w->k, cfg->prefix, cfg->queue, reterr);
	if (r < 0)
		goto fail;
	ev_timer_init(&w->drain, on_drain_timeout, 0., 0.);
	w->drain.data = w;
	w->env = (struct job_env){
		.loop = loop,
		.k = &w->k,
		.worker = cfg->id,
		.result_ttl_s = cfg->result_ttl_s,
		.vmrt = rt,
		.accel = vm_runtime_accel(rt),
		.done = on_job_done,
		.ud = w,
	};
	r = rconn_new(loop, &cfg->redis, "commands", WORKER_CMD_REPLY_TIMEOUT_MS, &ch, w, &w->cmd);
	if (r < 0)
		goto fail;
	w->env.cmd = w->cmd;
	r = rconn_new(loop, &cfg->redis, "blocking", WORKER_BLOCK_REPLY_TIMEOUT_MS, &bh, w,
		      &w->blocking);
	if (r < 0)
		goto fail;
	r = claim_new(loop, w->blocking, &w->k, cfg->id, &claim_hooks, w, &w->claim);
	if (r < 0)
		goto fail;
	log_info("worker.started", "id=%s redis=%s queue=%s concurrency=%u accel=%s", cfg->id,
		 cfg->redis_text, w->k.jobs, cfg->concurrency, w->env.accel);
	*ret = w;
	return 0;
fail:
	worker_free(w);
	if (r == -ENOMEM)
		errmsg_set(reterr, r, "worker: out of memory");
	return r;
}

struct worker *worker_free(struct worker *w)
{
	if (!w)
		return NULL;
	ev_timer_stop(w->loop, &w->drain);
	/* connections first: their pending callbacks run now, while the jobs still exist */
	w->blocking = rconn_free(w->blocking);
	w->cmd = rconn_free(w->cmd);
	while (w->njobs > 0)
		job_free(w->jobs[--w->njobs]);
	w->claim = claim_free(w->claim);
	free(w);
	return NULL;
}
