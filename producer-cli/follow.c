/*
 * follow: the live reader. Sync hiredis on two connections: `sub` only ever sees SUBSCRIBE and
 * pushed messages and is read after poll() says so (never blocking); `cmd` does XRANGE/EXISTS
 * with timeouts. Every message is decoded by libwire; bad ones are skipped with a note, never
 * trusted. It must not print anything of the job's to stdout except the job's own stdout.
 */
#include "follow.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "util.h"

static int subscribe(struct follow *f)
{
	redisReply *reply = redisCommand(f->sub, "SUBSCRIBE %s", f->key);
	int ok = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3;

	if (!ok)
		cli_err_reply(f->cli, f->sub, reply, "SUBSCRIBE");
	if (reply)
		freeReplyObject(reply);
	return ok ? 0 : -EIO;
}

int follow_open(struct follow *f, const struct cli *cli, const char *job_id)
{
	memset(f, 0, sizeof(*f));
	f->cli = cli;
	snprintf(f->job_id, sizeof(f->job_id), "%s", job_id);
	redis_keys_out(&cli->keys, job_id, f->key);
	redis_keys_result(&cli->keys, job_id, f->result_key);
	f->cmd = cli_connect(cli, false);
	if (!f->cmd)
		return -ECONNREFUSED;
	f->sub = cli_connect(cli, false);
	if (!f->sub)
		return -ECONNREFUSED;
	return subscribe(f);
}

void follow_close(struct follow *f)
{
	if (f->sub)
		redisFree(f->sub);
	if (f->cmd)
		redisFree(f->cmd);
	f->sub = f->cmd = NULL;
}

struct redisContext *follow_cmd(struct follow *f)
{
	return f->cmd;
}

static void emit(int fd, const uint8_t *data, size_t len)
{
	(void)fd_write_all(fd, data, len);	/* a closed stdout must not stop the follower */
}

/* Applies one decoded message. live: it came from the channel (may reveal a gap). */
static void apply(struct follow *f, const struct wire_msg *m)
{
	if (m->attempt < f->attempt)
		return;		/* an older attempt's straggler */
	if (m->attempt > f->attempt) {
		if (f->attempt && !f->quiet_attempts)
			fprintf(stderr, "corral: job %s: attempt %u (worker %s)\n", f->job_id,
				(unsigned)m->attempt, m->kind == WIRE_MSG_EVENT ? m->worker : "?");
		f->attempt = m->attempt;
		f->next_seq = 0;
	}
	if (m->seq < f->next_seq)
		return;		/* seen already */
	f->next_seq = m->seq + 1;
	if (m->kind == WIRE_MSG_OUTPUT) {
		emit(m->fd == 2 ? 2 : 1, m->data, m->len);
	} else if (wire_state_final(m->state)) {
		f->done = true;
		f->final_state = m->state;
		snprintf(f->final_reason, sizeof(f->final_reason), "%s", m->reason);
	}
}

static void apply_bytes(struct follow *f, const void *data, size_t len)
{
	struct wire_msg *m = NULL;
	struct errmsg err = { "" };

	if (wire_msg_decode(data, len, &m, &err) < 0) {
		fprintf(stderr, "corral: job %s: skipping a bad output message: %s\n", f->job_id,
			err.msg);
		return;
	}
	apply(f, m);
	wire_msg_free(m);
}

/* XRANGE from after last_id, page by page, until the stream has nothing newer. */
int follow_replay(struct follow *f)
{
	char start[80], count[16];
	const char *argv[6];
	size_t lens[6];

	snprintf(count, sizeof(count), "%d", FOLLOW_PAGE);
	for (;;) {
		redisReply *reply;
		size_t n;

		if (f->last_id[0])
			snprintf(start, sizeof(start), "(%s", f->last_id);
		else
			snprintf(start, sizeof(start), "-");
		argv[0] = "XRANGE";
		argv[1] = f->key;
		argv[2] = start;
		argv[3] = "+";
		argv[4] = "COUNT";
		argv[5] = count;
		for (int i = 0; i < 6; i++)
			lens[i] = strlen(argv[i]);
		reply = redisCommandArgv(f->cmd, 6, argv, lens);
		if (!reply || reply->type != REDIS_REPLY_ARRAY) {
			cli_err_reply(f->cli, f->cmd, reply, "XRANGE");
			if (reply)
				freeReplyObject(reply);
			return -EIO;
		}
		n = reply->elements;
		for (size_t i = 0; i < n; i++) {
			const redisReply *e = reply->element[i], *fields;

			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
			    e->element[0]->type != REDIS_REPLY_STRING ||
			    e->element[0]->len >= sizeof(f->last_id))
				continue;
			memcpy(f->last_id, e->element[0]->str, e->element[0]->len);
			f->last_id[e->element[0]->len] = '\0';
			fields = e->element[1];
			if (fields->type != REDIS_REPLY_ARRAY)
				continue;
			for (size_t j = 0; j + 1 < fields->elements; j += 2)
				if (fields->element[j]->type == REDIS_REPLY_STRING &&
				    strcmp(fields->element[j]->str, "m") == 0 &&
				    fields->element[j + 1]->type == REDIS_REPLY_STRING)
					apply_bytes(f, fields->element[j + 1]->str,
						    fields->element[j + 1]->len);
		}
		freeReplyObject(reply);
		if (n < FOLLOW_PAGE)
			return 0;
	}
}

/* A pushed message: ["message", channel, payload]. Gaps are filled from the stream first. */
static int on_push(struct follow *f, const redisReply *r)
{
	struct wire_msg *m = NULL;
	struct errmsg err = { "" };
	int rr = 0;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "message") ||
	    r->element[2]->type != REDIS_REPLY_STRING)
		return 0;	/* subscribe confirmations and the like */
	if (wire_msg_decode(r->element[2]->str, r->element[2]->len, &m, &err) < 0) {
		fprintf(stderr, "corral: job %s: skipping a bad output message: %s\n", f->job_id,
			err.msg);
		return 0;
	}
	if ((m->attempt == f->attempt && m->seq > f->next_seq) ||
	    (m->attempt > f->attempt && m->seq > 0))
		rr = follow_replay(f);
	apply(f, m);
	wire_msg_free(m);
	return rr;
}

static int result_exists(struct follow *f)
{
	redisReply *reply = redisCommand(f->cmd, "EXISTS %s", f->result_key);
	int v = -EIO;

	if (reply && reply->type == REDIS_REPLY_INTEGER)
		v = reply->integer > 0;
	else
		cli_err_reply(f->cli, f->cmd, reply, "EXISTS");
	if (reply)
		freeReplyObject(reply);
	return v;
}

/* Both connections again, with backoff, up to FOLLOW_RECONNECT_MAX_MS. */
static int reconnect(struct follow *f)
{
	uint64_t deadline = time_mono_ms() + FOLLOW_RECONNECT_MAX_MS;
	unsigned delay_ms = 100;

	follow_close(f);
	fprintf(stderr, "corral: job %s: lost Redis, reconnecting\n", f->job_id);
	while (time_mono_ms() < deadline) {
		struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };

		if (f->interrupted && *f->interrupted)
			return -EINTR;
		f->cmd = cli_connect(f->cli, true);
		f->sub = f->cmd ? cli_connect(f->cli, true) : NULL;
		if (f->sub && subscribe(f) == 0)
			return follow_replay(f);
		follow_close(f);
		nanosleep(&ts, NULL);
		delay_ms = delay_ms * 2 > 2000 ? 2000 : delay_ms * 2;
	}
	cli_err(f->cli, "Redis unreachable for %d s", FOLLOW_RECONNECT_MAX_MS / 1000);
	return -ECONNREFUSED;
}

/* Waits for the next pushed message; 1 when one was handled, 0 on idle timeout. */
static int wait_push(struct follow *f, int timeout_ms)
{
	redisReply *reply = NULL;
	struct pollfd p;
	int r;

	if (redisGetReplyFromReader(f->sub, (void **)&reply) != REDIS_OK)
		return -EIO;
	if (!reply) {
		p.fd = f->sub->fd;
		p.events = POLLIN;
		p.revents = 0;
		r = poll(&p, 1, timeout_ms);
		if (r < 0)
			return errno == EINTR ? -EINTR : -errno;
		if (r == 0)
			return 0;
		if (redisBufferRead(f->sub) != REDIS_OK)
			return -EIO;
		if (redisGetReplyFromReader(f->sub, (void **)&reply) != REDIS_OK)
			return -EIO;
		if (!reply)
			return 1;	/* partial message: read more */
	}
	r = on_push(f, reply);
	freeReplyObject(reply);
	return r < 0 ? r : 1;
}

int follow_run(struct follow *f)
{
	uint64_t idle_since = time_mono_ms();
	int r;

	r = follow_replay(f);
	while (r == 0 && !f->done) {
		if (f->interrupted && *f->interrupted)
			return -EINTR;
		r = wait_push(f, 500);
		if (r == -EINTR) {
			r = 0;		/* the flag decides */
			continue;
		}
		if (r == -EIO) {
			r = reconnect(f);
			idle_since = time_mono_ms();
			continue;
		}
		if (r < 0)
			break;
		if (r == 1) {
			idle_since = time_mono_ms();
			r = 0;
			continue;
		}
		if (time_mono_ms() - idle_since < FOLLOW_RESULT_CHECK_MS)
			continue;
		/* quiet for a while: a final event lost while resubscribing? */
		idle_since = time_mono_ms();
		r = result_exists(f);
		if (r < 0) {
			r = reconnect(f);
			continue;
		}
		if (r == 1) {
			r = follow_replay(f);
			if (r == 0 && !f->done)
				f->done = true;	/* the stream lost it (trimmed or expired) */
		} else {
			r = 0;
		}
	}
	if (r == -EINTR || (f->interrupted && *f->interrupted && !f->done))
		return -EINTR;
	return r;
}
