/*
 * output: a job attempt's writer of its output stream and channel. Each message (an output chunk
 * or a lifecycle event, numbered (attempt, seq)) is XADDed to `<base>out:<job>` (capped with
 * MAXLEN ~, expired) and PUBLISHed on the channel of the same name by one fenced script
 * (lease.h): an attempt that lost its entry appends nothing and hears `refused`. Pipelined on
 * the commands connection, no reply awaited.
 * The final event is only encoded here: the result script appends and publishes it. It does not
 * decide limits: the job state machine tells it how many bytes to send.
 */
#ifndef CORRALD_OUTPUT_H
#define CORRALD_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "redis_keys.h"
#include "redis_conn.h"
#include "wire.h"

#define OUTPUT_STREAM_ENTRIES_MAX 100000u	/* MAXLEN ~ of an output stream */
#define OUTPUT_STREAM_ENTRIES_STR "100000"

/* Messages waiting for Redis (over: dropped and counted in lost): the job's output cap plus
 * room for its events. */
#define OUTPUT_BACKLOG_MAX ((size_t)WIRE_OUTPUT_MAX_LIMIT + 1024u * 1024u)

/* Shared with in-flight appends, so a reply after the job was freed finds refused == NULL. */
struct output_fence {
	unsigned refs;
	struct buf inflight;		/* sent, reply not yet seen, in send order */
	struct buf backlog;		/* to resend once Redis is back, in order */
	uint64_t dropped;
	void (*refused)(void *ud);	/* not_owner: the attempt lost its entry */
	void *ud;
};

struct output {
	struct rconn *rc;
	const struct redis_keys *k;
	char entry_id[48 + 1];
	char job_id[WIRE_ID_MAX + 1];
	struct output_fence *fence;
	char key[REDIS_KEYS_NAME_MAX];	/* stream and channel */
	char worker[WIRE_WORKER_MAX + 1];
	uint32_t attempt;
	uint64_t seq;			/* next message's number */
	unsigned expire_s;		/* set on the stream with every message */
	uint64_t lost;			/* messages not sent: Redis was unreachable */
	struct buf enc;
};

/* refused(ud) runs (from a reply callback) when an append was refused by the fence. 0 or
 * -ENOMEM. */
int output_init(struct output *o, struct rconn *rc, const struct redis_keys *k, const char *job_id,
		const char *entry_id, const char *worker, uint32_t attempt, unsigned expire_s,
		void (*refused)(void *ud), void *ud);
void output_scripts_load(struct rconn *rc);
void output_fini(struct output *o);
/* Sends a lifecycle event. 0 or negative errno (the message is counted in o->lost). */
int output_event(struct output *o, enum wire_state st, const char *reason);
/* Sends len bytes of fd (1|2), split into messages of ≤ WIRE_CHUNK_MAX. 0 or negative errno. */
int output_chunk(struct output *o, int fd, const uint8_t *data, size_t len);
/* Resends the backlog in order while the connection is up. 0 when it is empty, -EAGAIN when
 * messages still wait. Call after a reconnect and before writing the result. */
int output_flush(struct output *o);
/* Encodes the final event (next seq) into out (reset first), for the result script. */
int output_final(struct output *o, enum wire_state st, const char *reason, struct buf *out);

#endif
