/*
 * output: a job attempt's writer of its output stream and channel. Each message (an output chunk
 * or a lifecycle event, numbered (attempt, seq)) is XADDed to `<base>out:<job>` (capped with
 * MAXLEN ~) and PUBLISHed on the channel of the same name, pipelined on the commands connection.
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

struct output {
	struct rconn *rc;
	char key[REDIS_KEYS_NAME_MAX];	/* stream and channel */
	char worker[WIRE_WORKER_MAX + 1];
	uint32_t attempt;
	uint64_t seq;			/* next message's number */
	unsigned expire_s;		/* set on the stream with the first message */
	bool expire_set;
	uint64_t lost;			/* messages not sent: Redis was unreachable */
	struct buf enc;
};

void output_init(struct output *o, struct rconn *rc, const struct redis_keys *k, const char *job_id,
		 const char *worker, uint32_t attempt, unsigned expire_s);
void output_fini(struct output *o);
/* Sends a lifecycle event. 0 or negative errno (the message is counted in o->lost). */
int output_event(struct output *o, enum wire_state st, const char *reason);
/* Sends len bytes of fd (1|2), split into messages of ≤ WIRE_CHUNK_MAX. 0 or negative errno. */
int output_chunk(struct output *o, int fd, const uint8_t *data, size_t len);
/* Encodes the final event (next seq) into out (reset first), for the result script. */
int output_final(struct output *o, enum wire_state st, const char *reason, struct buf *out);

#endif
