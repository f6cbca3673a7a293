/*
 * result: the one atomic step that ends a job attempt. A Lua script (EVALSHA, NOSCRIPT → EVAL)
 * that, while this consumer still owns the queue entry, SETs the result record with EX ttl,
 * appends the final event to the output stream, EXPIREs it, PUBLISHes the final event, XACKs and
 * XDELs the entry (ack and delete together: Redis 7.0 trimming would drop pending entries).
 * An entry that vanished without a result (Redis lost it) still gets the result. The ownership
 * check is the fence of lease.h: (consumer, delivery count). It does not encode.
 */
#ifndef CORRALD_RESULT_H
#define CORRALD_RESULT_H

#include "buf.h"
#include "redis_keys.h"
#include "redis_conn.h"

struct redisReply;

enum result_outcome {
	RESULT_WRITTEN,		/* done: result stored, entry acked */
	RESULT_GONE,		/* the entry is not pending any more (an earlier try went through) */
	RESULT_NOT_OWNER,	/* another consumer owns the entry now: nothing was written */
	RESULT_LOST,		/* the entry vanished (Redis lost it); the result was written anyway */
	RESULT_UNKNOWN,		/* connection lost or error: try again */
};

typedef void result_done_fn(enum result_outcome o, void *priv);

struct result_write {
	const char *entry_id;
	const char *job_id;
	const char *consumer;
	uint32_t attempt;		/* run number: fencing token with consumer (lease.h) */
	const struct buf *result;	/* wire_result encoding */
	const struct buf *final_msg;	/* wire_msg encoding of the final event */
	unsigned ttl_s;
};

/* SCRIPT LOAD of the scripts of result.c (call from the commands connection's up hook). */
void result_scripts_load(struct rconn *rc);
/* Runs the script; fn follows exactly once unless this returns < 0. */
int result_write(struct rconn *rc, const struct redis_keys *k, const struct result_write *w,
		 result_done_fn *fn, void *priv);
/* Maps a script's reply ("ok" | "gone" | "not_owner" | "lost" | error | NULL). Shared with
 * deadletter. */
enum result_outcome result_outcome_of(const struct redisReply *reply, const char *what);
const char *result_outcome_name(enum result_outcome o);

#endif
