/*
 * worker: wiring between claim and the reaper (entries in), jobs (slots) and the loop's life.
 * Three Redis connections: blocking (XREADGROUP), commands (scripts, output), subscriber (cancel
 * notices). Timers: the reaper (re-read our own pending entries after every (re)connect, then
 * take over expired leases, only into free slots), the registry record and consumer pruning, the
 * drain and the hard stop. The job list is a plain array of at most CONFIG_CONCURRENCY_MAX
 * pointers. It logs the worker's own lifecycle and nothing about individual jobs' steps.
 */
#define LOG_MOD "worker"
#include "worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <hiredis/hiredis.h>

#include "claim.h"
#include "deadletter.h"
#include "job.h"
#include "redis_keys.h"
#include "log.h"
#include "redis_conn.h"
#include "result.h"
#include "registry.h"
#include "template_cache.h"
#include "wpool.h"
#include "lease.h"
#include "output.h"
#include "util.h"
#include "vm.h"

#include <unistd.h>

#ifndef CORRAL_VERSION
#define CORRAL_VERSION "0"
#endif

#define WORKER_CMD_REPLY_TIMEOUT_MS 15000u
#define WORKER_BLOCK_REPLY_TIMEOUT_MS (CLAIM_BLOCK_MS + 15000u)
#define WORKER_SUB_REPLY_TIMEOUT_MS 15000u
#define WORKER_STOP_GRACE_S 3.0		/* hand-backs get this long to be answered at exit */
#define WORKER_PRUNE_EVERY 12u		/* registry periods between consumer prunes */
#define WORKER_KICK_S 1.0		/* claim again when the budget may have room (pool shrink) */

struct worker {
	struct ev_loop *loop;
	const struct config *cfg;
	struct redis_keys k;
	struct rconn *blocking, *cmd, *sub;
	struct claim *claim;
	struct tcache *tcache;
	struct job_env env;
	struct job *jobs[CONFIG_CONCURRENCY_MAX];
	unsigned njobs;
	bool draining;
	bool own_done;			/* own pending entries re-read since the last connect */
	bool pending_logged;
	bool reap_in_flight;
	unsigned registry_ticks;
	uint64_t started_ms;
	char host[64];
	char cancel_channel[REDIS_KEYS_NAME_MAX];
	ev_timer drain, reaper, registry, hard_stop, kick;
};

static void maybe_stop(struct worker *w)
{
	if (w->draining && w->njobs == 0) {
		log_info("worker.stopped", "id=%s", w->cfg->id);
		ev_break(w->loop, EVBREAK_ALL);
	}
}

static void reap_now(struct worker *w);

static void on_job_done(struct job *job, void *ud)
{
	struct worker *w = ud;

	for (unsigned i = 0; i < w->njobs; i++)
		if (w->jobs[i] == job) {
			w->jobs[i] = w->jobs[--w->njobs];
			break;
		}
	job_free(job);
	if (!w->draining) {
		claim_kick(w->claim);
		reap_now(w);
	}
	maybe_stop(w);
}

static unsigned free_slots(void *ud)
{
	struct worker *w = ud;

	return w->draining || w->njobs >= w->cfg->concurrency ? 0 : w->cfg->concurrency - w->njobs;
}

/* Slots for new entries: free slots, but no more than the VMs the budget lets start now, so
 * other workers get the rest. */
static unsigned budget_slots(struct worker *w)
{
	unsigned n = free_slots(w), waiting = 0, can;

	if (!n)
		return 0;
	for (unsigned i = 0; i < w->njobs; i++)	/* claimed, no VM yet: their room is taken */
		waiting += job_awaits_vm(w->jobs[i]);
	can = wpool_startable(n + waiting);
	return can > waiting ? (can - waiting < n ? can - waiting : n) : 0;
}

/* The blocking read waits until our own pending entries are re-read: they come first. */
static unsigned claim_slots(void *ud)
{
	struct worker *w = ud;

	return w->own_done ? budget_slots(w) : 0;
}

static void on_kick(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;

	(void)loop;
	(void)revents;
	if (!w->draining && w->claim)
		claim_kick(w->claim);
}

static int on_entry(const struct claim_entry *e, void *ud)
{
	struct worker *w = ud;
	struct job *job;
	int r;

	for (unsigned i = 0; i < w->njobs; i++)
		if (strcmp(job_entry_id(w->jobs[i]), e->entry_id) == 0)
			return 0;	/* re-read after a reconnect: already running here */
	if (free_slots(w) == 0) {
		/* a blocking read and a reap both filled the last slot, or we are draining: give
		 * it back uncounted; a worker with room reaps it at once */
		log_info("worker.released", "entry=%s running=%u", e->entry_id, w->njobs);
		(void)lease_release(w->cmd, &w->k, e->entry_id, w->cfg->id, w->env.lease_ms);
		return 0;
	}
	r = job_new(&w->env, e, &job);
	if (r < 0) {
		log_error("worker.job_failed", "entry=%s err=%s", e->entry_id, errno_name(r));
		return 0;	/* stays pending: re-read at the next start */
	}
	w->jobs[w->njobs++] = job;
	return 1;
}

/* ---- reaper ---- */

static void on_reaped(const struct lease_reaped *e, bool own, void *ud)
{
	struct worker *w = ud;
	struct claim_entry ce = { .entry_id = e->entry_id, .job = e->job, .job_len = e->job_len };
	char why[WIRE_REASON_MAX + 1];

	(void)claim_entry_ms(e->entry_id, &ce.queued_ms);
	if (own)
		snprintf(why, sizeof(why), "re-read after restart of %.64s", e->prev_owner);
	else
		snprintf(why, sizeof(why), "takeover from %.64s (lease expired, idle %lld ms)",
			 e->prev_owner, e->idle_ms);
	ce.reason = why;
	log_info(own ? "reaper.reread" : "reaper.takeover",
		 "entry=%s prev=%s idle_ms=%lld deliveries=%lld", e->entry_id, e->prev_owner,
		 e->idle_ms, e->deliveries);
	if (!on_entry(&ce, w))
		log_warn("reaper.skipped", "entry=%s", e->entry_id);
}

static void on_reap_lost(const char *entry_id, void *ud)
{
	(void)ud;
	log_error("reaper.lost", "entry=%s why=\"pending entry deleted from the stream\"",
		  entry_id);
}

static void on_reap_done(int err, bool own, unsigned n, bool more, void *ud)
{
	struct worker *w = ud;

	w->reap_in_flight = false;
	if (err < 0)
		return;
	if (own && !more) {	/* our own pending list is re-read: new entries may come now */
		w->own_done = true;
		if (!w->pending_logged) {
			w->pending_logged = true;
			log_info("claim.pending_done", "stream=%s", w->k.jobs);
		}
		if (w->claim)
			claim_kick(w->claim);
	}
	if (n > 0 || more)
		reap_now(w);
}

static const struct lease_reap_hooks reap_hooks = {
	.entry = on_reaped,
	.lost = on_reap_lost,
	.done = on_reap_done,
};

static void reap_now(struct worker *w)
{
	char skip[LEASE_SKIP_MAX * (CLAIM_ENTRY_ID_MAX + 1) + 1];
	size_t off = 0;
	unsigned slots = budget_slots(w);

	if (w->draining || w->reap_in_flight || !rconn_is_up(w->cmd) || slots == 0)
		return;
	skip[0] = '\0';
	for (unsigned i = 0; i < w->njobs && i < LEASE_SKIP_MAX; i++)
		off += (size_t)snprintf(skip + off, sizeof(skip) - off, "%s ",
					job_entry_id(w->jobs[i]));
	if (lease_reap(w->cmd, &w->k, w->cfg->id, !w->own_done, w->env.lease_ms,
		       slots > LEASE_REAP_ENTRIES_MAX ? LEASE_REAP_ENTRIES_MAX : slots, skip,
		       &reap_hooks, w) == 0)
		w->reap_in_flight = true;
}

static void on_reaper(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	reap_now(t->data);
}

/* ---- queue lag → pool growth ---- */

/* XINFO GROUPS reply: one map per group; ours has `lag` (Redis 7: entries never delivered to
 * the group; nil when Redis cannot tell). */
static void on_groups(struct rconn *rc, struct redisReply *reply, void *priv)
{
	(void)rc;
	(void)priv;
	if (!reply || reply->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t g = 0; g < reply->elements; g++) {
		const redisReply *m = reply->element[g];
		long long lag = -1;
		bool ours = false;

		if (m->type != REDIS_REPLY_ARRAY || m->elements % 2)
			continue;
		for (size_t i = 0; i + 1 < m->elements; i += 2) {
			const redisReply *k = m->element[i], *v = m->element[i + 1];

			if (k->type != REDIS_REPLY_STRING)
				continue;
			if (strcmp(k->str, "name") == 0 && v->type == REDIS_REPLY_STRING)
				ours = strcmp(v->str, REDIS_KEYS_GROUP) == 0;
			else if (strcmp(k->str, "lag") == 0 && v->type == REDIS_REPLY_INTEGER)
				lag = v->integer;
		}
		if (ours && lag > 0) {
			log_debug("worker.lag", "lag=%lld", lag);
			wpool_on_lag((unsigned long long)lag);
		}
	}
}

static void lag_poll(struct worker *w)
{
	const char *argv[] = { "XINFO", "GROUPS", w->k.jobs };
	size_t lens[] = { 5, 6, strlen(w->k.jobs) };

	(void)rconn_argv(w->cmd, on_groups, w, 3, argv, lens);
}

/* ---- registry ---- */

static void on_registry(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;
	char pool[WPOOL_STATE_MAX + sizeof("draining ")];
	char templates[WPOOL_TEMPLATES_MAX], budget[96];
	struct registry_record rec = {
		.id = w->cfg->id,
		.host = w->host,
		.version = CORRAL_VERSION,
		.capacity = w->cfg->concurrency,
		.running = w->njobs,
		.pool = pool,
		.templates = templates,
		.budget = budget,
		.accel = w->env.accel,
		.lease_s = w->cfg->lease_s,
		.started_ms = w->started_ms,
		.seen_ms = time_now_ms(),
		.ttl_ms = (unsigned)(t->repeat * 3000.0) + 1000u,
	};

	(void)loop;
	(void)revents;
	if (!rconn_is_up(w->cmd))
		return;
	strcpy(pool, w->draining ? "draining " : "");
	wpool_state(pool + strlen(pool), WPOOL_STATE_MAX);
	wpool_templates(templates, sizeof(templates));
	wpool_budget_state(budget, sizeof(budget));
	(void)registry_publish(w->cmd, &w->k, &rec);
	if (!w->draining)
		lag_poll(w);
	if (w->registry_ticks++ % WORKER_PRUNE_EVERY == 0)
		(void)registry_prune(w->cmd, &w->k, w->cfg->id, (uint64_t)w->cfg->prune_s * 1000u);
}

/* ---- cancel notices ---- */

static void on_cancel_msg(struct rconn *rc, const char *msg, size_t len, void *ud)
{
	struct worker *w = ud;

	(void)rc;
	for (unsigned i = 0; i < w->njobs; i++) {
		const char *id = job_id(w->jobs[i]);

		if (strlen(id) == len && memcmp(id, msg, len) == 0) {
			job_cancel(w->jobs[i]);	/* may free it synchronously: stop here */
			return;
		}
	}
}

static void sub_up(struct rconn *rc, void *ud)
{
	struct worker *w = ud;

	if (rconn_subscribe(rc, w->cancel_channel, on_cancel_msg, w) < 0)
		rconn_reset(rc);
	/* notices published while we were away: a renewal reads each running job's flag */
	for (unsigned i = 0; i < w->njobs; i++)
		job_renew_now(w->jobs[i]);
}

static void blocking_up(struct rconn *rc, void *ud)
{
	struct worker *w = ud;

	(void)rc;
	if (w->claim)	/* NULL only before worker_new() returned */
		claim_on_up(w->claim);
}

static void on_registry(struct ev_loop *loop, ev_timer *t, int revents);

/* Either connection may be the one that (re)creates the group after Redis lost it; both log the
 * same event so operators (and test_redis_restart) see it whichever wins the race. */
static void on_cmd_group(struct rconn *rc, struct redisReply *reply, void *priv)
{
	struct worker *w = priv;

	(void)rc;
	if (reply && reply->type != REDIS_REPLY_ERROR)
		log_info("claim.group_created", "stream=%s group=%s", w->k.jobs, REDIS_KEYS_GROUP);
}

static void cmd_up(struct rconn *rc, void *ud)
{
	struct worker *w = ud;

	tcache_on_up(w->tcache);	/* first: jobs may be waiting for templates */
	result_scripts_load(rc);
	deadletter_scripts_load(rc);
	lease_scripts_load(rc);
	output_scripts_load(rc);
	registry_scripts_load(rc);
	{	/* the reaper's scripts need the group: create it here too (BUSYGROUP is fine) */
		const char *argv[] = { "XGROUP", "CREATE", w->k.jobs, REDIS_KEYS_GROUP, "0",
				       "MKSTREAM" };
		size_t lens[6];

		for (int i = 0; i < 6; i++)
			lens[i] = strlen(argv[i]);
		(void)rconn_argv(rc, on_cmd_group, w, 6, argv, lens);
	}
	/* renew first: the reaper runs after these on this connection, so it cannot take our own
	 * running jobs even when Redis was away longer than the lease */
	for (unsigned i = 0; i < w->njobs; i++) {
		job_flush_output(w->jobs[i]);
		job_renew_now(w->jobs[i]);
	}
	w->own_done = false;
	w->reap_in_flight = false;
	reap_now(w);
	on_registry(w->loop, &w->registry, 0);
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
		job_abandon(left[i]);	/* hands back; on_job_done removes and frees it */
	if (w->njobs > 0 && !ev_is_active(&w->hard_stop)) {
		ev_timer_set(&w->hard_stop, WORKER_STOP_GRACE_S, 0.);
		ev_timer_start(w->loop, &w->hard_stop);
	}
	maybe_stop(w);
}

/* Hand-backs unanswered (Redis away): leave; the entries stay pending for the reaper. */
static void on_hard_stop(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;

	(void)revents;
	log_warn("worker.stopped", "id=%s unanswered=%u", w->cfg->id, w->njobs);
	ev_break(loop, EVBREAK_ALL);
}

void worker_shutdown(struct worker *w)
{
	if (w->draining) {
		on_drain_timeout(w->loop, &w->drain, 0);
		return;
	}
	w->draining = true;
	log_info("worker.draining", "jobs=%u drain_s=%u", w->njobs, w->cfg->drain_s);
	ev_timer_stop(w->loop, &w->reaper);
	claim_stop(w->claim);
	ev_timer_stop(w->loop, &w->kick);
	/* a blocked XREADGROUP would hold the loop for up to CLAIM_BLOCK_MS: drop the connection;
	 * whatever it delivered stays in our pending list */
	w->blocking = rconn_free(w->blocking);
	ev_timer_set(&w->drain, w->cfg->drain_s, 0.);
	ev_timer_start(w->loop, &w->drain);
	maybe_stop(w);
}

static void on_tpl_changed(const char *name, const struct wire_template *t, void *ud)
{
	(void)ud;
	wpool_template_changed(name, t);
}

static void on_tpl_loaded(void *ud)
{
	(void)ud;
	wpool_templates_loaded();
}

static const struct tcache_hooks tcache_hooks = { .changed = on_tpl_changed,
						  .loaded = on_tpl_loaded };

int worker_new(struct ev_loop *loop, const struct config *cfg, struct vm_runtime *rt,
	       struct worker **ret, struct errmsg *reterr)
{
	static const struct claim_hooks claim_hooks = { .free_slots = claim_slots,
							.entry = on_entry };
	const struct rconn_hooks bh = { .up = blocking_up }, ch = { .up = cmd_up },
				 sh = { .up = sub_up };
	double reap_s, reg_s;
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
	ev_timer_init(&w->hard_stop, on_hard_stop, 0., 0.);
	w->hard_stop.data = w;
	/* takeover latency is lease + one reaper period; renewals come every lease / 3 */
	reap_s = cfg->lease_s / 4.0 > 5.0 ? 5.0 : cfg->lease_s / 4.0;
	ev_timer_init(&w->reaper, on_reaper, reap_s, reap_s);
	w->reaper.data = w;
	reg_s = cfg->lease_s / 3.0 < 1.0 ? 1.0 : cfg->lease_s / 3.0 > 5.0 ? 5.0 : cfg->lease_s / 3.0;
	ev_timer_init(&w->registry, on_registry, reg_s, reg_s);
	w->registry.data = w;
	ev_timer_init(&w->kick, on_kick, WORKER_KICK_S, WORKER_KICK_S);
	w->kick.data = w;
	w->started_ms = time_now_ms();
	if (gethostname(w->host, sizeof(w->host)) < 0)
		snprintf(w->host, sizeof(w->host), "?");
	w->host[sizeof(w->host) - 1] = '\0';
	snprintf(w->cancel_channel, sizeof(w->cancel_channel), "%scancel", w->k.base);
	w->env = (struct job_env){
		.loop = loop,
		.k = &w->k,
		.worker = cfg->id,
		.result_ttl_s = cfg->result_ttl_s,
		.vmrt = rt,
		.accel = vm_runtime_accel(rt),
		.lease_ms = cfg->lease_s * 1000u,
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
	r = rconn_new(loop, &cfg->redis, "subscriber", WORKER_SUB_REPLY_TIMEOUT_MS, &sh, w, &w->sub);
	if (r < 0)
		goto fail;
	r = claim_new(loop, w->blocking, &w->k, cfg->id, &claim_hooks, w, &w->claim);
	if (r < 0)
		goto fail;
	r = tcache_new(loop, w->cmd, cfg->prefix, &tcache_hooks, w, &w->tcache);
	if (r < 0)
		goto fail;
	w->env.tcache = w->tcache;
	ev_timer_start(loop, &w->reaper);
	ev_timer_start(loop, &w->kick);
	ev_timer_start(loop, &w->registry);
	log_info("worker.started", "id=%s redis=%s queue=%s concurrency=%u accel=%s lease_s=%u",
		 cfg->id, cfg->redis_text, w->k.jobs, cfg->concurrency, w->env.accel, cfg->lease_s);
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
	ev_timer_stop(w->loop, &w->reaper);
	ev_timer_stop(w->loop, &w->registry);
	ev_timer_stop(w->loop, &w->hard_stop);
	ev_timer_stop(w->loop, &w->kick);
	/* connections first: their pending callbacks run now, while the jobs still exist */
	w->blocking = rconn_free(w->blocking);
	w->cmd = rconn_free(w->cmd);
	w->sub = rconn_free(w->sub);
	while (w->njobs > 0)
		job_free(w->jobs[--w->njobs]);
	w->claim = claim_free(w->claim);
	w->tcache = tcache_free(w->tcache);
	free(w);
	return NULL;
}
