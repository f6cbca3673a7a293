/*
 * job_sm: the job state machine as a pure function, step(state, input) → actions. It decides
 * lifecycle events, the final state and reason, and how many bytes of each output chunk may
 * still be kept under output_max. It does no I/O and reads no clock, so every decision is
 * unit-tested (tests/unit/worker/test_job_sm.c); job.c carries the actions out.
 *
 *   LOOKUP --attempt--> BOOTING --vm ready [+ repo fetched]--> PREPARING --putok--> RUNNING
 *      |                     (no files, no repo: straight to RUNNING) ------------->  |
 *      |  (invalid job, or attempts exhausted: dead-letter; cancelled: result)         |
 *      |                                                    exit|timeout|limit|cancel  v
 *      '- (entry not ours) --> DONE      WRITING <--collected-- COLLECTING <--(outputs)--'
 *                                         ^ |  (no outputs, cancel, exec failure: WRITING)
 *                                         | '--written--> DONE
 *              REAPING --exit|grace over--'   (timeout/output cap without outputs: kill first)
 *
 * A repo job fetches (repo.h) while its VM starts; both must be done before PREPARING, where
 * the checkout and the job's files are put into the VM (one put batch, answered by putok or an
 * error). COLLECTING gathers the job's `outputs` after the process ended (exit, signal,
 * timeout, output limit; the final state is already decided there and does not change).
 * Limits (issue 6): the wall clock and the output cap are the worker's ("time", "output"); the
 * agent's EXIT names a guest limit (memory, pids, disk), which wins as the result's `limit`
 * because it is the likelier cause (a fork bomb at its pids limit runs until the timeout). A
 * killed process's EXIT is therefore waited for (REAPING, or COLLECTING for jobs with outputs).
 * An OOM kill fails the job; pids and disk leave the state to how the process ended.
 * A VM failure, or a transient repo error, is the infrastructure's fault, not the job's: below
 * max_attempts the entry is handed back (retried elsewhere after a backoff), at the limit it is
 * dead-lettered. A permanent repo error, a refused put or a missing image fail the job at once.
 * Losing the lease (another worker owns the entry now) drops the attempt without writing
 * anything; the worker exiting hands running jobs back without counting a delivery.
 */
#ifndef CORRALD_JOB_SM_H
#define CORRALD_JOB_SM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

enum job_phase {
	JOB_LOOKUP,	/* asking Redis for the delivery count (= attempt) */
	JOB_BOOTING,	/* VM starting (and the repo being fetched) */
	JOB_PREPARING,	/* checkout and files being put into the VM */
	JOB_RUNNING,	/* exec sent: process starting or running */
	JOB_REAPING,	/* killed (timeout, output cap), final state decided: waiting briefly for
			 * the agent's EXIT, which names a guest limit the process hit */
	JOB_COLLECTING,	/* process ended, final state decided: artefacts being read */
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
	JOB_IN_EXITED,		/* .code ≥ 0, or .code == -1 and .sig > 0; .limit */
	JOB_IN_TIMEOUT,		/* the wall clock ran out (REAPING: the grace for EXIT did) */
	JOB_IN_WRITTEN,		/* the final script finished (written, gone or not ours) */
	JOB_IN_ABANDON,		/* worker exits: hand the entry back without a result */
	JOB_IN_LOST,		/* fencing said not_owner: another worker owns the entry now */
	JOB_IN_CANCEL,		/* a client cancelled the job */
	JOB_IN_FETCHED,		/* the repo checkout is ready (repo_fetch done, err 0) */
	JOB_IN_FETCH_FAILED,	/* .text ("repo: ..."), .transient */
	JOB_IN_IMAGE_MISSING,	/* .text: the job's image is not on this worker */
	JOB_IN_PUT_OK,		/* the agent placed the put batch (putok) */
	JOB_IN_PUT_FAILED,	/* .text: the agent's error for the batch */
	JOB_IN_COLLECTED,	/* getend, the collect time limit, or nothing more will come */
};

/* What a job needs besides exec (job_sm_set_needs). */
#define JOB_NEED_FETCH (1u << 0)	/* a repo to fetch before the files are put */
#define JOB_NEED_PUT (1u << 1)		/* a put batch (checkout and/or files) before exec */
#define JOB_NEED_COLLECT (1u << 2)	/* outputs to read after the process ended */

struct job_sm_in {
	enum job_input kind;
	uint32_t attempt;	/* JOB_IN_ATTEMPT: the run number (what readers see) */
	uint32_t deliveries;	/* JOB_IN_ATTEMPT: the delivery count (what max_attempts counts) */
	bool cancelled;		/* JOB_IN_ATTEMPT: the cancel flag is set */
	int fd;
	size_t len;
	int code, sig;
	const char *text;
	bool transient;		/* JOB_IN_FETCH_FAILED: a retry may help */
	const char *limit;	/* JOB_IN_EXITED: the guest limit the agent saw hit: NULL or "",
				 * "memory", "pids", "disk" (vm_exit_limit()) */
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
	JOB_ACT_FETCH = 1 << 9,		/* start the repo fetch (alongside START_VM) */
	JOB_ACT_PUT = 1 << 10,		/* stream checkout + files + putend into the VM */
	JOB_ACT_KILL = 1 << 11,		/* stop the timer, SIGKILL the process, keep the VM */
	JOB_ACT_COLLECT = 1 << 12,	/* stop the timer, send get, arm the collect time limit */
	JOB_ACT_REAP = 1 << 13,		/* (after KILL) arm the timer for JOB_REAP_GRACE_MS */
};

/* How long a killed process's EXIT is waited for: it says which guest limit was hit (a fork
 * bomb at its pids limit that then times out). The agent answers in milliseconds; a hung guest
 * costs this much. */
#define JOB_REAP_GRACE_MS 5000u

struct job_sm_out {
	unsigned acts;
	enum wire_state events[2];
	const char *reasons[2];		/* static text of each event, or NULL */
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
	unsigned needs;			/* JOB_NEED_* */
	bool vm_ready, fetched;		/* BOOTING: both needed before PREPARING */
	/* the final outcome, valid from JOB_WRITING on */
	enum wire_state state;
	bool has_exit_code;
	int32_t exit_code;
	int32_t signal;
	char reason[WIRE_REASON_MAX + 1];
	/* resource limits (issue 6): the exec's (job_sm_set_limits, for the reason) and the one the
	 * job hit: "" | time | memory | pids | disk | output (the result's `limit`) */
	uint64_t mem_max, disk_max;	/* bytes */
	uint32_t pids_max;
	char limit[WIRE_LIMIT_NAME_MAX + 1];
};

/* invalid_reason: NULL for a valid job, else the decode error (the job will be dead-lettered). */
void job_sm_init(struct job_sm *sm, uint32_t timeout_ms, uint64_t output_max,
		 uint32_t max_attempts, const char *invalid_reason);
/* Sets what the job needs besides exec (JOB_NEED_*); call after job_sm_init(), before the first
 * step. Default: nothing (boot, exec, write). */
void job_sm_set_needs(struct job_sm *sm, unsigned needs);
/* The limits the exec runs with (vm_exec_req), quoted in the reason when one is hit. */
void job_sm_set_limits(struct job_sm *sm, uint64_t mem_max, uint32_t pids_max, uint64_t disk_max);
void job_sm_step(struct job_sm *sm, const struct job_sm_in *in, struct job_sm_out *out);
const char *job_phase_name(enum job_phase p);

#endif
