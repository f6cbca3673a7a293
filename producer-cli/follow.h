/*
 * follow: reads one job's output stream and channel until its final event. It SUBSCRIBEs first
 * (own connection), then replays the stream with XRANGE, then prints live messages; it dedupes
 * by (attempt, seq), fills gaps from the stream, re-subscribes and replays after a dropped
 * connection, and polls for the result so a missed final event cannot hang it. Output chunks go
 * to fds 1 and 2 as they arrive (unbuffered). It does not submit or interpret results.
 */
#ifndef CORRAL_FOLLOW_H
#define CORRAL_FOLLOW_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "wire.h"

#define FOLLOW_PAGE 256			/* XRANGE COUNT */
#define FOLLOW_RESULT_CHECK_MS 2000	/* idle time between result checks */
#define FOLLOW_RECONNECT_MAX_MS 30000	/* give up after this long without Redis */

struct redisContext;

struct follow {
	const struct cli *cli;
	struct redisContext *sub, *cmd;	/* owned */
	char job_id[WIRE_ID_MAX + 1];
	char key[REDIS_KEYS_NAME_MAX];	/* stream and channel */
	char result_key[REDIS_KEYS_NAME_MAX];
	char last_id[64];		/* last stream entry read ("" = none) */
	uint32_t attempt;		/* current attempt, 0 before any message */
	uint64_t next_seq;
	bool done;
	bool quiet_attempts;		/* no "attempt N" notes on stderr */
	enum wire_state final_state;
	char final_reason[WIRE_REASON_MAX + 1];
	volatile sig_atomic_t *interrupted;	/* set by a signal handler: stop waiting */
};

/* Connects both connections and subscribes. 0 or negative errno (printed). */
int follow_open(struct follow *f, const struct cli *cli, const char *job_id);
void follow_close(struct follow *f);
/* The connection for ordinary commands (XADD, GET), borrowed. */
struct redisContext *follow_cmd(struct follow *f);
/* Replays what the stream holds now. 0 or negative errno (printed). */
int follow_replay(struct follow *f);
/* Replays, then follows live until the final event. 0 when done, -EINTR when interrupted,
 * other negative errno on failure (printed). */
int follow_run(struct follow *f);

#endif
