/*
 * deadletter: ends an entry that cannot run (not msgpack, wrong types, missing argv, oversized
 * field, no `job` field, body deleted from the stream) or must not run again (max_attempts
 * deliveries used up) in one atomic script: XADD to the dead
 * stream (id, entry, reason, deliveries, job bytes), and when a job id could be peeked, SET a
 * result with state dead and append + publish the final event; then XACK and XDEL. Same
 * ownership rule and outcomes as result.h. It does not decide what is invalid (libwire does).
 */
#ifndef CORRALD_DEADLETTER_H
#define CORRALD_DEADLETTER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "redis_keys.h"
#include "redis_conn.h"
#include "result.h"

#define DEADLETTER_STREAM_ENTRIES_STR "100000"	/* MAXLEN ~ of the dead stream */

struct deadletter {
	const char *entry_id;
	const char *consumer;
	uint32_t attempt;		/* run number: fencing token with consumer (lease.h) */
	const char *reason;
	const uint8_t *job;		/* raw entry bytes, may be NULL */
	size_t job_len;
	const char *job_id;		/* "" when none could be peeked */
	const struct buf *result;	/* with job_id: wire_result (state dead) */
	const struct buf *final_msg;	/* with job_id: the final event */
	unsigned ttl_s;
};

void deadletter_scripts_load(struct rconn *rc);
int deadletter_write(struct rconn *rc, const struct redis_keys *k, const struct deadletter *d,
		     result_done_fn *fn, void *priv);

#endif
