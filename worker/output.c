/*
 * output: encodes messages with libwire and sends XADD + PUBLISH (+ EXPIRE once) without waiting
 * for replies; replies are only checked for errors, which are logged sparingly. It never blocks
 * and never retries: output is best effort, the result record is what must not be lost.
 */
#define LOG_MOD "output"
#include "output.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "log.h"
#include "util.h"

static uint64_t output_errors;

static void on_reply(struct rconn *rc, struct redisReply *reply, void *priv)
{
	(void)rc;
	(void)priv;
	if (reply && reply->type == REDIS_REPLY_ERROR && output_errors++ % 100 == 0)
		log_warn("output.write_failed", "err=\"%.200s\" errors=%llu", reply->str,
			 (unsigned long long)output_errors);
}

void output_init(struct output *o, struct rconn *rc, const struct redis_keys *k, const char *job_id,
		 const char *worker, uint32_t attempt, unsigned expire_s)
{
	memset(o, 0, sizeof(*o));
	o->rc = rc;
	redis_keys_out(k, job_id, o->key);
	snprintf(o->worker, sizeof(o->worker), "%s", worker);
	o->attempt = attempt;
	o->expire_s = expire_s;
	buf_init(&o->enc, WIRE_CHUNK_MAX + 1024);
}

void output_fini(struct output *o)
{
	buf_free(&o->enc);
}

static int send_msg(struct output *o, const struct wire_msg *m)
{
	char ttl[24];
	const char *xadd[] = { "XADD", o->key, "MAXLEN", "~", OUTPUT_STREAM_ENTRIES_STR, "*", "m",
			       NULL };
	size_t xadd_lens[8];
	const char *pub[] = { "PUBLISH", o->key, NULL };
	size_t pub_lens[3];
	const char *exp[] = { "EXPIRE", o->key, ttl };
	size_t exp_lens[3];
	struct errmsg err;
	int r;

	buf_reset(&o->enc);
	r = wire_msg_encode(m, &o->enc, &err);
	if (r < 0) {
		log_error("output.encode_failed", "err=\"%s\"", err.msg);
		return r;
	}
	for (int i = 0; i < 7; i++)
		xadd_lens[i] = strlen(xadd[i]);
	xadd[7] = (const char *)o->enc.data;
	xadd_lens[7] = o->enc.len;
	r = rconn_argv(o->rc, on_reply, NULL, 8, xadd, xadd_lens);
	if (r < 0)
		goto lost;
	if (!o->expire_set) {
		snprintf(ttl, sizeof(ttl), "%u", o->expire_s);
		for (int i = 0; i < 3; i++)
			exp_lens[i] = strlen(exp[i]);
		if (rconn_argv(o->rc, on_reply, NULL, 3, exp, exp_lens) == 0)
			o->expire_set = true;
	}
	pub_lens[0] = 7;
	pub_lens[1] = strlen(o->key);
	pub[2] = (const char *)o->enc.data;
	pub_lens[2] = o->enc.len;
	r = rconn_argv(o->rc, on_reply, NULL, 3, pub, pub_lens);
	if (r < 0)
		goto lost;
	return 0;
lost:
	o->lost++;
	return r;
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
