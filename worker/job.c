/*
 * job: glue between the state machine and the world. Each callback builds one job_sm input,
 * steps the machine and performs the returned actions in a fixed order (events, output, stop,
 * start/exec, final script, free). Synchronous failures of vm_start/vm_exec are posted back as
 * inputs from a zero timer, so actions never nest. After JOB_ACT_FREE the job is gone: nothing
 * touches it again. Guest output goes to Redis only, never to the log.
 */
#define LOG_MOD "job"
#include "job_priv.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "deadletter.h"
#include "egress.h"
#include "job_get.h"
#include "job_sm.h"
#include "lease.h"
#include "log.h"
#include "output.h"
#include "result.h"
#include "util.h"
#include "vm.h"
#include "wire.h"
#include "wpool.h"

static void apply(struct job *j, const struct job_sm_out *out, int fd, const uint8_t *data);

static const char *state_name(enum wire_state st)
{
	return wire_state_name(st);
}

void job_feed(struct job *j, const struct job_sm_in *in, int fd, const uint8_t *data)
{
	struct job_sm_out out;

	job_sm_step(&j->sm, in, &out);
	apply(j, &out, fd, data);
}

void job_feed_kind(struct job *j, enum job_input kind)
{
	struct job_sm_in in = { .kind = kind };

	job_feed(j, &in, 0, NULL);
}

void job_post(struct job *j, enum job_input kind, const char *text, bool transient)
{
	memset(&j->posted, 0, sizeof(j->posted));
	j->posted.kind = kind;
	j->posted.transient = transient;
	snprintf(j->posted_text, sizeof(j->posted_text), "%s", text ? text : "");
	j->posted.text = j->posted_text;
	ev_timer_stop(j->env->loop, &j->post);
	ev_timer_set(&j->post, 0., 0.);
	ev_timer_start(j->env->loop, &j->post);
}

static void on_post(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct job *j = w->data;
	struct job_sm_in in = j->posted;

	(void)loop;
	(void)revents;
	job_feed(j, &in, 0, NULL);
}

static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	job_feed_kind(w->data, JOB_IN_TIMEOUT);
}

/* ---- Redis requests with retry ---- */

static struct job_ticket *ticket_in(struct job *j, struct job_ticket **slot)
{
	struct job_ticket *t = malloc(sizeof(*t));

	if (t) {
		t->job = j;
		t->slot = slot;
		*slot = t;
	}
	return t;
}

static struct job_ticket *ticket_new(struct job *j)
{
	return ticket_in(j, &j->ticket);
}

/* Takes the job back from a ticket; NULL when the job was freed meanwhile. */
static struct job *ticket_take(struct job_ticket *t)
{
	struct job *j = t->job;

	if (j)
		*t->slot = NULL;
	free(t);
	return j;
}

static void ticket_drop(struct job_ticket *t)
{
	*t->slot = NULL;
	free(t);
}

static void retry_later(struct job *j, enum job_retry what)
{
	j->retry_what = what;
	ev_timer_stop(j->env->loop, &j->retry);
	ev_timer_set(&j->retry, JOB_RETRY_MS / 1000.0, 0.);
	ev_timer_start(j->env->loop, &j->retry);
}

static void on_lookup(int deliveries, uint32_t run, bool cancelled, void *priv)
{
	struct job *j = ticket_take(priv);
	struct job_sm_in in = { .kind = JOB_IN_ATTEMPT, .cancelled = cancelled };

	if (!j)
		return;
	if (deliveries == -EAGAIN) {
		retry_later(j, RETRY_LOOKUP);
		return;
	}
	if (deliveries <= 0) {
		log_warn("job.not_ours", "entry=%s job=%s", j->entry_id, j->id);
		job_feed_kind(j, JOB_IN_NOT_OURS);
		return;
	}
	in.attempt = run;
	in.deliveries = (uint32_t)deliveries;
	job_feed(j, &in, 0, NULL);
}

static void send_lookup(struct job *j)
{
	struct job_ticket *t = ticket_new(j);
	int r;

	if (!t) {
		retry_later(j, RETRY_LOOKUP);
		return;
	}
	r = lease_begin(j->env->cmd, j->env->k, j->entry_id, j->id, j->env->worker, on_lookup, t);
	if (r < 0) {
		ticket_drop(t);
		retry_later(j, RETRY_LOOKUP);
	}
}

static void on_final(enum result_outcome o, void *priv)
{
	struct job *j = ticket_take(priv);

	if (!j)
		return;
	if (o == RESULT_UNKNOWN) {
		retry_later(j, RETRY_FINAL);
		return;
	}
	if (o == RESULT_WRITTEN || o == RESULT_LOST)
		log_info(j->sm.state == WIRE_STATE_DEAD ? "job.dead_lettered" : "job.written",
			 "job=%s entry=%s attempt=%u state=%s entry_lost=%d", j->id[0] ? j->id : "-",
			 j->entry_id, (unsigned)j->sm.attempt, state_name(j->sm.state),
			 o == RESULT_LOST);
	else
		log_warn("job.final_skipped", "job=%s entry=%s outcome=%s", j->id, j->entry_id,
			 result_outcome_name(o));
	job_feed_kind(j, JOB_IN_WRITTEN);
}

static void send_final(struct job *j)
{
	struct job_ticket *t;
	int r;

	/* output held back during a Redis outage goes first, on the same connection, so readers
	 * see it before the final event */
	if (j->out_ready && output_flush(&j->out) < 0) {
		retry_later(j, RETRY_FINAL);
		return;
	}
	t = ticket_new(j);
	if (!t) {
		retry_later(j, RETRY_FINAL);
		return;
	}
	if (j->sm.state == WIRE_STATE_DEAD) {
		struct deadletter d = {
			.entry_id = j->entry_id,
			.consumer = j->env->worker,
			.attempt = j->sm.attempt,
			.reason = j->sm.reason,
			.job = j->raw,
			.job_len = j->raw_len,
			.job_id = j->id,
			.result = &j->result_enc,
			.final_msg = &j->final_enc,
			.ttl_s = j->env->result_ttl_s,
		};
		r = deadletter_write(j->env->cmd, j->env->k, &d, on_final, t);
	} else {
		struct result_write w = {
			.entry_id = j->entry_id,
			.job_id = j->id,
			.consumer = j->env->worker,
			.attempt = j->sm.attempt,
			.result = &j->result_enc,
			.final_msg = &j->final_enc,
			.ttl_s = j->env->result_ttl_s,
		};
		r = result_write(j->env->cmd, j->env->k, &w, on_final, t);
	}
	if (r < 0) {
		ticket_drop(t);
		retry_later(j, RETRY_FINAL);
	}
}

/* ---- lease: renew, hand back ---- */

static struct lease_id lease_of(const struct job *j)
{
	return (struct lease_id){ .entry_id = j->entry_id, .job_id = j->id,
				  .consumer = j->env->worker, .attempt = j->sm.attempt };
}

static void on_renewed(enum lease_outcome o, void *priv)
{
	struct job *j = ticket_take(priv);

	if (!j)
		return;
	if (o == LEASE_NOT_OWNER) {
		log_warn("job.lease_lost", "job=%s entry=%s attempt=%u via=renew", j->id,
			 j->entry_id, (unsigned)j->sm.attempt);
		job_feed_kind(j, JOB_IN_LOST);
	} else if (o == LEASE_CANCELLED) {
		job_feed_kind(j, JOB_IN_CANCEL);
	}
}

void job_flush_output(struct job *j)
{
	if (j->out_ready)
		(void)output_flush(&j->out);
}

void job_renew_now(struct job *j)
{
	struct lease_id id = lease_of(j);
	struct job_ticket *t;

	/* every phase in which the attempt holds the entry and works on it */
	if (j->hb_ticket || (j->sm.phase != JOB_BOOTING && j->sm.phase != JOB_PREPARING &&
			     j->sm.phase != JOB_RUNNING && j->sm.phase != JOB_REAPING &&
			     j->sm.phase != JOB_COLLECTING))
		return;
	t = ticket_in(j, &j->hb_ticket);
	if (t && lease_renew(j->env->cmd, j->env->k, &id, on_renewed, t) < 0)
		ticket_drop(t);
}

static void on_heartbeat(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	job_renew_now(w->data);
}

static void on_handed_back(enum lease_outcome o, void *priv)
{
	struct job *j = ticket_take(priv);

	if (!j)
		return;
	if (o == LEASE_UNKNOWN) {
		retry_later(j, RETRY_HANDBACK);
		return;
	}
	log_info("job.handed_back", "job=%s entry=%s attempt=%u deliveries=%u retry=%d outcome=%s",
		 j->id, j->entry_id, (unsigned)j->sm.attempt, (unsigned)j->sm.deliveries,
		 (int)j->sm.retry,
		 o == LEASE_OK ? "ok" : o == LEASE_LOST ? "lost" : "not_owner");
	job_feed_kind(j, JOB_IN_WRITTEN);
}

static void send_handback(struct job *j)
{
	struct lease_id id = lease_of(j);
	uint32_t idle = j->env->lease_ms, count = j->sm.deliveries ? j->sm.deliveries - 1 : 0;
	struct job_ticket *t;

	if (j->sm.retry) {	/* counted; reapable once the backoff has passed */
		idle = j->env->lease_ms -
		       lease_backoff_ms(j->sm.deliveries, j->env->lease_ms, (uint32_t)random());
		count = j->sm.deliveries;
	}
	t = ticket_new(j);
	if (!t || lease_handback(j->env->cmd, j->env->k, &id, idle, count, on_handed_back, t) < 0) {
		if (t)
			ticket_drop(t);
		retry_later(j, RETRY_HANDBACK);
	}
}

static void do_handback(struct job *j)
{
	char reason[WIRE_REASON_MAX + 1];

	ev_timer_stop(j->env->loop, &j->heartbeat);
	if (j->sm.retry) {
		log_warn("job.retry",
			 "job=%s entry=%s attempt=%u deliveries=%u max_attempts=%u reason=\"%s\"",
			 j->id, j->entry_id, (unsigned)j->sm.attempt, (unsigned)j->sm.deliveries,
			 (unsigned)j->sm.max_attempts, j->sm.reason);
		snprintf(reason, sizeof(reason), "retry: %.240s", j->sm.reason);
		(void)output_event(&j->out, WIRE_STATE_QUEUED, reason);
	}
	send_handback(j);
}

static void on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct job *j = w->data;

	(void)loop;
	(void)revents;
	if (!rconn_is_up(j->env->cmd)) {
		retry_later(j, j->retry_what);
		return;
	}
	if (j->retry_what == RETRY_LOOKUP)
		send_lookup(j);
	else if (j->retry_what == RETRY_FINAL)
		send_final(j);
	else if (j->retry_what == RETRY_HANDBACK)
		send_handback(j);
}

/* ---- VM callbacks ---- */

static void vm_on_ready(struct vm *vm, void *ud)
{
	struct job *j = ud;

	j->t.vm_ms = time_now_ms();
	log_info("job.vm_ready", "job=%s vm=%u boot_ms=%llu", j->id, vm_id(vm),
		 (unsigned long long)vm_boot_ms(vm));
	job_feed_kind(j, JOB_IN_VM_READY);
}

static void vm_on_started(struct vm *vm, uint32_t exec_id, int pid, void *ud)
{
	struct job *j = ud;

	if (exec_id != j->exec_id)
		return;
	j->t.started_ms = time_now_ms();
	log_info("job.started", "job=%s vm=%u pid=%d", j->id, vm_id(vm), pid);
	job_feed_kind(j, JOB_IN_STARTED);
}

static void vm_on_output(struct vm *vm, uint32_t exec_id, int fd, const uint8_t *data, size_t len,
			 void *ud)
{
	struct job *j = ud;
	struct job_sm_in in = { .kind = JOB_IN_OUTPUT, .fd = fd, .len = len };

	(void)vm;
	if (exec_id != j->exec_id)
		return;
	if (!j->t.first_output_ms)
		j->t.first_output_ms = time_now_ms();
	job_feed(j, &in, fd, data);
}

static void vm_on_exited(struct vm *vm, uint32_t exec_id, int exit_code, int sig, void *ud)
{
	struct job *j = ud;
	struct job_sm_in in = { .kind = JOB_IN_EXITED, .code = exit_code, .sig = sig,
				.limit = vm_exit_limit(vm) };

	if (exec_id != j->exec_id)
		return;
	j->t.exited_ms = time_now_ms();
	job_feed(j, &in, 0, NULL);
}

static void vm_on_exec_failed(struct vm *vm, uint32_t exec_id, int err, const char *msg, void *ud)
{
	struct job *j = ud;
	struct job_sm_in in = { .kind = JOB_IN_EXEC_FAILED };
	char text[WIRE_REASON_MAX + 1];

	(void)vm;
	if (exec_id != j->exec_id)
		return;
	snprintf(text, sizeof(text), "%s (%s)", msg && *msg ? msg : "cannot start", errno_name(err));
	in.text = text;
	job_feed(j, &in, 0, NULL);
}

static void vm_on_failed(struct vm *vm, int err, const char *why, void *ud)
{
	struct job *j = ud;
	struct job_sm_in in = { .kind = JOB_IN_VM_FAILED };
	char text[WIRE_REASON_MAX + 1];

	(void)vm;
	snprintf(text, sizeof(text), "%s (%s)", why && *why ? why : "failed", errno_name(err));
	in.text = text;
	log_warn("job.vm_failed", "job=%s err=%s", j->id, errno_name(err));
	job_feed(j, &in, 0, NULL);
}

static void vm_on_frame(struct vm *vm, const struct wire_frame *f, void *ud)
{
	struct job *j = ud;

	if (egress_is_frame(f)) {	/* the guest proxy's streams (issue 6) */
		egress_frame(&j->egress, j->env->loop, vm, job_template(j), j->id, f);
		return;
	}
	job_stage_frame(ud, f);
}

static const struct vm_events job_vm_events = {
	.frame = vm_on_frame,
	.ready = vm_on_ready,
	.started = vm_on_started,
	.output = vm_on_output,
	.exited = vm_on_exited,
	.exec_failed = vm_on_exec_failed,
	.failed = vm_on_failed,
};

/* ---- actions ---- */

static void do_start_vm(struct job *j);

static void on_vmwait(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	do_start_vm(w->data);
}

static void do_start_vm(struct job *j)
{
	struct errmsg err = { "" };
	char text[WIRE_REASON_MAX + 1];
	int r;

	if (j->tpl_state == JOB_TPL_PENDING) {
		j->vm_wanted = true;	/* resolve_done() starts it */
		return;
	}
	j->vm_wanted = false;
	if (j->tpl_state == JOB_TPL_FAILED) {
		if (j->tpl_fail_transient)
			job_post(j, JOB_IN_VM_FAILED, j->tpl_fail, true);
		else
			job_post(j, JOB_IN_IMAGE_MISSING, j->tpl_fail, false);
		return;
	}
	if (j->sm.phase != JOB_BOOTING || j->vm)
		return;	/* cancelled or stopped meanwhile */
	if (!j->vmwait_since)
		j->vmwait_since = time_mono_ms();
	r = wpool_vm_start_tpl(j->env->vmrt, j->tpl, &j->eff, &job_vm_events, j, &j->vm, &j->charge,
			       time_mono_ms() - j->vmwait_since, &err);
	if (r == -EAGAIN) {	/* a clone is coming or no room now: wait, the lease renewed */
		j->vm = NULL;
		if (!j->vmwait_logged && time_mono_ms() - j->vmwait_since >= WPOOL_POOL_WAIT_MS)
			log_info("job.budget_wait", "job=%s template=%s memory_mib=%u vcpus=%u", j->id,
				 j->tpl->name, (unsigned)j->eff.memory_mib, (unsigned)j->eff.vcpus);
		j->vmwait_logged |= time_mono_ms() - j->vmwait_since >= WPOOL_POOL_WAIT_MS;
		ev_timer_set(&j->vmwait, JOB_VMWAIT_MS / 1000.0, 0.);
		ev_timer_start(j->env->loop, &j->vmwait);
		return;
	}
	if (r == -ENOENT && strcmp(j->eff.image, "base") != 0) {
		j->vm = NULL;
		log_warn("job.image_missing", "job=%s image=%s", j->id, j->eff.image);
		if (err.msg[0])
			snprintf(text, sizeof(text), "%s", err.msg);
		else
			snprintf(text, sizeof(text), "image '%s' not available on this worker",
				 j->eff.image);
		job_post(j, JOB_IN_IMAGE_MISSING, text, false);
		return;
	}
	if (r < 0) {
		j->vm = NULL;
		job_post(j, JOB_IN_VM_FAILED, err.msg[0] ? err.msg : errno_name(r), false);
	}
}

/* ---- templates ---- */

static void resolve_template(struct job *j);

static void on_tcache_loaded(struct tcache_wait *w)
{
	struct job *j = (struct job *)((char *)w - offsetof(struct job, twait));

	resolve_template(j);
}

static void resolve_done(struct job *j)
{
	struct tmpl_eff *e = &j->eff;
	int r;

	tmpl_effective(j->tpl, j->wj, e);
	j->wj->timeout_ms = e->timeout_ms;
	j->sm.timeout_ms = e->timeout_ms;
	r = tmpl_merge_env(j->tpl->env, j->tpl->envc, j->wj->env, j->wj->envc, &j->exec_env,
			   &j->exec_envc);
	if (r < 0) {
		j->tpl_state = JOB_TPL_FAILED;
		snprintf(j->tpl_fail, sizeof(j->tpl_fail), "env: template and job env: %s",
			 r == -E2BIG ? "too many items" : errno_name(r));
		j->tpl_fail_transient = r == -ENOMEM;
	} else {
		j->tpl_state = JOB_TPL_OK;
		log_debug("job.template", "job=%s template=%s version=%u image=%s vcpus=%u "
			  "memory_mib=%u timeout_ms=%u", j->id, j->tpl->name,
			  (unsigned)j->tpl->version, e->image, (unsigned)e->vcpus,
			  (unsigned)e->memory_mib, (unsigned)e->timeout_ms);
	}
	if (j->vm_wanted)
		do_start_vm(j);
}

static void resolve_failed(struct job *j, bool transient, const char *text)
{
	j->tpl_state = JOB_TPL_FAILED;
	j->tpl_fail_transient = transient;
	snprintf(j->tpl_fail, sizeof(j->tpl_fail), "%s", text);
	log_warn("job.template_failed", "job=%s template=%s transient=%d reason=\"%s\"", j->id,
		 j->wj->template_name, (int)transient, j->tpl_fail);
	if (j->vm_wanted)
		do_start_vm(j);
}

/* job.template → its record (a copy), the built-in `default` (or --image sugar) when Redis has
 * none, else a fresh load of the cache first; still none: `template 'x' not found`. */
static void resolve_template(struct job *j)
{
	const char *name = j->wj->template_name[0] ? j->wj->template_name : TMPL_DEFAULT;
	struct tcache *c = j->env->tcache;
	struct errmsg err = { "" };
	int r = -ENOENT;

	if (c && !tcache_loaded(c)) {	/* never loaded yet: a `default` record may exist */
		if (j->tpl_waits++ < JOB_TPL_WAITS_MAX) {
			tcache_wait(c, &j->twait);
			return;
		}
		resolve_failed(j, true, "templates: cannot load them from Redis");
		return;
	} else if (c) {
		r = tcache_copy(c, name, &j->tpl, &err);
	}
	if (r == 0) {
		resolve_done(j);
		return;
	}
	if (r == -EINVAL) {
		resolve_failed(j, false, err.msg);
		return;
	}
	if (r != -ENOENT) {
		resolve_failed(j, true, "template: out of memory");
		return;
	}
	j->tpl = tmpl_builtin(name, wpool_is_sugar(name));
	if (j->tpl) {
		resolve_done(j);
		return;
	}
	/* not in the cache: one fresh load (it may have been written a moment ago) */
	if (c && (j->tpl_waits == 0 || !tcache_ok(c)) && j->tpl_waits < JOB_TPL_WAITS_MAX) {
		j->tpl_waits++;
		tcache_wait(c, &j->twait);
		return;
	}
	if (c && !tcache_ok(c)) {
		resolve_failed(j, true, "templates: cannot load them from Redis");
		return;
	}
	snprintf(err.msg, sizeof(err.msg), "template '%s' not found", name);
	resolve_failed(j, false, err.msg);
}

bool job_awaits_vm(const struct job *j)
{
	return j->wj && !j->charge.held &&
	       (j->sm.phase == JOB_LOOKUP || (j->sm.phase == JOB_BOOTING && !j->vm));
}

const struct wire_template *job_template(const struct job *j)
{
	return j->tpl_state == JOB_TPL_OK ? j->tpl : NULL;
}

/* The exec's limits inside the guest (issue 6), from the job's template (issue 4):
 * tmpl_exec_limits. */
static void job_limits(struct job *j, struct vm_exec_req *req)
{
	tmpl_exec_limits(j->eff.memory_mib, j->eff.disk_mib, j->eff.pids_max, &req->mem_max,
			 &req->disk_max, &req->pids_max);
	job_sm_set_limits(&j->sm, req->mem_max, req->pids_max, req->disk_max);
}

static size_t envc_of(char *const *env)
{
	size_t n = 0;

	while (env[n])
		n++;
	return n;
}

static void do_exec(struct job *j)
{
	char **penv = NULL;
	size_t penvc = 0;
	char cwd[WIRE_SUBDIR_MAX + sizeof(JOB_GUEST_HOME) + 2];
	struct vm_exec_req req = {
		.argv = j->wj->argv,
		.env = j->exec_envc ? j->exec_env : NULL,	/* template env + job env (resolve_done) */
		.cwd = job_stage_cwd(j, cwd, sizeof(cwd)),
		.uid = VM_USER_UID,
		.gid = VM_USER_GID,
	};
	struct errmsg err = { "" };
	int r;

	job_limits(j, &req);
	ev_timer_set(&j->timeout, j->wj->timeout_ms / 1000.0, 0.);
	ev_timer_start(j->env->loop, &j->timeout);
	/* network = allow: the guest proxy's address in HTTP(S)_PROXY (issue 6) */
	if (egress_exec_env(job_template(j), req.env, req.env ? envc_of(req.env) : 0, &penv,
			    &penvc) < 0)
		log_warn("job.egress_env", "job=%s err=cannot add the proxy variables", j->id);
	if (penv)
		req.env = penv;
	r = vm_exec(j->vm, &req, &j->exec_id, &err);
	egress_env_free(penv);
	if (r < 0)
		job_post(j, JOB_IN_EXEC_FAILED, err.msg[0] ? err.msg : errno_name(r), false);
}

static void do_stop(struct job *j)
{
	ev_timer_stop(j->env->loop, &j->timeout);
	if (j->t.started_ms && !j->t.exited_ms)
		j->t.exited_ms = time_now_ms();	/* killed: timeout or output limit */
	ev_timer_stop(j->env->loop, &j->vmwait);
	job_stage_stop(j);
	j->egress = egress_free(j->egress);
	j->vm = vm_destroy(j->vm);
	wpool_uncharge(&j->charge);
}

/* Timeout or output limit of a job with outputs: the process dies, the VM stays for the get. */
static void do_kill(struct job *j)
{
	ev_timer_stop(j->env->loop, &j->timeout);
	if (j->t.started_ms && !j->t.exited_ms)
		j->t.exited_ms = time_now_ms();
	if (j->vm && j->exec_id)
		(void)vm_signal(j->vm, j->exec_id, SIGKILL);
}

/* After a kill without outputs to collect: the timeout timer now bounds the wait for the EXIT
 * (JOB_IN_TIMEOUT in REAPING = the grace is over). */
static void do_reap(struct job *j)
{
	ev_timer_stop(j->env->loop, &j->timeout);
	ev_timer_set(&j->timeout, JOB_REAP_GRACE_MS / 1000.0, 0.);
	ev_timer_start(j->env->loop, &j->timeout);
}

static int encode_final(struct job *j)
{
	struct wire_result res;
	struct errmsg err = { "" };
	int r;

	memset(&res, 0, sizeof(res));
	snprintf(res.id, sizeof(res.id), "%s", j->id);
	res.state = j->sm.state;
	res.attempt = j->sm.attempt;
	res.has_exit_code = j->sm.has_exit_code;
	res.exit_code = j->sm.exit_code;
	res.signal = j->sm.signal;
	snprintf(res.reason, sizeof(res.reason), "%s", j->sm.reason);
	snprintf(res.worker, sizeof(res.worker), "%s", j->env->worker);
	snprintf(res.accel, sizeof(res.accel), "%s", j->sm.invalid ? "" : j->env->accel);
	res.stdout_bytes = j->sm.stdout_bytes;
	res.stderr_bytes = j->sm.stderr_bytes;
	res.truncated = j->sm.truncated;
	snprintf(res.limit, sizeof(res.limit), "%s", j->sm.limit);
	j->t.written_ms = time_now_ms();
	res.t = j->t;
	if (!j->sm.invalid)
		wpool_observe(&j->t);
	job_stage_result(j, &res);
	buf_reset(&j->result_enc);
	r = wire_result_encode(&res, &j->result_enc, &err);
	if (r < 0 && res.nartefacts) {
		/* cannot happen within the limits; keep the result, drop the artefacts */
		log_error("job.encode_failed", "job=%s what=artefacts n=%zu err=\"%s\"", j->id,
			  res.nartefacts, err.msg);
		wire_result_clear(&res);
		res.artefacts_truncated = true;
		buf_reset(&j->result_enc);
		r = wire_result_encode(&res, &j->result_enc, &err);
	}
	wire_result_clear(&res);	/* the encoding is all that is kept */
	if (r < 0) {
		log_error("job.encode_failed", "job=%s what=result err=\"%s\"", j->id, err.msg);
		return r;
	}
	return output_final(&j->out, j->sm.state, j->sm.reason, &j->final_enc);
}

static void do_final(struct job *j)
{
	char reason[LOG_QUOTE_MAX + 8];

	ev_timer_stop(j->env->loop, &j->heartbeat);
	log_quote(reason, sizeof(reason), j->sm.reason, strlen(j->sm.reason));
	if (j->sm.invalid)
		log_warn("job.invalid", "job=%s entry=%s reason=%s", j->id[0] ? j->id : "-",
			 j->entry_id, reason);
	else
		log_info("job.finished",
			 "job=%s entry=%s attempt=%u state=%s exit=%d signal=%d limit=%s reason=%s "
			 "stdout=%llu stderr=%llu truncated=%d run_ms=%llu",
			 j->id, j->entry_id, (unsigned)j->sm.attempt, state_name(j->sm.state),
			 j->sm.has_exit_code ? j->sm.exit_code : -1, (int)j->sm.signal,
			 j->sm.limit[0] ? j->sm.limit : "none", reason,
			 (unsigned long long)j->sm.stdout_bytes,
			 (unsigned long long)j->sm.stderr_bytes, (int)j->sm.truncated,
			 (unsigned long long)(j->t.exited_ms && j->t.started_ms
						      ? j->t.exited_ms - j->t.started_ms
						      : 0));
	if (j->id[0] && encode_final(j) < 0) {
		/* cannot happen with valid fields; dead-letter without a result rather than hang */
		j->id[0] = '\0';
	}
	send_final(j);
}

static void on_output_refused(void *ud)
{
	struct job *j = ud;

	log_warn("job.lease_lost", "job=%s entry=%s attempt=%u via=output", j->id, j->entry_id,
		 (unsigned)j->sm.attempt);
	job_feed_kind(j, JOB_IN_LOST);
}

static void ensure_output(struct job *j)
{
	/* before the template is resolved a job without a timeout may run for the longest one */
	unsigned timeout_s = j->wj ? (j->wj->timeout_ms ? j->wj->timeout_ms : WIRE_TIMEOUT_MS_MAX) /
					     1000u
				   : 0;

	if (j->out_ready || !j->id[0])
		return;
	if (output_init(&j->out, j->env->cmd, j->env->k, j->id, j->entry_id, j->env->worker,
			j->sm.attempt, j->env->result_ttl_s + timeout_s + JOB_OUT_EXPIRE_EXTRA_S,
			on_output_refused, j) < 0)
		return;	/* no memory: output (best effort) is dropped; the result still comes */
	j->out_ready = true;
}

static void apply(struct job *j, const struct job_sm_out *out, int fd, const uint8_t *data)
{
	if (out->acts & (JOB_ACT_EVENTS | JOB_ACT_PUBLISH | JOB_ACT_WRITE_RESULT |
			 JOB_ACT_DEADLETTER | JOB_ACT_HANDBACK))
		ensure_output(j);
	for (unsigned i = 0; i < out->nevents && j->out_ready; i++) {
		bool claimed = out->events[i] == WIRE_STATE_CLAIMED;

		if (claimed)
			log_info("job.claimed",
				 "job=%s entry=%s attempt=%u deliveries=%u wait_ms=%llu why=\"%s\"",
				 j->id, j->entry_id, (unsigned)j->sm.attempt,
				 (unsigned)j->sm.deliveries,
				 (unsigned long long)(j->t.claimed_ms - j->t.queued_ms),
				 j->claim_reason);
		(void)output_event(&j->out, out->events[i],
				   claimed && j->claim_reason[0] ? j->claim_reason
								  : out->reasons[i]);
	}
	if ((out->acts & JOB_ACT_PUBLISH) && j->out_ready)
		(void)output_chunk(&j->out, fd, data, out->publish_len);
	if (out->acts & JOB_ACT_STOP)
		do_stop(j);
	if (out->acts & JOB_ACT_KILL)
		do_kill(j);
	if (out->acts & JOB_ACT_REAP)
		do_reap(j);
	if (out->acts & JOB_ACT_START_VM) {
		ev_timer_set(&j->heartbeat, j->env->lease_ms / 3000.0, j->env->lease_ms / 3000.0);
		ev_timer_start(j->env->loop, &j->heartbeat);
		do_start_vm(j);
	}
	if (out->acts & JOB_ACT_FETCH)
		job_stage_fetch(j);	/* alongside the VM start */
	if (out->acts & JOB_ACT_PUT)
		job_stage_put(j);
	if (out->acts & JOB_ACT_COLLECT)
		job_stage_collect(j);
	if (out->acts & JOB_ACT_HANDBACK) {
		do_handback(j);
		return;
	}
	if (out->acts & JOB_ACT_EXEC)
		do_exec(j);
	if (out->acts & (JOB_ACT_WRITE_RESULT | JOB_ACT_DEADLETTER))
		do_final(j);
	if (out->acts & JOB_ACT_FREE)
		j->env->done(j, j->env->ud);	/* frees j */
}

/* ---- construction ---- */

static int decode(struct job *j, const struct claim_entry *e, struct errmsg *why)
{
	int r;

	if (e->deleted)
		return errmsg_set(why, -ENOENT, "entry body was deleted from the stream");
	if (!e->job)
		return errmsg_set(why, -EBADMSG, "entry has no 'job' field");
	r = wire_job_decode(e->job, e->job_len, &j->wj, why);
	if (r < 0) {
		j->wj = NULL;
		if (!why->msg[0])
			errmsg_set(why, r, "job: %s", errno_name(r));
	}
	return r;
}

int job_new(const struct job_env *env, const struct claim_entry *e, struct job **ret)
{
	struct errmsg why = { "" };
	struct job *j = calloc(1, sizeof(*j));
	int r;

	if (!j)
		return -ENOMEM;
	j->env = env;
	snprintf(j->entry_id, sizeof(j->entry_id), "%s", e->entry_id);
	j->t.queued_ms = e->queued_ms;
	j->t.claimed_ms = time_now_ms();
	buf_init(&j->result_enc, 0);
	buf_init(&j->final_enc, 0);
	ev_timer_init(&j->timeout, on_timeout, 0., 0.);
	j->timeout.data = j;
	ev_timer_init(&j->retry, on_retry, 0., 0.);
	j->retry.data = j;
	ev_timer_init(&j->post, on_post, 0., 0.);
	j->post.data = j;
	ev_timer_init(&j->heartbeat, on_heartbeat, 0., 0.);
	j->heartbeat.data = j;
	ev_timer_init(&j->vmwait, on_vmwait, 0., 0.);
	j->vmwait.data = j;
	j->twait.done = on_tcache_loaded;
	job_stage_init(j);
	snprintf(j->claim_reason, sizeof(j->claim_reason), "%s", e->reason ? e->reason : "");
	if (e->job && e->job_len > 0) {	/* for the dead stream */
		size_t keep = e->job_len > WIRE_JOB_ENCODED_MAX ? WIRE_JOB_ENCODED_MAX : e->job_len;

		j->raw = malloc(keep);
		if (j->raw) {
			memcpy(j->raw, e->job, keep);
			j->raw_len = keep;
		}
	}
	r = decode(j, e, &why);
	if (r < 0) {
		if (e->job && e->job_len > 0 && wire_job_peek_id(e->job, e->job_len, j->id) < 0)
			j->id[0] = '\0';
		job_sm_init(&j->sm, 0, 0, 1, why.msg);
	} else {
		snprintf(j->id, sizeof(j->id), "%s", j->wj->id);
		job_sm_init(&j->sm, j->wj->timeout_ms, j->wj->output_max, j->wj->max_attempts, NULL);
		job_sm_set_needs(&j->sm, job_stage_needs(j->wj));
	}
	*ret = j;
	send_lookup(j);
	if (j->wj)
		resolve_template(j);	/* alongside the lookup */
	return 0;
}

struct job *job_free(struct job *j)
{
	if (!j)
		return NULL;
	if (j->ticket)
		j->ticket->job = NULL;
	if (j->hb_ticket)
		j->hb_ticket->job = NULL;
	ev_timer_stop(j->env->loop, &j->heartbeat);
	ev_timer_stop(j->env->loop, &j->timeout);
	ev_timer_stop(j->env->loop, &j->retry);
	ev_timer_stop(j->env->loop, &j->post);
	ev_timer_stop(j->env->loop, &j->vmwait);
	tcache_wait_cancel(&j->twait);
	job_stage_free(j);
	j->egress = egress_free(j->egress);
	j->vm = vm_destroy(j->vm);
	wpool_uncharge(&j->charge);
	wire_template_free(j->tpl);
	tmpl_env_free(j->exec_env, j->exec_envc);
	if (j->out_ready)
		output_fini(&j->out);
	buf_free(&j->result_enc);
	buf_free(&j->final_enc);
	wire_job_free(j->wj);
	free(j->raw);
	free(j);
	return NULL;
}

const char *job_entry_id(const struct job *j)
{
	return j->entry_id;
}

const char *job_id(const struct job *j)
{
	return j->id;
}

void job_cancel(struct job *j)
{
	log_info("job.cancel", "job=%s entry=%s phase=%s", j->id, j->entry_id,
		 job_phase_name(j->sm.phase));
	job_feed_kind(j, JOB_IN_CANCEL);
}

void job_abandon(struct job *j)
{
	log_warn("job.abandoned", "job=%s entry=%s phase=%s", j->id, j->entry_id,
		 job_phase_name(j->sm.phase));
	job_feed_kind(j, JOB_IN_ABANDON);
}
