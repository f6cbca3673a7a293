/*
 * Unit tests for worker/job_sm.c: every transition of a job attempt, the output cap arithmetic
 * and the final states and reasons, without Redis or VMs (the machine is pure).
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "job_sm.h"

static struct job_sm_out step(struct job_sm *sm, enum job_input kind)
{
	struct job_sm_in in = { .kind = kind, .attempt = 1 };
	struct job_sm_out out;

	job_sm_step(sm, &in, &out);
	return out;
}

static struct job_sm_out output(struct job_sm *sm, int fd, size_t len)
{
	struct job_sm_in in = { .kind = JOB_IN_OUTPUT, .fd = fd, .len = len };
	struct job_sm_out out;

	job_sm_step(sm, &in, &out);
	return out;
}

static struct job_sm_out exited(struct job_sm *sm, int code, int sig)
{
	struct job_sm_in in = { .kind = JOB_IN_EXITED, .code = code, .sig = sig };
	struct job_sm_out out;

	job_sm_step(sm, &in, &out);
	return out;
}

/* Drives a fresh job to RUNNING with the process started. */
static void to_running(struct job_sm *sm, uint32_t timeout_ms, uint64_t output_max)
{
	struct job_sm_out out;

	job_sm_init(sm, timeout_ms, output_max, 3, NULL);
	out = step(sm, JOB_IN_ATTEMPT);
	assert_int_equal(out.acts, JOB_ACT_EVENTS | JOB_ACT_START_VM);
	assert_int_equal(out.nevents, 2);
	assert_int_equal(out.events[0], WIRE_STATE_CLAIMED);
	assert_int_equal(out.events[1], WIRE_STATE_STARTING);
	assert_int_equal(sm->phase, JOB_BOOTING);
	out = step(sm, JOB_IN_VM_READY);
	assert_int_equal(out.acts, JOB_ACT_EXEC);
	out = step(sm, JOB_IN_STARTED);
	assert_int_equal(out.acts, JOB_ACT_EVENTS);
	assert_int_equal(out.nevents, 1);
	assert_int_equal(out.events[0], WIRE_STATE_RUNNING);
	assert_int_equal(sm->phase, JOB_RUNNING);
}

static void test_success(void **state)
{
	struct job_sm sm;
	struct job_sm_out out;

	(void)state;
	to_running(&sm, 60000, 1024);
	out = output(&sm, 1, 10);
	assert_int_equal(out.acts, JOB_ACT_PUBLISH);
	assert_int_equal(out.publish_len, 10);
	out = output(&sm, 2, 5);
	assert_int_equal(out.publish_len, 5);
	out = exited(&sm, 0, 0);
	assert_int_equal(out.acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	assert_int_equal(sm.state, WIRE_STATE_SUCCEEDED);
	assert_true(sm.has_exit_code);
	assert_int_equal(sm.exit_code, 0);
	assert_string_equal(sm.reason, "");
	assert_int_equal(sm.stdout_bytes, 10);
	assert_int_equal(sm.stderr_bytes, 5);
	assert_false(sm.truncated);
	/* nothing but the write's completion moves it now */
	assert_int_equal(step(&sm, JOB_IN_TIMEOUT).acts, 0);
	assert_int_equal(exited(&sm, 1, 0).acts, 0);
	assert_int_equal(output(&sm, 1, 3).acts, 0);
	out = step(&sm, JOB_IN_WRITTEN);
	assert_int_equal(out.acts, JOB_ACT_FREE);
	assert_int_equal(sm.phase, JOB_DONE);
	assert_int_equal(step(&sm, JOB_IN_WRITTEN).acts, 0);
	assert_int_equal(step(&sm, JOB_IN_ABANDON).acts, 0);
}

static void test_exit_code_and_signal(void **state)
{
	struct job_sm sm;
	struct job_sm_out out;

	(void)state;
	to_running(&sm, 60000, 1024);
	out = exited(&sm, 3, 0);
	assert_int_equal(out.acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	assert_int_equal(sm.state, WIRE_STATE_FAILED);
	assert_true(sm.has_exit_code);
	assert_int_equal(sm.exit_code, 3);
	assert_int_equal(sm.signal, 0);

	to_running(&sm, 60000, 1024);
	exited(&sm, -1, 9);
	assert_int_equal(sm.state, WIRE_STATE_FAILED);
	assert_false(sm.has_exit_code);
	assert_int_equal(sm.signal, 9);
	assert_string_equal(sm.reason, "killed by signal 9");
}

static void test_output_cap(void **state)
{
	struct job_sm sm;
	struct job_sm_out out;

	(void)state;
	to_running(&sm, 60000, 10);
	out = output(&sm, 1, 6);
	assert_int_equal(out.acts, JOB_ACT_PUBLISH);
	assert_int_equal(out.publish_len, 6);
	out = output(&sm, 2, 6);	/* 2 bytes over: keep 4, kill, wait for the EXIT */
	assert_int_equal(out.acts, JOB_ACT_PUBLISH | JOB_ACT_KILL | JOB_ACT_REAP);
	assert_int_equal(out.publish_len, 4);
	assert_int_equal(sm.phase, JOB_REAPING);
	assert_int_equal(sm.state, WIRE_STATE_FAILED);
	assert_string_equal(sm.limit, "output");
	assert_true(sm.truncated);
	assert_false(sm.has_exit_code);
	assert_string_equal(sm.reason, "output limit 10 bytes exceeded");
	assert_int_equal(sm.stdout_bytes, 6);
	assert_int_equal(sm.stderr_bytes, 6);
	assert_int_equal(sm.kept, 10);
	assert_int_equal(output(&sm, 1, 100).acts, 0);	/* nothing more is published */
	out = exited(&sm, -1, 9);			/* the kill's EXIT, no guest limit */
	assert_int_equal(out.acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	assert_int_equal(sm.state, WIRE_STATE_FAILED);
	assert_string_equal(sm.limit, "output");
	assert_string_equal(sm.reason, "output limit 10 bytes exceeded");

	/* exactly at the cap is fine, one byte more is not */
	to_running(&sm, 60000, 10);
	assert_int_equal(output(&sm, 1, 10).publish_len, 10);
	assert_int_equal(sm.phase, JOB_RUNNING);
	out = output(&sm, 1, 1);
	assert_int_equal(out.acts, JOB_ACT_KILL | JOB_ACT_REAP);	/* no room left */
	assert_true(sm.truncated);

	/* an empty chunk publishes nothing and changes nothing */
	to_running(&sm, 60000, 10);
	assert_int_equal(output(&sm, 1, 0).acts, 0);
}

static void test_timeout(void **state)
{
	struct job_sm sm;
	struct job_sm_out out;

	(void)state;
	to_running(&sm, 2000, 1024);
	out = step(&sm, JOB_IN_TIMEOUT);
	assert_int_equal(out.acts, JOB_ACT_KILL | JOB_ACT_REAP);	/* kill, wait for the EXIT */
	assert_int_equal(sm.phase, JOB_REAPING);
	assert_int_equal(sm.state, WIRE_STATE_TIMED_OUT);
	assert_string_equal(sm.reason, "timeout 2000 ms");
	assert_string_equal(sm.limit, "time");
	out = exited(&sm, -1, 9);	/* the kill's exit ends the job, it is not a second end */
	assert_int_equal(out.acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	assert_int_equal(sm.state, WIRE_STATE_TIMED_OUT);
	assert_false(sm.has_exit_code);
	assert_int_equal(exited(&sm, 0, 0).acts, 0);
	assert_string_equal(sm.limit, "time");

	/* no EXIT within the grace (a hung guest): the second timer ends it */
	to_running(&sm, 2000, 1024);
	step(&sm, JOB_IN_TIMEOUT);
	out = step(&sm, JOB_IN_TIMEOUT);
	assert_int_equal(out.acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	assert_int_equal(sm.state, WIRE_STATE_TIMED_OUT);
	assert_string_equal(sm.reason, "timeout 2000 ms");

	/* a cancel or the VM dying while reaping keeps the decided state; the worker exiting hands
	 * the entry back */
	to_running(&sm, 2000, 1024);
	step(&sm, JOB_IN_TIMEOUT);
	assert_int_equal(step(&sm, JOB_IN_CANCEL).acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	assert_int_equal(sm.state, WIRE_STATE_TIMED_OUT);
	to_running(&sm, 2000, 1024);
	step(&sm, JOB_IN_TIMEOUT);
	assert_int_equal(step(&sm, JOB_IN_VM_FAILED).acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	to_running(&sm, 2000, 1024);
	step(&sm, JOB_IN_TIMEOUT);
	assert_int_equal(step(&sm, JOB_IN_ABANDON).acts, JOB_ACT_STOP | JOB_ACT_HANDBACK);
}

static struct job_sm_out exited_limit(struct job_sm *sm, int code, int sig, const char *limit)
{
	struct job_sm_in in = { .kind = JOB_IN_EXITED, .code = code, .sig = sig, .limit = limit };
	struct job_sm_out out;

	job_sm_step(sm, &in, &out);
	return out;
}

#define MIB (1024ull * 1024ull)

/* Issue 6: the limit a job hit, from the guest's EXIT or the worker's own clock and cap. */
static void test_limits(void **state)
{
	struct job_sm sm;
	struct job_sm_out out;

	(void)state;
	/* under every limit: no limit, no reason */
	to_running(&sm, 60000, 1024);
	job_sm_set_limits(&sm, 208 * MIB, 512, 128 * MIB);
	out = exited_limit(&sm, 0, 0, "");
	assert_int_equal(sm.state, WIRE_STATE_SUCCEEDED);
	assert_string_equal(sm.limit, "");
	assert_string_equal(sm.reason, "");
	to_running(&sm, 60000, 1024);
	exited_limit(&sm, 0, 0, NULL);
	assert_string_equal(sm.limit, "");

	/* memory: failed, whatever the exit */
	to_running(&sm, 60000, 1024);
	job_sm_set_limits(&sm, 208 * MIB, 512, 128 * MIB);
	out = exited_limit(&sm, -1, 9, "memory");
	assert_int_equal(out.acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	assert_int_equal(sm.state, WIRE_STATE_FAILED);
	assert_string_equal(sm.limit, "memory");
	assert_string_equal(sm.reason, "memory limit 208 MiB hit (OOM kill)");
	assert_int_equal(sm.signal, 9);
	to_running(&sm, 60000, 1024);
	job_sm_set_limits(&sm, 200 * MIB, 512, 128 * MIB);
	exited_limit(&sm, 0, 0, "memory");	/* a child was the victim, the shell exited 0 */
	assert_int_equal(sm.state, WIRE_STATE_FAILED);
	assert_string_equal(sm.reason, "memory limit 200 MiB hit (OOM kill)");
	to_running(&sm, 60000, 1024);
	exited_limit(&sm, -1, 9, "memory");	/* no limit set: the VM ran out */
	assert_string_equal(sm.reason, "out of memory (OOM kill)");

	/* pids and disk: the state follows the exit, the reason leads with the limit */
	to_running(&sm, 60000, 1024);
	job_sm_set_limits(&sm, 208 * MIB, 512, 128 * MIB);
	exited_limit(&sm, 0, 0, "pids");
	assert_int_equal(sm.state, WIRE_STATE_SUCCEEDED);
	assert_string_equal(sm.limit, "pids");
	assert_string_equal(sm.reason, "pids limit 512 hit");
	to_running(&sm, 60000, 1024);
	job_sm_set_limits(&sm, 208 * MIB, 512, 128 * MIB);
	exited_limit(&sm, -1, 15, "pids");
	assert_int_equal(sm.state, WIRE_STATE_FAILED);
	assert_string_equal(sm.reason, "pids limit 512 hit; killed by signal 15");
	to_running(&sm, 60000, 1024);
	job_sm_set_limits(&sm, 208 * MIB, 512, 128 * MIB);
	exited_limit(&sm, 1, 0, "disk");
	assert_int_equal(sm.state, WIRE_STATE_FAILED);
	assert_int_equal(sm.exit_code, 1);
	assert_string_equal(sm.limit, "disk");
	assert_string_equal(sm.reason, "disk limit 128 MiB full");

	/* a fork bomb: timed out, but the guest's pids limit names the cause */
	to_running(&sm, 8000, 1024);
	job_sm_set_limits(&sm, 208 * MIB, 512, 128 * MIB);
	step(&sm, JOB_IN_TIMEOUT);
	assert_string_equal(sm.limit, "time");
	out = exited_limit(&sm, -1, 9, "pids");
	assert_int_equal(out.acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	assert_int_equal(sm.state, WIRE_STATE_TIMED_OUT);
	assert_string_equal(sm.limit, "pids");
	assert_string_equal(sm.reason, "pids limit 512 hit; timeout 8000 ms");

	/* a job with outputs: the kill's EXIT arrives while collecting */
	job_sm_init(&sm, 3000, 1024, 3, NULL);
	job_sm_set_needs(&sm, JOB_NEED_COLLECT);
	job_sm_set_limits(&sm, 208 * MIB, 512, 128 * MIB);
	step(&sm, JOB_IN_ATTEMPT);
	step(&sm, JOB_IN_VM_READY);
	step(&sm, JOB_IN_STARTED);
	out = step(&sm, JOB_IN_TIMEOUT);
	assert_int_equal(out.acts, JOB_ACT_KILL | JOB_ACT_COLLECT);
	assert_int_equal(exited_limit(&sm, -1, 9, "pids").acts, 0);
	assert_string_equal(sm.limit, "pids");
	step(&sm, JOB_IN_COLLECTED);
	assert_int_equal(sm.state, WIRE_STATE_TIMED_OUT);
	assert_string_equal(sm.limit, "pids");

	/* a name the agent may not send is ignored */
	to_running(&sm, 60000, 1024);
	exited_limit(&sm, 0, 0, "time");
	assert_string_equal(sm.limit, "");
	assert_int_equal(sm.state, WIRE_STATE_SUCCEEDED);
}

static void test_vm_and_exec_failures(void **state)
{
	struct job_sm sm;
	struct job_sm_in in = { .kind = JOB_IN_VM_FAILED, .text = "boot failed" };
	struct job_sm_out out;

	(void)state;
	/* a VM failure below max_attempts: hand back for a counted retry, no result */
	job_sm_init(&sm, 1000, 10, 3, NULL);
	step(&sm, JOB_IN_ATTEMPT);
	job_sm_step(&sm, &in, &out);
	assert_int_equal(out.acts, JOB_ACT_STOP | JOB_ACT_HANDBACK);
	assert_true(sm.retry);
	assert_string_equal(sm.reason, "vm: boot failed");
	assert_int_equal(step(&sm, JOB_IN_WRITTEN).acts, JOB_ACT_FREE);

	to_running(&sm, 1000, 10);
	in.kind = JOB_IN_EXEC_FAILED;
	in.text = "nosuchcmd: not found (ENOENT)";
	job_sm_step(&sm, &in, &out);
	assert_int_equal(out.acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	assert_string_equal(sm.reason, "exec: nosuchcmd: not found (ENOENT)");

	to_running(&sm, 1000, 10);
	in.kind = JOB_IN_VM_FAILED;
	in.text = NULL;
	job_sm_step(&sm, &in, &out);
	assert_string_equal(sm.reason, "vm: failed");

	/* at the limit: dead-lettered with the reason, never handed back */
	job_sm_init(&sm, 1000, 10, 3, NULL);
	in.kind = JOB_IN_ATTEMPT;
	in.attempt = 3;
	job_sm_step(&sm, &in, &out);
	step(&sm, JOB_IN_VM_READY);
	in.kind = JOB_IN_VM_FAILED;
	in.text = "qemu exited";
	job_sm_step(&sm, &in, &out);
	assert_int_equal(out.acts, JOB_ACT_STOP | JOB_ACT_DEADLETTER);
	assert_int_equal(sm.state, WIRE_STATE_DEAD);
	assert_string_equal(sm.reason, "max attempts 3 reached: vm: qemu exited");
}

static void test_attempts_exhausted_and_cancel(void **state)
{
	struct job_sm sm;
	struct job_sm_in in = { .kind = JOB_IN_ATTEMPT, .attempt = 4 };
	struct job_sm_out out;

	(void)state;
	job_sm_init(&sm, 1000, 10, 3, NULL);
	job_sm_step(&sm, &in, &out);
	assert_int_equal(out.acts, JOB_ACT_DEADLETTER);
	assert_int_equal(out.nevents, 0);
	assert_int_equal(sm.state, WIRE_STATE_DEAD);
	assert_string_equal(sm.reason, "max attempts 3 reached: worker lost");

	/* cancelled while queued: never started */
	job_sm_init(&sm, 1000, 10, 3, NULL);
	in.attempt = 1;
	in.cancelled = true;
	job_sm_step(&sm, &in, &out);
	assert_int_equal(out.acts, JOB_ACT_WRITE_RESULT);
	assert_int_equal(sm.state, WIRE_STATE_CANCELLED);

	/* cancel seen during the lookup */
	job_sm_init(&sm, 1000, 10, 3, NULL);
	assert_int_equal(step(&sm, JOB_IN_CANCEL).acts, 0);
	in.cancelled = false;
	job_sm_step(&sm, &in, &out);
	assert_int_equal(sm.state, WIRE_STATE_CANCELLED);

	/* running: stop the VM, final state cancelled */
	to_running(&sm, 1000, 10);
	assert_int_equal(step(&sm, JOB_IN_CANCEL).acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	assert_int_equal(sm.state, WIRE_STATE_CANCELLED);
	assert_int_equal(step(&sm, JOB_IN_CANCEL).acts, 0);

	/* lost lease: drop without writing */
	to_running(&sm, 1000, 10);
	assert_int_equal(step(&sm, JOB_IN_LOST).acts, JOB_ACT_STOP | JOB_ACT_FREE);
	assert_int_equal(sm.phase, JOB_DONE);
}

static void test_invalid_job(void **state)
{
	struct job_sm sm;
	struct job_sm_in in = { .kind = JOB_IN_ATTEMPT, .attempt = 2 };
	struct job_sm_out out;

	(void)state;
	job_sm_init(&sm, 0, 0, 3, "argv: missing");
	assert_int_equal(sm.state, WIRE_STATE_DEAD);
	job_sm_step(&sm, &in, &out);
	assert_int_equal(out.acts, JOB_ACT_DEADLETTER);
	assert_int_equal(out.nevents, 0);
	assert_int_equal(sm.attempt, 2);
	assert_string_equal(sm.reason, "argv: missing");
	assert_int_equal(step(&sm, JOB_IN_VM_READY).acts, 0);
	assert_int_equal(step(&sm, JOB_IN_WRITTEN).acts, JOB_ACT_FREE);
}

static void test_not_ours_and_abandon(void **state)
{
	struct job_sm sm;

	(void)state;
	job_sm_init(&sm, 1000, 10, 3, NULL);
	assert_int_equal(step(&sm, JOB_IN_VM_READY).acts, 0);	/* nothing before the attempt */
	assert_int_equal(step(&sm, JOB_IN_NOT_OURS).acts, JOB_ACT_FREE);
	assert_int_equal(sm.phase, JOB_DONE);

	to_running(&sm, 1000, 10);
	assert_int_equal(step(&sm, JOB_IN_ABANDON).acts, JOB_ACT_STOP | JOB_ACT_HANDBACK);
	assert_false(sm.retry);
	assert_int_equal(sm.phase, JOB_WRITING);
	assert_int_equal(step(&sm, JOB_IN_WRITTEN).acts, JOB_ACT_FREE);

	job_sm_init(&sm, 1000, 10, 3, NULL);
	step(&sm, JOB_IN_ATTEMPT);
	assert_int_equal(step(&sm, JOB_IN_ABANDON).acts, JOB_ACT_STOP | JOB_ACT_HANDBACK);

	job_sm_init(&sm, 1000, 10, 3, NULL);
	assert_int_equal(step(&sm, JOB_IN_ABANDON).acts, JOB_ACT_STOP | JOB_ACT_FREE);
}

static struct job_sm_out step_text(struct job_sm *sm, enum job_input kind, const char *text,
				   bool transient)
{
	struct job_sm_in in = { .kind = kind, .text = text, .transient = transient };
	struct job_sm_out out;

	job_sm_step(sm, &in, &out);
	return out;
}

/* A repo job: the fetch runs alongside the VM start; either may finish first. */
static void test_repo_flow(void **state)
{
	struct job_sm sm;
	struct job_sm_out out;

	(void)state;
	for (int vm_first = 0; vm_first < 2; vm_first++) {
		job_sm_init(&sm, 1000, 10, 3, NULL);
		job_sm_set_needs(&sm, JOB_NEED_FETCH);
		assert_true(sm.needs & JOB_NEED_PUT);	/* the checkout is put */
		out = step(&sm, JOB_IN_ATTEMPT);
		assert_int_equal(out.acts, JOB_ACT_EVENTS | JOB_ACT_START_VM | JOB_ACT_FETCH);
		assert_int_equal(out.nevents, 2);
		assert_int_equal(out.events[1], WIRE_STATE_STARTING);
		assert_string_equal(out.reasons[1], "fetching repo");
		assert_null(out.reasons[0]);
		out = step(&sm, vm_first ? JOB_IN_VM_READY : JOB_IN_FETCHED);
		assert_int_equal(out.acts, 0);
		assert_int_equal(sm.phase, JOB_BOOTING);
		out = step(&sm, vm_first ? JOB_IN_FETCHED : JOB_IN_VM_READY);
		assert_int_equal(out.acts, JOB_ACT_EVENTS | JOB_ACT_PUT);
		assert_int_equal(out.events[0], WIRE_STATE_STARTING);
		assert_string_equal(out.reasons[0], "placing files");
		assert_int_equal(sm.phase, JOB_PREPARING);
		assert_string_equal(job_phase_name(sm.phase), "preparing");
		assert_int_equal(step(&sm, JOB_IN_STARTED).acts, 0);	/* no exec yet */
		out = step(&sm, JOB_IN_PUT_OK);
		assert_int_equal(out.acts, JOB_ACT_EXEC);
		assert_int_equal(sm.phase, JOB_RUNNING);
		assert_int_equal(step(&sm, JOB_IN_STARTED).acts, JOB_ACT_EVENTS);
		out = exited(&sm, 0, 0);
		assert_int_equal(out.acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
		assert_int_equal(sm.state, WIRE_STATE_SUCCEEDED);
	}

	/* files only: no fetch, a put batch before exec */
	job_sm_init(&sm, 1000, 10, 3, NULL);
	job_sm_set_needs(&sm, JOB_NEED_PUT);
	out = step(&sm, JOB_IN_ATTEMPT);
	assert_int_equal(out.acts, JOB_ACT_EVENTS | JOB_ACT_START_VM);
	assert_null(out.reasons[1]);
	assert_int_equal(step(&sm, JOB_IN_FETCHED).acts, 0);	/* nonsense input: ignored */
	assert_int_equal(step(&sm, JOB_IN_VM_READY).acts, JOB_ACT_EVENTS | JOB_ACT_PUT);
	assert_int_equal(step(&sm, JOB_IN_PUT_OK).acts, JOB_ACT_EXEC);
}

static void test_repo_errors(void **state)
{
	struct job_sm sm;
	struct job_sm_in in = { .kind = JOB_IN_ATTEMPT, .attempt = 3 };
	struct job_sm_out out;

	(void)state;
	/* permanent: failed with the repo's text, VM stopped, no retry */
	job_sm_init(&sm, 1000, 10, 3, NULL);
	job_sm_set_needs(&sm, JOB_NEED_FETCH);
	step(&sm, JOB_IN_ATTEMPT);
	step(&sm, JOB_IN_VM_READY);
	out = step_text(&sm, JOB_IN_FETCH_FAILED, "repo: ref 'nope' not found in git://h/r", false);
	assert_int_equal(out.acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	assert_int_equal(sm.state, WIRE_STATE_FAILED);
	assert_string_equal(sm.reason, "repo: ref 'nope' not found in git://h/r");
	assert_false(sm.retry);
	assert_int_equal(step(&sm, JOB_IN_VM_READY).acts, 0);

	/* transient: handed back like a VM failure */
	job_sm_init(&sm, 1000, 10, 3, NULL);
	job_sm_set_needs(&sm, JOB_NEED_FETCH);
	step(&sm, JOB_IN_ATTEMPT);
	out = step_text(&sm, JOB_IN_FETCH_FAILED, "repo: timed out after 120 s", true);
	assert_int_equal(out.acts, JOB_ACT_STOP | JOB_ACT_HANDBACK);
	assert_true(sm.retry);
	assert_string_equal(sm.reason, "repo: timed out after 120 s");

	/* transient at the limit: dead-lettered */
	job_sm_init(&sm, 1000, 10, 3, NULL);
	job_sm_set_needs(&sm, JOB_NEED_FETCH);
	job_sm_step(&sm, &in, &out);
	out = step_text(&sm, JOB_IN_FETCH_FAILED, "repo: connection refused", true);
	assert_int_equal(out.acts, JOB_ACT_STOP | JOB_ACT_DEADLETTER);
	assert_int_equal(sm.state, WIRE_STATE_DEAD);
	assert_string_equal(sm.reason, "max attempts 3 reached: repo: connection refused");

	/* the agent refused the put batch */
	job_sm_init(&sm, 1000, 10, 3, NULL);
	job_sm_set_needs(&sm, JOB_NEED_PUT);
	step(&sm, JOB_IN_ATTEMPT);
	step(&sm, JOB_IN_VM_READY);
	out = step_text(&sm, JOB_IN_PUT_FAILED, "/etc/x: EACCES", false);
	assert_int_equal(out.acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	assert_string_equal(sm.reason, "files: /etc/x: EACCES");
	assert_int_equal(sm.state, WIRE_STATE_FAILED);

	/* the VM dies while files are put: infrastructure */
	job_sm_init(&sm, 1000, 10, 3, NULL);
	job_sm_set_needs(&sm, JOB_NEED_PUT);
	step(&sm, JOB_IN_ATTEMPT);
	step(&sm, JOB_IN_VM_READY);
	out = step_text(&sm, JOB_IN_VM_FAILED, "agent hung up", false);
	assert_int_equal(out.acts, JOB_ACT_STOP | JOB_ACT_HANDBACK);
	assert_string_equal(sm.reason, "vm: agent hung up");

	/* missing image: failed, not retried */
	job_sm_init(&sm, 1000, 10, 3, NULL);
	step(&sm, JOB_IN_ATTEMPT);
	out = step_text(&sm, JOB_IN_IMAGE_MISSING, "image 'gpu' not available on this worker",
			false);
	assert_int_equal(out.acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	assert_string_equal(sm.reason, "image 'gpu' not available on this worker");

	/* cancel while fetching and while putting */
	job_sm_init(&sm, 1000, 10, 3, NULL);
	job_sm_set_needs(&sm, JOB_NEED_FETCH);
	step(&sm, JOB_IN_ATTEMPT);
	assert_int_equal(step(&sm, JOB_IN_CANCEL).acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	assert_int_equal(sm.state, WIRE_STATE_CANCELLED);
	assert_int_equal(step(&sm, JOB_IN_FETCHED).acts, 0);
	job_sm_init(&sm, 1000, 10, 3, NULL);
	job_sm_set_needs(&sm, JOB_NEED_PUT);
	step(&sm, JOB_IN_ATTEMPT);
	step(&sm, JOB_IN_VM_READY);
	assert_int_equal(step(&sm, JOB_IN_CANCEL).acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	assert_int_equal(sm.state, WIRE_STATE_CANCELLED);
	assert_int_equal(step(&sm, JOB_IN_PUT_OK).acts, 0);

	/* worker exit while preparing: handed back uncounted */
	job_sm_init(&sm, 1000, 10, 3, NULL);
	job_sm_set_needs(&sm, JOB_NEED_PUT);
	step(&sm, JOB_IN_ATTEMPT);
	step(&sm, JOB_IN_VM_READY);
	assert_int_equal(step(&sm, JOB_IN_ABANDON).acts, JOB_ACT_STOP | JOB_ACT_HANDBACK);
	assert_false(sm.retry);
}

/* Drives a job with outputs to RUNNING. */
static void to_running_collect(struct job_sm *sm, uint64_t output_max)
{
	job_sm_init(sm, 2000, output_max, 3, NULL);
	job_sm_set_needs(sm, JOB_NEED_COLLECT);
	step(sm, JOB_IN_ATTEMPT);
	assert_int_equal(step(sm, JOB_IN_VM_READY).acts, JOB_ACT_EXEC);
	step(sm, JOB_IN_STARTED);
}

static void test_collect(void **state)
{
	struct job_sm sm;
	struct job_sm_out out;

	(void)state;
	/* exit: collect (no kill), the state is decided at the exit */
	to_running_collect(&sm, 10);
	out = exited(&sm, 2, 0);
	assert_int_equal(out.acts, JOB_ACT_COLLECT);
	assert_int_equal(sm.phase, JOB_COLLECTING);
	assert_int_equal(sm.state, WIRE_STATE_FAILED);
	assert_int_equal(sm.exit_code, 2);
	assert_int_equal(output(&sm, 1, 5).acts, 0);	/* late output: dropped */
	assert_int_equal(exited(&sm, 0, 0).acts, 0);
	assert_int_equal(step(&sm, JOB_IN_TIMEOUT).acts, 0);
	out = step(&sm, JOB_IN_COLLECTED);
	assert_int_equal(out.acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	assert_int_equal(sm.state, WIRE_STATE_FAILED);
	assert_int_equal(sm.phase, JOB_WRITING);

	/* timeout: kill the process, keep the VM, collect */
	to_running_collect(&sm, 10);
	out = step(&sm, JOB_IN_TIMEOUT);
	assert_int_equal(out.acts, JOB_ACT_KILL | JOB_ACT_COLLECT);
	assert_int_equal(sm.state, WIRE_STATE_TIMED_OUT);
	assert_int_equal(exited(&sm, -1, 9).acts, 0);	/* the kill's exit */
	assert_int_equal(step(&sm, JOB_IN_COLLECTED).acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	assert_int_equal(sm.state, WIRE_STATE_TIMED_OUT);
	assert_string_equal(sm.reason, "timeout 2000 ms");

	/* output limit: the crossing chunk is cut, then kill + collect */
	to_running_collect(&sm, 10);
	out = output(&sm, 1, 15);
	assert_int_equal(out.acts, JOB_ACT_PUBLISH | JOB_ACT_KILL | JOB_ACT_COLLECT);
	assert_int_equal(out.publish_len, 10);
	assert_true(sm.truncated);

	/* a cancel or a VM failure while collecting keeps the decided state */
	to_running_collect(&sm, 10);
	exited(&sm, 0, 0);
	assert_int_equal(step(&sm, JOB_IN_CANCEL).acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	assert_int_equal(sm.state, WIRE_STATE_SUCCEEDED);
	to_running_collect(&sm, 10);
	exited(&sm, 0, 0);
	out = step_text(&sm, JOB_IN_VM_FAILED, "qemu exited", false);
	assert_int_equal(out.acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	assert_int_equal(sm.state, WIRE_STATE_SUCCEEDED);
	assert_false(sm.retry);

	/* cancel while running: no collection; exec failure: none either */
	to_running_collect(&sm, 10);
	assert_int_equal(step(&sm, JOB_IN_CANCEL).acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);
	assert_int_equal(sm.state, WIRE_STATE_CANCELLED);
	to_running_collect(&sm, 10);
	out = step_text(&sm, JOB_IN_EXEC_FAILED, "x: ENOENT", false);
	assert_int_equal(out.acts, JOB_ACT_STOP | JOB_ACT_WRITE_RESULT);

	/* worker exit while collecting: handed back */
	to_running_collect(&sm, 10);
	exited(&sm, 0, 0);
	assert_int_equal(step(&sm, JOB_IN_ABANDON).acts, JOB_ACT_STOP | JOB_ACT_HANDBACK);
	/* a lost lease while collecting: dropped */
	to_running_collect(&sm, 10);
	exited(&sm, 0, 0);
	assert_int_equal(step(&sm, JOB_IN_LOST).acts, JOB_ACT_STOP | JOB_ACT_FREE);
}

static void test_started_once(void **state)
{
	struct job_sm sm;

	(void)state;
	to_running(&sm, 1000, 10);
	assert_int_equal(step(&sm, JOB_IN_STARTED).acts, 0);	/* one running event only */
	assert_string_equal(job_phase_name(JOB_WRITING), "writing");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_exit_code_and_signal),
		cmocka_unit_test(test_output_cap),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_vm_and_exec_failures),
		cmocka_unit_test(test_invalid_job),
		cmocka_unit_test(test_attempts_exhausted_and_cancel),
		cmocka_unit_test(test_not_ours_and_abandon),
		cmocka_unit_test(test_started_once),
		cmocka_unit_test(test_repo_flow),
		cmocka_unit_test(test_repo_errors),
		cmocka_unit_test(test_collect),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
