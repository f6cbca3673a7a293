/*
 * job_sm: transitions of one job attempt. Inputs that make no sense in a phase (late VM events
 * after the final decision, a second exit) are ignored, never fatal. It must stay free of I/O,
 * clocks and allocation.
 */
#include "job_sm.h"

#include <stdio.h>
#include <string.h>

const char *job_phase_name(enum job_phase p)
{
	static const char *const names[] = { "lookup",	   "booting", "preparing", "running",
					     "reaping",	   "collecting", "writing", "done" };

	return (unsigned)p < sizeof(names) / sizeof(names[0]) ? names[p] : "?";
}

void job_sm_init(struct job_sm *sm, uint32_t timeout_ms, uint64_t output_max,
		 uint32_t max_attempts, const char *invalid_reason)
{
	memset(sm, 0, sizeof(*sm));
	sm->max_attempts = max_attempts ? max_attempts : 1;
	sm->phase = JOB_LOOKUP;
	sm->timeout_ms = timeout_ms;
	sm->output_max = output_max;
	sm->state = WIRE_STATE_QUEUED;
	if (invalid_reason) {
		sm->invalid = true;
		sm->state = WIRE_STATE_DEAD;
		snprintf(sm->reason, sizeof(sm->reason), "%s", invalid_reason);
	}
}

void job_sm_set_limits(struct job_sm *sm, uint64_t mem_max, uint32_t pids_max, uint64_t disk_max)
{
	sm->mem_max = mem_max;
	sm->pids_max = pids_max;
	sm->disk_max = disk_max;
}

static void set_limit(struct job_sm *sm, const char *limit)
{
	snprintf(sm->limit, sizeof(sm->limit), "%s", limit);
}

/* The guest limit the agent reported (NULL/"": none) becomes the job's limit, said first in
 * the reason; an OOM kill's reason stands alone (the SIGKILL is implied). */
static void guest_limit(struct job_sm *sm, const char *limit)
{
	char was[WIRE_REASON_MAX + 1], what[96];
	const unsigned long long mib = 1024 * 1024;

	if (!limit || !*limit || !wire_limit_valid(limit, true))
		return;
	set_limit(sm, limit);
	snprintf(was, sizeof(was), "%s", sm->reason);
	if (strcmp(limit, "memory") == 0) {
		if (sm->mem_max)
			snprintf(sm->reason, sizeof(sm->reason), "memory limit %llu MiB hit (OOM kill)",
				 (unsigned long long)sm->mem_max / mib);
		else
			snprintf(sm->reason, sizeof(sm->reason), "out of memory (OOM kill)");
		return;
	}
	if (strcmp(limit, "pids") == 0)
		snprintf(what, sizeof(what), "pids limit %u hit", (unsigned)sm->pids_max);
	else
		snprintf(what, sizeof(what), "disk limit %llu MiB full",
			 (unsigned long long)sm->disk_max / mib);
	if (was[0])
		snprintf(sm->reason, sizeof(sm->reason), "%.50s; %.200s", what, was);
	else
		snprintf(sm->reason, sizeof(sm->reason), "%s", what);
}

void job_sm_set_needs(struct job_sm *sm, unsigned needs)
{
	sm->needs = needs;
	if (needs & JOB_NEED_FETCH)
		sm->needs |= JOB_NEED_PUT;	/* the checkout is put into the VM */
}

static void event_why(struct job_sm_out *out, enum wire_state st, const char *why)
{
	out->acts |= JOB_ACT_EVENTS;
	if (out->nevents < sizeof(out->events) / sizeof(out->events[0])) {
		out->reasons[out->nevents] = why;
		out->events[out->nevents++] = st;
	}
}

static void event(struct job_sm_out *out, enum wire_state st)
{
	event_why(out, st, NULL);
}

/* Decides the final state (the reason is set by the caller); job.c stops the VM and writes
 * the result. */
static void finish(struct job_sm *sm, struct job_sm_out *out, enum wire_state st)
{
	sm->phase = JOB_WRITING;
	sm->state = st;
	out->acts |= JOB_ACT_STOP | JOB_ACT_WRITE_RESULT;
}

static void finish_text(struct job_sm *sm, struct job_sm_out *out, const char *what,
			const char *text)
{
	snprintf(sm->reason, sizeof(sm->reason), "%s: %s", what, text && *text ? text : "failed");
	finish(sm, out, WIRE_STATE_FAILED);
}

/* The infrastructure failed under the job (the VM died, a transient repo error): retry
 * elsewhere, or dead-letter at the limit. what: "vm" or NULL when text names itself. */
static void infra_failed(struct job_sm *sm, struct job_sm_out *out, const char *what,
			 const char *text)
{
	char why[WIRE_REASON_MAX + 1];

	snprintf(why, sizeof(why), "%s%s%.240s", what ? what : "", what ? ": " : "",
		 text && *text ? text : "failed");
	sm->phase = JOB_WRITING;
	out->acts |= JOB_ACT_STOP;
	if (sm->deliveries < sm->max_attempts) {
		snprintf(sm->reason, sizeof(sm->reason), "%s", why);
		sm->retry = true;
		out->acts |= JOB_ACT_HANDBACK;
		return;
	}
	snprintf(sm->reason, sizeof(sm->reason), "max attempts %u reached: %.220s",
		 (unsigned)sm->max_attempts, why);
	sm->state = WIRE_STATE_DEAD;
	out->acts |= JOB_ACT_DEADLETTER;
}

static void vm_failed(struct job_sm *sm, struct job_sm_out *out, const char *text)
{
	infra_failed(sm, out, "vm", text);
}

/* The process is over (or being killed: kill) with final state st: collect the outputs first
 * when the job has any; a killed process's EXIT is awaited (REAPING) for the guest's limit. */
static void ended(struct job_sm *sm, struct job_sm_out *out, enum wire_state st, bool kill)
{
	if (!(sm->needs & JOB_NEED_COLLECT) && kill) {
		sm->phase = JOB_REAPING;
		sm->state = st;
		out->acts |= JOB_ACT_KILL | JOB_ACT_REAP;
		return;
	}
	if (!(sm->needs & JOB_NEED_COLLECT)) {
		finish(sm, out, st);
		return;
	}
	sm->phase = JOB_COLLECTING;
	sm->state = st;
	out->acts |= JOB_ACT_COLLECT | (kill ? JOB_ACT_KILL : 0);
}

static void on_output(struct job_sm *sm, const struct job_sm_in *in, struct job_sm_out *out)
{
	uint64_t room = sm->output_max - sm->kept;

	if (in->fd == 2)
		sm->stderr_bytes += in->len;
	else
		sm->stdout_bytes += in->len;
	sm->first_output = true;
	if (in->len <= room) {
		sm->kept += in->len;
		if (in->len > 0) {
			out->acts |= JOB_ACT_PUBLISH;
			out->publish_len = in->len;
		}
		return;
	}
	if (room > 0) {
		out->acts |= JOB_ACT_PUBLISH;
		out->publish_len = (size_t)room;
	}
	sm->kept = sm->output_max;
	sm->truncated = true;
	snprintf(sm->reason, sizeof(sm->reason), "output limit %llu bytes exceeded",
		 (unsigned long long)sm->output_max);
	set_limit(sm, "output");
	ended(sm, out, WIRE_STATE_FAILED, true);
}

static void on_exited(struct job_sm *sm, const struct job_sm_in *in, struct job_sm_out *out)
{
	enum wire_state st = WIRE_STATE_FAILED;

	if (in->code >= 0) {
		sm->has_exit_code = true;
		sm->exit_code = in->code;
		if (in->code == 0)
			st = WIRE_STATE_SUCCEEDED;
	} else {
		sm->signal = in->sig > 0 ? in->sig : 0;
		snprintf(sm->reason, sizeof(sm->reason), "killed by signal %d", (int)sm->signal);
	}
	guest_limit(sm, in->limit);
	if (strcmp(sm->limit, "memory") == 0)
		st = WIRE_STATE_FAILED;	/* an OOM kill fails the job even if the process exited 0 */
	ended(sm, out, st, false);
}

static void step_running(struct job_sm *sm, const struct job_sm_in *in, struct job_sm_out *out)
{
	switch (in->kind) {
	case JOB_IN_STARTED:
		if (!sm->started) {
			sm->started = true;
			event(out, WIRE_STATE_RUNNING);
		}
		break;
	case JOB_IN_OUTPUT:
		on_output(sm, in, out);
		break;
	case JOB_IN_EXITED:
		on_exited(sm, in, out);
		break;
	case JOB_IN_EXEC_FAILED:
		finish_text(sm, out, "exec", in->text);
		break;
	case JOB_IN_VM_FAILED:
		vm_failed(sm, out, in->text);
		break;
	case JOB_IN_CANCEL:
		snprintf(sm->reason, sizeof(sm->reason), "cancelled");
		finish(sm, out, WIRE_STATE_CANCELLED);
		break;
	case JOB_IN_TIMEOUT:
		snprintf(sm->reason, sizeof(sm->reason), "timeout %u ms", (unsigned)sm->timeout_ms);
		set_limit(sm, "time");
		ended(sm, out, WIRE_STATE_TIMED_OUT, true);
		break;
	default:
		break;
	}
}

static void cancelled(struct job_sm *sm, struct job_sm_out *out)
{
	snprintf(sm->reason, sizeof(sm->reason), "cancelled");
	finish(sm, out, WIRE_STATE_CANCELLED);
}

/* VM ready and (for a repo job) the checkout fetched: put the files, or exec at once. */
static void maybe_prepare(struct job_sm *sm, struct job_sm_out *out)
{
	if (!sm->vm_ready || ((sm->needs & JOB_NEED_FETCH) && !sm->fetched))
		return;
	if (sm->needs & JOB_NEED_PUT) {
		sm->phase = JOB_PREPARING;
		event_why(out, WIRE_STATE_STARTING, "placing files");
		out->acts |= JOB_ACT_PUT;
		return;
	}
	sm->phase = JOB_RUNNING;
	out->acts |= JOB_ACT_EXEC;
}

static void step_booting(struct job_sm *sm, const struct job_sm_in *in, struct job_sm_out *out)
{
	switch (in->kind) {
	case JOB_IN_VM_READY:
		sm->vm_ready = true;
		maybe_prepare(sm, out);
		break;
	case JOB_IN_FETCHED:
		sm->fetched = true;
		maybe_prepare(sm, out);
		break;
	case JOB_IN_FETCH_FAILED:
		if (in->transient) {
			infra_failed(sm, out, NULL, in->text && *in->text ? in->text
									 : "repo: fetch failed");
			break;
		}
		snprintf(sm->reason, sizeof(sm->reason), "%s",
			 in->text && *in->text ? in->text : "repo: fetch failed");
		finish(sm, out, WIRE_STATE_FAILED);
		break;
	case JOB_IN_IMAGE_MISSING:
		snprintf(sm->reason, sizeof(sm->reason), "%s",
			 in->text && *in->text ? in->text : "image not available on this worker");
		finish(sm, out, WIRE_STATE_FAILED);
		break;
	case JOB_IN_VM_FAILED:
		vm_failed(sm, out, in->text);
		break;
	case JOB_IN_CANCEL:
		cancelled(sm, out);
		break;
	default:
		break;
	}
}

static void step_preparing(struct job_sm *sm, const struct job_sm_in *in, struct job_sm_out *out)
{
	switch (in->kind) {
	case JOB_IN_PUT_OK:
		sm->phase = JOB_RUNNING;
		out->acts |= JOB_ACT_EXEC;
		break;
	case JOB_IN_PUT_FAILED:
		finish_text(sm, out, "files", in->text);
		break;
	case JOB_IN_VM_FAILED:
		vm_failed(sm, out, in->text);
		break;
	case JOB_IN_CANCEL:
		cancelled(sm, out);
		break;
	default:
		break;
	}
}

/* Killed, final state decided: the EXIT (with the guest's limit) or the end of the grace, a
 * cancel or the VM dying writes that state. */
static void step_reaping(struct job_sm *sm, const struct job_sm_in *in, struct job_sm_out *out)
{
	switch (in->kind) {
	case JOB_IN_EXITED:
		guest_limit(sm, in->limit);
		finish(sm, out, sm->state);
		break;
	case JOB_IN_TIMEOUT:
	case JOB_IN_CANCEL:
	case JOB_IN_VM_FAILED:
		finish(sm, out, sm->state);
		break;
	default:
		break;
	}
}

/* The final state is decided; only the artefacts are still coming. Whatever ends the
 * collection (getend, its time limit, a cancel, the VM dying) writes that state. A killed
 * process's EXIT may still name a guest limit. */
static void step_collecting(struct job_sm *sm, const struct job_sm_in *in, struct job_sm_out *out)
{
	switch (in->kind) {
	case JOB_IN_EXITED:
		guest_limit(sm, in->limit);
		break;
	case JOB_IN_COLLECTED:
	case JOB_IN_CANCEL:
	case JOB_IN_VM_FAILED:
		finish(sm, out, sm->state);
		break;
	default:
		break;
	}
}

void job_sm_step(struct job_sm *sm, const struct job_sm_in *in, struct job_sm_out *out)
{
	memset(out, 0, sizeof(*out));
	if (sm->phase == JOB_DONE)
		return;
	if (in->kind == JOB_IN_LOST) {
		sm->phase = JOB_DONE;
		out->acts = JOB_ACT_STOP | JOB_ACT_FREE;
		return;
	}
	if (in->kind == JOB_IN_ABANDON) {
		if (sm->phase == JOB_BOOTING || sm->phase == JOB_PREPARING ||
		    sm->phase == JOB_RUNNING || sm->phase == JOB_REAPING ||
		    sm->phase == JOB_COLLECTING) {
			sm->phase = JOB_WRITING;
			sm->retry = false;
			snprintf(sm->reason, sizeof(sm->reason), "worker stopping");
			out->acts = JOB_ACT_STOP | JOB_ACT_HANDBACK;
			return;
		}
		sm->phase = JOB_DONE;
		out->acts = JOB_ACT_STOP | JOB_ACT_FREE;
		return;
	}
	switch (sm->phase) {
	case JOB_LOOKUP:
		if (in->kind == JOB_IN_NOT_OURS) {
			sm->phase = JOB_DONE;
			out->acts = JOB_ACT_FREE;
		} else if (in->kind == JOB_IN_CANCEL) {
			sm->cancel_requested = true;
		} else if (in->kind == JOB_IN_ATTEMPT) {
			sm->attempt = in->attempt ? in->attempt : 1;
			sm->deliveries = in->deliveries ? in->deliveries : sm->attempt;
			if (sm->invalid) {
				sm->phase = JOB_WRITING;
				out->acts = JOB_ACT_DEADLETTER;
				return;
			}
			if (sm->deliveries > sm->max_attempts) {
				/* the previous holders died: never run it once more */
				snprintf(sm->reason, sizeof(sm->reason),
					 "max attempts %u reached: worker lost",
					 (unsigned)sm->max_attempts);
				sm->state = WIRE_STATE_DEAD;
				sm->phase = JOB_WRITING;
				out->acts = JOB_ACT_DEADLETTER;
				return;
			}
			if (in->cancelled || sm->cancel_requested) {
				snprintf(sm->reason, sizeof(sm->reason), "cancelled before start");
				finish(sm, out, WIRE_STATE_CANCELLED);
				out->acts &= ~JOB_ACT_STOP;
				return;
			}
			sm->phase = JOB_BOOTING;
			event(out, WIRE_STATE_CLAIMED);
			event_why(out, WIRE_STATE_STARTING,
				  (sm->needs & JOB_NEED_FETCH) ? "fetching repo" : NULL);
			out->acts |= JOB_ACT_START_VM;
			if (sm->needs & JOB_NEED_FETCH)
				out->acts |= JOB_ACT_FETCH;
		}
		break;
	case JOB_BOOTING:
		step_booting(sm, in, out);
		break;
	case JOB_PREPARING:
		step_preparing(sm, in, out);
		break;
	case JOB_RUNNING:
		step_running(sm, in, out);
		break;
	case JOB_REAPING:
		step_reaping(sm, in, out);
		break;
	case JOB_COLLECTING:
		step_collecting(sm, in, out);
		break;
	case JOB_WRITING:
		if (in->kind == JOB_IN_WRITTEN) {
			sm->phase = JOB_DONE;
			out->acts = JOB_ACT_FREE;
		}
		break;
	case JOB_DONE:
		break;
	}
}
