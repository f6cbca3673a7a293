/*
 * lease: the Lua scripts that make an attempt's ownership of a queue entry a lease with a fencing
 * token, and the reaper that takes over expired leases. Every run of an entry draws a number
 * from the counter `<base>run:<entry>` (INCR in begin): the attempt number readers see, and with
 * the consumer name the fencing token. Every write of an attempt checks, inside its script, that
 * XPENDING names this consumer as owner and that the counter still holds this run, so a worker
 * that lost its entry (paused past its lease, taken over, handed back) writes nothing. The
 * delivery count stays what max_attempts is counted on (a hand-back on shutdown does not raise
 * it; the run number still goes up). The result and dead-letter scripts delete the counter.
 *   begin      delivery count, cancel flag and the new run number of a freshly claimed entry
 *   renew      heartbeat: XCLAIM … JUSTID (idle reset, count kept); says cancelled / not_owner
 *   handback   give the entry back: XCLAIM … IDLE i RETRYCOUNT n JUSTID (reapable after a backoff,
 *              or at once and uncounted on shutdown)
 *   release    give back an entry this worker has no slot for (a blocking read and a reap
 *              raced): reapable at once, the delivery not counted
 *   reap       take over entries idle past the lease (others' or our own that no attempt holds),
 *              or re-read our own pending entries after a (re)start
 * It does not decide when to renew or what to retry: job.c and worker.c do.
 */
#ifndef CORRALD_LEASE_H
#define CORRALD_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "redis_keys.h"
#include "redis_conn.h"

#define LEASE_DEFAULT_MS 30000u
#define LEASE_MIN_MS 1000u
#define LEASE_MAX_MS 3600000u
#define LEASE_REAP_ENTRIES_MAX 256u
#define LEASE_SKIP_MAX 256u		/* entries running here, passed to reap */
#define LEASE_BACKOFF_BASE_MS 500u
#define LEASE_BACKOFF_MAX_MS 60000u

enum lease_outcome {
	LEASE_OK,		/* renewed / handed back */
	LEASE_CANCELLED,	/* renewed (or entry lost), and the job's cancel flag is set */
	LEASE_NOT_OWNER,	/* another attempt owns the entry, or it was finished: stop */
	LEASE_LOST,		/* the entry vanished without a result (Redis lost it): keep going */
	LEASE_UNKNOWN,		/* connection lost or error */
};

struct lease_id {
	const char *entry_id;
	const char *job_id;
	const char *consumer;
	uint32_t attempt;		/* run number: the fencing token with the consumer */
};

/* The fencing prelude every fenced script starts with. KEYS[1] jobs, KEYS[2] result, last key
 * the run counter; ARGV[1] group, ARGV[2] entry, ARGV[3] consumer, ARGV[4] run. fence() → 'ok' |
 * 'lost' | 'gone' | 'not_owner'. */
#define LEASE_FENCE_LUA                                                                       \
	"local function fence()\n"                                                            \
	"  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)\n"        \
	"  if #p == 0 then\n"                                                                 \
	"    if redis.call('EXISTS', KEYS[2]) == 1 then return 'gone' end\n"                  \
	"    return 'lost'\n"                                                                 \
	"  end\n"                                                                             \
	"  if p[1][2] ~= ARGV[3] or redis.call('GET', KEYS[#KEYS]) ~= ARGV[4] then\n"       \
	"    return 'not_owner'\n"                                                            \
	"  end\n"                                                                             \
	"  return 'ok'\n"                                                                     \
	"end\n"

/* `<base><what>:<id>` (what: "cancel", "worker", "run") into out. */
void lease_key(const struct redis_keys *k, const char *what, const char *id,
	       char out[REDIS_KEYS_NAME_MAX]);

void lease_scripts_load(struct rconn *rc);

#define LEASE_RUN_TTL_S (7u * 86400u)	/* the run counter outlives a stuck entry this long */

/* begin: fn(deliveries, run, cancelled, priv); deliveries 0 when the entry is not pending for
 * us, -EAGAIN when the outcome is unknown. */
typedef void lease_begin_fn(int deliveries, uint32_t run, bool cancelled, void *priv);
int lease_begin(struct rconn *rc, const struct redis_keys *k, const char *entry_id,
		const char *job_id, const char *consumer, lease_begin_fn *fn, void *priv);

typedef void lease_done_fn(enum lease_outcome o, void *priv);
int lease_renew(struct rconn *rc, const struct redis_keys *k, const struct lease_id *id,
		lease_done_fn *fn, void *priv);
/* idle_ms: the idle time to set (lease - backoff: reapable after backoff); retrycount: the
 * delivery count to leave (attempt - 1 hands back without counting this attempt). */
int lease_handback(struct rconn *rc, const struct redis_keys *k, const struct lease_id *id,
		   uint32_t idle_ms, uint32_t retrycount, lease_done_fn *fn, void *priv);

/* Fire and forget: when it is lost, the entry is reaped after the lease anyway (counted). */
int lease_release(struct rconn *rc, const struct redis_keys *k, const char *entry_id,
		  const char *consumer, uint32_t lease_ms);

/* The backoff before retry number `attempt` (≥ 1): exponential from LEASE_BACKOFF_BASE_MS, capped
 * at cap_ms, with "equal jitter" from rnd (any 32-bit value): [d/2, d]. Pure. */
uint32_t lease_backoff_ms(uint32_t attempt, uint32_t cap_ms, uint32_t rnd);

/* reap: one entry taken over (or re-read). fields as in a stream reply; borrowed. */
struct lease_reaped {
	const char *entry_id;
	const uint8_t *job;		/* NULL when there is no `job` field */
	size_t job_len;
	const char *prev_owner;
	long long idle_ms;
	long long deliveries;
};
struct lease_reap_hooks {
	void (*entry)(const struct lease_reaped *e, bool own, void *ud);
	void (*lost)(const char *entry_id, void *ud);	/* pending, body deleted: purged */
	/* err < 0: unknown/failed; more: it stopped at max with candidates left */
	void (*done)(int err, bool own, unsigned n, bool more, void *ud);
};
/* own: re-read our own pending entries (min idle 0); else take over entries of anyone idle past
 * lease_ms, except those in skip (space-separated entry ids running here). max ≥ 1. */
int lease_reap(struct rconn *rc, const struct redis_keys *k, const char *consumer, bool own,
	       uint32_t lease_ms, unsigned max, const char *skip,
	       const struct lease_reap_hooks *hooks, void *ud);

#endif
