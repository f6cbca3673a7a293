/*
 * job_put: places a job's repo checkout and files in its VM as one put batch (schemas/
 * agent-frame.md): the checkout's already-encoded PUT frames (repo.h's stream) are forwarded as
 * they are, the job's files are encoded here (split into append chunks of WIRE_CHUNK_MAX), then
 * `putend`; the agent's `putok` or `error` ends it. It never blocks the loop: the checkout is
 * read non-blocking and sending pauses while the VM's send backlog is over JOB_PUT_BACKLOG_MAX.
 * It does not decide what a failure means (job_sm does) and logs nothing.
 */
#ifndef CORRALD_JOB_PUT_H
#define CORRALD_JOB_PUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

struct ev_loop;
struct vm;
struct job_put;

#define JOB_PUT_BACKLOG_MAX (4u << 20)	/* bytes queued towards the guest before we pause */
#define JOB_PUT_READ_MAX (256u << 10)	/* bytes read from the checkout stream at a time */
#define JOB_PUT_POLL_MS 5u		/* backlog re-check while paused */
#define JOB_PUT_UID 1000u		/* owner of everything put (the job's user) */
#define JOB_PUT_GID 1000u

enum job_put_outcome {
	JOB_PUT_DONE,		/* putok: every file is in place */
	JOB_PUT_REFUSED,	/* the agent answered error: msg is its message (the job's fault) */
	JOB_PUT_BROKEN,		/* a host-side failure (send, checkout stream): msg says what */
};

/* Called once, from the loop; the job_put may be freed inside. */
typedef void job_put_done_fn(void *ud, enum job_put_outcome o, const char *msg);

/* Starts the batch. checkout_fd (-1: none) is taken over and closed by job_put_free(); files
 * are borrowed until the batch ends. 0 or -errno (then done() never runs). */
int job_put_start(struct ev_loop *loop, struct vm *vm, int checkout_fd,
		  const struct wire_file *files, size_t nfiles, job_put_done_fn *done, void *ud,
		  struct job_put **ret, struct errmsg *reterr);
/* Offers an agent frame (PUTOK, ERROR); true when it belonged to this batch. */
bool job_put_frame(struct job_put *p, const struct wire_frame *f);
/* Frames and file bytes sent so far (checkout included), for logs. */
void job_put_stats(const struct job_put *p, uint64_t *frames, uint64_t *bytes);
/* Stops everything (no callback after this). NULL-safe; returns NULL. */
struct job_put *job_put_free(struct job_put *p);

#endif
