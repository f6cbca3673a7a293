/*
 * job_sm: the job state machine as a pure function, step(state, input) → actions. It decides
 * lifecycle events, the final state and reason, and how many bytes of each output chunk may
 * still be kept under output_max. It does no I/O and reads no clock, so every decision is
 * unit-tested (tests/unit/worker/test_job_sm.c); job.c carries the actions out.
 *
 *   LOOKUP --attempt--> BOOTING --vm ready--> RUNNING --exit|timeout|limit|cancel--> WRITING
 *      |  (invalid job, or attempts exhausted: dead-letter; cancelled: result) ----> WRITING
 *      '- (entry not ours) --> DONE                                     WRITING --written--> DONE
 *
 * A VM failure is the infrastructure's fault, not the job's: below max_attempts the entry is
 * handed back (retried elsewhere after a backoff), at the limit it is dead-lettered. Losing the
 * lease (another worker owns the entry now) drops the attempt without writing anything; the
 * worker exiting hands running jobs back without counting a delivery.
 */
#ifndef CORRALD_JOB_SM_H
#define CORRALD_JOB_SM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

enum job_phase {
	JOB_LOOKUP,	/* asking Redis for the delivery count (= attempt) */
	JOB_BOOTING,	/* VM starting */
	JOB_RUNNING,	/* exec sent: process starting or running */
	JOB_WRITING,	/* final state decided; result or dead-letter script pending */
	JOB_DONE,	/* nothing left: free the job */
};

enum job_input {
	JOB_IN_ATTEMPT,		/* .attempt: the entry is ours, delivered that many times */
	JOB_IN_NOT_OURS,	/* the entry is not pending for us any more */
	JOB_IN_VM_READY,
	JOB_IN_VM_FAILED,	/* .text */
	JOB_IN_EXEC_FAILED,	/* .text: vm_exec refused, or the agent could not start it */
	JOB_IN_STARTED,
	JOB_IN_OUTPUT,		/* .fd, .len */
	JOB_IN_EXITED,		/* .code ≥ 0, or .code == -1 and .sig > 0 */
	JOB_IN_TIMEOUT,
	JOB_IN_WRITTEN,		/* the final script finished (written, gone or not ours) */
	JOB_IN_ABANDON,		/* worker exits: hand the entry back without a result */
	JOB_IN_LOST,		/* fencing said not_owner: another worker owns the entry now */
	JOB_IN_CANCEL,		/* a client cancelled the job */
};

struct job_sm_in {
	enum job_input kind;
	uint32_t attempt;	/* JOB_IN_ATTEMPT: the run number (what readers see) */
	uint32_t deliveries;	/* JOB_IN_ATTEMPT: the delivery count (what max_attempts counts) */
	bool cancelled;		/* JOB_IN_ATTEMPT: the cancel flag is set */
	int fd;
	size_t len;
	int code, sig;
	const char *text;
};

enum job_act {
	JOB_ACT_EVENTS = 1 << 0,	/* emit out.events[0..nevents) as lifecycle events */
	JOB_ACT_START_VM = 1 << 1,
	JOB_ACT_EXEC = 1 << 2,		/* vm_exec and arm the wall-clock timer */
	JOB_ACT_PUBLISH = 1 << 3,	/* send out.publish_len bytes of this chunk */
	JOB_ACT_STOP = 1 << 4,		/* stop the timer, destroy the VM */
	JOB_ACT_WRITE_RESULT = 1 << 5,	/* run the result script with the final fields */
	JOB_ACT_DEADLETTER = 1 << 6,	/* run the dead-letter script */
	JOB_ACT_FREE = 1 << 7,
	JOB_ACT_HANDBACK = 1 << 8,	/* give the entry back (sm.retry: after a backoff, counted) */
};

struct job_sm_out {
	unsigned acts;
	enum wire_state events[2];
	unsigned nevents;
	size_t publish_len;
};

struct job_sm {
	enum job_phase phase;
	bool invalid;			/* decode failed: dead-letter once the attempt is known */
	uint32_t attempt;		/* run number */
	uint32_t deliveries;
	uint32_t max_attempts;
	bool cancel_requested;		/* cancel seen before the attempt was known */
	bool retry;			/* HANDBACK: an infrastructure failure (counted, backoff) */
	uint32_t timeout_ms;
	uint64_t output_max;
	uint64_t kept;			/* bytes published */
	uint64_t stdout_bytes, stderr_bytes;	/* produced, including dropped bytes */
	bool truncated;
	bool started;
	bool first_output;		/* set by the first OUTPUT input */
	/* the final outcome, valid from JOB_WRITING on */
	enum wire_state state;
	bool has_exit_code;
	int32_t exit_code;
	int32_t signal;
	char reason[WIRE_REASON_MAX + 1];
};

/* invalid_reason: NULL for a valid job, else the decode error (the job will be dead-lettered). */
void job_sm_init(struct job_sm *sm, uint32_t timeout_ms, uint64_t output_max,
		 uint32_t max_attempts, const char *invalid_reason);
void job_sm_step(struct job_sm *sm, const struct job_sm_in *in, struct job_sm_out *out);
const char *job_phase_name(enum job_phase p);

#endif
