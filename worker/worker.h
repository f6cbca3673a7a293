/*
 * worker: the running corrald. Owns the two Redis connections, the claim loop, the set of
 * running jobs (at most `concurrency`), and shutdown: on SIGTERM/SIGINT it stops claiming, lets
 * running jobs finish for up to the drain timeout, abandons the rest (their entries stay pending
 * for a re-run) and stops the loop. It knows neither the job's steps nor Redis key layouts.
 */
#ifndef CORRALD_WORKER_H
#define CORRALD_WORKER_H

#include "config.h"

struct ev_loop;
struct vm_runtime;
struct worker;

/* Starts connecting and claiming on loop. cfg and rt must outlive the worker. */
int worker_new(struct ev_loop *loop, const struct config *cfg, struct vm_runtime *rt,
	       struct worker **ret, struct errmsg *reterr);
struct worker *worker_free(struct worker *w);
/* Begins a graceful stop (what SIGTERM does). A second call abandons running jobs at once. */
void worker_shutdown(struct worker *w);

#endif
