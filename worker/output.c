/*
 * output: encodes messages with libwire and sends XADD + PUBLISH (+ EXPIRE once) without waiting
 * for replies; replies are only checked for errors, which are logged sparingly. It never blocks.
 * Output survives a Redis outage: a message that could not be sent (connection down) or whose
 * outcome is unknown (a NULL reply on disconnect) goes to a backlog, bounded by
 * OUTPUT_BACKLOG_MAX bytes, that output_flush() resends in order once Redis is back and always
 * before the result is written. Resending is safe: the append script skips an (attempt, seq) it
 * has already appended.
 */
#define LOG_MOD "output"
#include "output.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "lease.h"
#include "log.h"
#include "script.h"
#include "util.h"

static uint64_t output_errors;

/* KEYS: jobs, result, out, seq, run. ARGV: group, entry, consumer, run, msg, maxlen, expire_s,
 * attempt, seq, resend. The seq hash keeps the highest appended seq per attempt, so a resent
 * message (its first send's outcome was unknown) is not appended twice. Only resends are
 * checked: a first send is always appended, because a NOSCRIPT fallback (script.c) may deliver
 * first sends out of order, and skipping those would lose output. A resend cannot overtake: the
 * backlog goes out, in order, before anything newer. */
static struct script append_script = {
	.name = "append",
	.src = LEASE_FENCE_LUA
	       "local f = fence()\n"
	       "if f ~= 'ok' and f ~= 'lost' then return 'not_owner' end\n"
	       "local last = tonumber(redis.call('HGET', KEYS[4], ARGV[8]) or '-1')\n"
	       "local seq = tonumber(ARGV[9])\n"
	       "if ARGV[10] == '1' and last >= seq then return f end\n"
	       "if seq > last then redis.call('HSET', KEYS[4], ARGV[8], ARGV[9]) end\n"
	       "redis.call('EXPIRE', KEYS[4], ARGV[7])\n"
	       "redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'm', ARGV[5])\n"
	       "redis.call('EXPIRE', KEYS[3], ARGV[7])\n"
	       "redis.call('PUBLISH', KEYS[3], ARGV[5])\n"
	       "return f\n",
};

static void fence_put(struct output_fence *f)
{
	if (f && --f->refs == 0) {
		buf_free(&f->inflight);
		buf_free(&f->backlog);
		free(f);
	}
}

/* A queue holds records of [u32 length][encoded msg][u64 seq]. */
static int queue_push(struct buf *q, const uint8_t *msg, uint32_t len, uint64_t seq)
{
	int r = buf_reserve(q, sizeof(len) + len + sizeof(seq));

	if (r < 0)
		return r;
	(void)buf_append(q, &len, sizeof(len));
	(void)buf_append(q, msg, len);
	(void)buf_append(q, &seq, sizeof(seq));
	return 0;
}

static size_t queue_head(const struct buf *q, const uint8_t **msg, uint32_t *len, uint64_t *seq)
{
	if (q->len < sizeof(*len))
		return 0;
	memcpy(len, q->data, sizeof(*len));
	*msg = q->data + sizeof(*len);
	memcpy(seq, q->data + sizeof(*len) + *len, sizeof(*seq));
	return sizeof(*len) + *len + sizeof(*seq);
}

static void on_reply(struct rconn *rc, struct redisReply *reply, void *priv)
{
	struct output_fence *f = priv;

	const uint8_t *msg;
	uint32_t len;
	uint64_t seq;
	size_t n;

	(void)rc;
	/* replies come in send order: the head of inflight is this reply's message */
	n = queue_head(&f->inflight, &msg, &len, &seq);
	if (n && !reply && f->refused) {	/* outcome unknown: resend after reconnect */
		if (queue_push(&f->backlog, msg, len, seq) < 0)
			f->dropped++;
	}
	buf_consume(&f->inflight, n);
	if (reply && reply->type == REDIS_REPLY_ERROR && output_errors++ % 100 == 0)
		log_warn("output.write_failed", "err=\"%.200s\" errors=%llu", reply->str,
			 (unsigned long long)output_errors);
	if (reply && reply->type == REDIS_REPLY_STRING && !strcmp(reply->str, "not_owner") &&
	    f->refused) {
		void (*fn)(void *) = f->refused;

		f->refused = NULL;	/* once */
		fn(f->ud);
	}
	fence_put(f);
}

void output_scripts_load(struct rconn *rc)
{
	(void)script_load(rc, &append_script);
}

int output_init(struct output *o, struct rconn *rc, const struct redis_keys *k, const char *job_id,
		const char *entry_id, const char *worker, uint32_t attempt, unsigned expire_s,
		void (*refused)(void *ud), void *ud)
{
	memset(o, 0, sizeof(*o));
	o->fence = calloc(1, sizeof(*o->fence));
	if (!o->fence)
		return -ENOMEM;
	o->fence->refs = 1;
	buf_init(&o->fence->inflight, OUTPUT_BACKLOG_MAX);
	buf_init(&o->fence->backlog, OUTPUT_BACKLOG_MAX);
	o->fence->refused = refused;
	o->fence->ud = ud;
	o->rc = rc;
	o->k = k;
	redis_keys_out(k, job_id, o->key);
	snprintf(o->job_id, sizeof(o->job_id), "%s", job_id);
	snprintf(o->entry_id, sizeof(o->entry_id), "%s", entry_id);
	snprintf(o->worker, sizeof(o->worker), "%s", worker);
	o->attempt = attempt;
	o->expire_s = expire_s;
	buf_init(&o->enc, WIRE_CHUNK_MAX + 1024);
	return 0;
}

void output_fini(struct output *o)
{
	if (o->fence) {
		o->fence->refused = NULL;
		fence_put(o->fence);
		o->fence = NULL;
	}
	buf_free(&o->enc);
}

/* Sends one encoded message through the append script and tracks it until its reply. */
static int send_encoded(struct output *o, const uint8_t *msg, uint32_t len, uint64_t seq,
			bool resend)
{
	char rkey[REDIS_KEYS_NAME_MAX], runkey[REDIS_KEYS_NAME_MAX], seqkey[REDIS_KEYS_NAME_MAX + 8];
	char att[16], ttl[16], seqs[24];
	const char *args[15];
	size_t lens[15];
	int r;

	r = queue_push(&o->fence->inflight, msg, len, seq);
	if (r < 0)
		return r;
	redis_keys_result(o->k, o->job_id, rkey);
	snprintf(att, sizeof(att), "%u", (unsigned)o->attempt);
	snprintf(ttl, sizeof(ttl), "%u", o->expire_s);
	snprintf(seqs, sizeof(seqs), "%llu", (unsigned long long)seq);
	snprintf(seqkey, sizeof(seqkey), "%s:seq", o->key);
	lease_key(o->k, "run", o->entry_id, runkey);
	args[0] = o->k->jobs;
	args[1] = rkey;
	args[2] = o->key;
	args[3] = seqkey;
	args[4] = runkey;
	args[5] = REDIS_KEYS_GROUP;
	args[6] = o->entry_id;
	args[7] = o->worker;
	args[8] = att;
	args[9] = (const char *)msg;
	args[10] = OUTPUT_STREAM_ENTRIES_STR;
	args[11] = ttl;
	args[12] = att;
	args[13] = seqs;
	args[14] = resend ? "1" : "0";
	for (int i = 0; i < 15; i++)
		lens[i] = i == 9 ? len : strlen(args[i]);
	o->fence->refs++;
	r = script_eval(o->rc, &append_script, 5, 15, args, lens, on_reply, o->fence);
	if (r < 0) {
		o->fence->refs--;
		o->fence->inflight.len -= sizeof(len) + len + sizeof(seq);	/* undo the push */
	}
	return r;
}

static int send_msg(struct output *o, const struct wire_msg *m)
{
	struct errmsg err;
	int r;

	buf_reset(&o->enc);
	r = wire_msg_encode(m, &o->enc, &err);
	if (r < 0) {
		log_error("output.encode_failed", "err=\"%s\"", err.msg);
		return r;
	}
	/* keep order: once something waits in the backlog, new messages queue behind it */
	if (o->fence->backlog.len == 0 && rconn_is_up(o->rc) &&
	    send_encoded(o, o->enc.data, (uint32_t)o->enc.len, m->seq, false) == 0)
		return 0;
	r = queue_push(&o->fence->backlog, o->enc.data, (uint32_t)o->enc.len, m->seq);
	if (r < 0)
		o->lost++;	/* over OUTPUT_BACKLOG_MAX: dropped, counted */
	return r;
}

int output_flush(struct output *o)
{
	struct buf *q = &o->fence->backlog;
	size_t sent = 0;

	while (sent < q->len && rconn_is_up(o->rc)) {
		const uint8_t *msg;
		uint32_t len;
		uint64_t seq;
		struct buf view = *q;
		size_t n;

		view.data = q->data + sent;
		view.len = q->len - sent;
		n = queue_head(&view, &msg, &len, &seq);
		if (!n || send_encoded(o, msg, len, seq, true) < 0)
			break;
		sent += n;
	}
	buf_consume(q, sent);
	return q->len ? -EAGAIN : 0;
}

static void msg_base(struct output *o, struct wire_msg *m, enum wire_msg_kind kind)
{
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->attempt = o->attempt;
	m->seq = o->seq++;
	m->ts_ms = time_now_ms();
}

static void msg_event(struct output *o, struct wire_msg *m, enum wire_state st, const char *reason)
{
	msg_base(o, m, WIRE_MSG_EVENT);
	m->state = st;
	snprintf(m->worker, sizeof(m->worker), "%s", o->worker);
	snprintf(m->reason, sizeof(m->reason), "%s", reason ? reason : "");
}

int output_event(struct output *o, enum wire_state st, const char *reason)
{
	struct wire_msg m;

	msg_event(o, &m, st, reason);
	return send_msg(o, &m);
}

int output_chunk(struct output *o, int fd, const uint8_t *data, size_t len)
{
	struct wire_msg m;
	int r = 0;

	while (len > 0) {
		size_t n = len > WIRE_CHUNK_MAX ? WIRE_CHUNK_MAX : len;
		int rr;

		msg_base(o, &m, WIRE_MSG_OUTPUT);
		m.fd = (uint8_t)fd;
		m.data = (uint8_t *)data;	/* borrowed: the encoder only reads it */
		m.len = n;
		rr = send_msg(o, &m);
		if (rr < 0 && r == 0)
			r = rr;
		data += n;
		len -= n;
	}
	return r;
}

int output_final(struct output *o, enum wire_state st, const char *reason, struct buf *out)
{
	struct wire_msg m;
	struct errmsg err;
	int r;

	msg_event(o, &m, st, reason);
	buf_reset(out);
	r = wire_msg_encode(&m, out, &err);
	if (r < 0)
		log_error("output.encode_failed", "err=\"%s\"", err.msg);
	return r;
}
