/*
 * job: one claimed queue entry, from decode to the final script. It feeds every outside event
 * (Redis replies, VM callbacks, timers) into the pure state machine (job_sm.h) and carries out
 * the actions it returns: lifecycle events and output (output.h), a fresh VM per job (vm.h), the
 * wall-clock timeout, and the result or dead-letter script. It does not pick entries (claim.c)
 * nor count slots (worker.c). Every job reaches a final state or is abandoned at exit.
 */
#ifndef CORRALD_JOB_H
#define CORRALD_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "claim.h"
#include "redis_keys.h"
#include "redis_conn.h"

struct ev_loop;
struct vm_runtime;
struct job;
struct tcache;
struct wire_template;

#define JOB_RETRY_MS 1000u		/* re-send a lookup or final script after an unknown outcome */
#define JOB_OUT_EXPIRE_EXTRA_S 3600u	/* output stream TTL while running: ttl + timeout + this */

struct job_env {
	struct ev_loop *loop;
	struct rconn *cmd;		/* commands and scripts */
	const struct redis_keys *k;
	const char *worker;		/* consumer name */
	unsigned result_ttl_s;
	struct vm_runtime *vmrt;
	const char *accel;		/* "kvm" | "tcg", for the result */
	uint32_t lease_ms;		/* renewed every lease_ms / 3 while the attempt runs */
	struct tcache *tcache;		/* template records (template_cache.h) */
	void (*done)(struct job *job, void *ud);	/* the job is finished: free it */
	void *ud;
};

/* Takes an entry delivered by claim (copies what it needs) and starts it. 0 or -ENOMEM. */
int job_new(const struct job_env *env, const struct claim_entry *e, struct job **ret);
struct job *job_free(struct job *job);
const char *job_entry_id(const struct job *job);
const char *job_id(const struct job *job);
/* Worker exit: the VM is destroyed and the entry handed back without counting this delivery;
 * env->done() follows when Redis answered (or at once when there is nothing to hand back). */
void job_abandon(struct job *job);
/* A client cancelled the job (pub/sub): a running VM is stopped, the result says cancelled. */
void job_cancel(struct job *job);
/* Renews the lease now (after a reconnect, before any reaper runs on that connection). */
void job_renew_now(struct job *job);
/* The job's template (its own copy: the record, or the built-in `default`), never NULL once
 * the job is past LOOKUP and started its VM; NULL before, and for invalid jobs or templates
 * that were not found. Borrowed: valid while the job lives. */
const struct wire_template *job_template(const struct job *job);
/* True while the job will still need a VM from the budget (claimed, no VM charged yet): the
 * claim counts it against what the budget can start. */
bool job_awaits_vm(const struct job *job);
/* Resends output held back while Redis was unreachable (call after the commands connection is
 * back). */
void job_flush_output(struct job *job);

#endif
