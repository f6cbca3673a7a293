/*
 * job_get: collects a job's artefacts after its process ended: one `get` (the job's outputs,
 * max = artefacts_max, as uid/gid 1000), then the agent's `file` frames are assembled into
 * wire_artefacts until `getend`, an `error` for this id, or a time limit. The guest is
 * untrusted: whatever it sends, at most `max` data bytes and WIRE_ARTEFACTS_COUNT_MAX artefacts
 * are kept, and chunks that do not continue their file are dropped (the artefact is then marked
 * truncated). It logs nothing and does not know about results beyond handing the artefacts out.
 */
#ifndef CORRALD_JOB_GET_H
#define CORRALD_JOB_GET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

struct ev_loop;
struct vm;
struct job_get;

#define JOB_GET_UID 1000u
#define JOB_GET_GID 1000u
#define JOB_GET_TIMEOUT_MS 30000u	/* getend not seen by then: keep what arrived */

/* complete: getend arrived (else: time limit, an error reply, or a send failure; the
 * artefacts so far are kept and count as truncated). Called once, from the loop. */
typedef void job_get_done_fn(void *ud, bool complete, const char *why);

/* Sends the get. patterns are copied into the frame at once; 0 or -errno (then done() never
 * runs). */
int job_get_start(struct ev_loop *loop, struct vm *vm, char *const *patterns, size_t npatterns,
		  uint64_t max, unsigned timeout_ms, job_get_done_fn *done, void *ud,
		  struct job_get **ret, struct errmsg *reterr);
/* Offers an agent frame (FILE, GETEND, ERROR); true when it belonged to this get. */
bool job_get_frame(struct job_get *g, const struct wire_frame *f);
/* Moves the artefacts out (the caller owns them: artefacts_free() of artset.h);
 * *truncated is true when anything was cut, dropped, or the get did not complete. */
void job_get_take(struct job_get *g, struct wire_artefact **arts, size_t *n, bool *truncated);
/* Frees the get and any artefacts not taken; no callback after this. NULL-safe. */
struct job_get *job_get_free(struct job_get *g);

#endif
