/*
 * claim: takes new jobs from the queue stream for this consumer, on its own (blocking)
 * connection: creates the group `workers` (MKSTREAM, from the start of the stream), then blocks
 * on new entries (`>`), asking only for as many entries as there are free slots. Our own pending
 * entries are re-read by the reaper (lease.h), not with XREADGROUP ID 0, which would raise the
 * delivery count (the fencing token) of attempts still running here. It does not decode jobs.
 */
#ifndef CORRALD_CLAIM_H
#define CORRALD_CLAIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redis_keys.h"
#include "redis_conn.h"

struct ev_loop;
struct claim;

#define CLAIM_BLOCK_MS 5000u
#define CLAIM_ENTRY_ID_MAX 48	/* "<ms>-<seq>": two 20-digit numbers and a dash */
#define CLAIM_RETRY_MS 1000u
#define CLAIM_CONSUMER_MAX 64

struct claim_entry {
	const char *entry_id;
	uint64_t queued_ms;	/* the ms part of the entry id: when it was added */
	const uint8_t *job;	/* borrowed for the call; NULL when there is no `job` field */
	size_t job_len;
	bool deleted;		/* pending entry whose body was deleted from the stream */
	const char *reason;	/* why this delivery (takeover, re-read), for the claimed event */
};

struct claim_hooks {
	unsigned (*free_slots)(void *ud);
	/* Takes an entry: 1 when it started handling it, 0 when it skipped it (already running
	 * here). Copies what it keeps; must not call back into claim. */
	int (*entry)(const struct claim_entry *e, void *ud);
};

int claim_new(struct ev_loop *loop, struct rconn *blocking, const struct redis_keys *k,
	      const char *consumer, const struct claim_hooks *hooks, void *ud, struct claim **ret);
struct claim *claim_free(struct claim *c);
/* The blocking connection is (again) up: create the group, restart from our pending entries. */
void claim_on_up(struct claim *c);
/* A slot may have come free: read now unless a read is in flight. */
void claim_kick(struct claim *c);
/* Stop reading. Entries delivered by a read still in flight stay in our pending list. */
void claim_stop(struct claim *c);

/* Parses the ms part of a stream entry id. 0 or -EINVAL. */
int claim_entry_ms(const char *id, uint64_t *ms);

#endif
