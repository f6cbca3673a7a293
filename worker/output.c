/*
 * output: encodes messages with libwire and sends XADD + PUBLISH (+ EXPIRE once) without waiting
 * for replies; replies are only checked for errors, which are logged sparingly. It never blocks
 * and never retries: output is best effort, the result record is what must not be lost.
 */
#define LOG_MOD "output"
#include "output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "lease.h"
#include "log.h"
#include "script.h"
#include "util.h"

static uint64_t output_errors;

/* KEYS: jobs, result, out, run. ARGV: group, entry, consumer, run, msg, maxlen, expire_s. */
static struct script append_script = {
	.name = "append",
	.src = LEASE_FENCE_LUA
	       "local f = fence()\n"
	       "if f ~= 'ok' and f ~= 'lost' then return 'not_owner' end\n"
	       "redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'm', ARGV[5])\n"
	       "redis.call('EXPIRE', KEYS[3], ARGV[7])\n"
	       "redis.call('PUBLISH', KEYS[3], ARGV[5])\n"
	       "return f\n",
};

static void fence_put(struct output_fence *f)
{
	if (f && --f->refs == 0)
		free(f);
}

static void on_reply(struct rconn *rc, struct redisReply *reply, void *priv)
{
	struct output_fence *f = priv;

	(void)rc;
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

static int send_msg(struct output *o, const struct wire_msg *m)
{
	char rkey[REDIS_KEYS_NAME_MAX], runkey[REDIS_KEYS_NAME_MAX], att[16], ttl[16];
	const char *args[11];
	size_t lens[11];
	struct errmsg err;
	int r;

	buf_reset(&o->enc);
	r = wire_msg_encode(m, &o->enc, &err);
	if (r < 0) {
		log_error("output.encode_failed", "err=\"%s\"", err.msg);
		return r;
	}
	redis_keys_result(o->k, o->job_id, rkey);
	snprintf(att, sizeof(att), "%u", (unsigned)o->attempt);
	snprintf(ttl, sizeof(ttl), "%u", o->expire_s);
	lease_key(o->k, "run", o->entry_id, runkey);
	args[0] = o->k->jobs;
	args[1] = rkey;
	args[2] = o->key;
	args[3] = runkey;
	args[4] = REDIS_KEYS_GROUP;
	args[5] = o->entry_id;
	args[6] = o->worker;
	args[7] = att;
	args[8] = (const char *)o->enc.data;
	args[9] = OUTPUT_STREAM_ENTRIES_STR;
	args[10] = ttl;
	for (int i = 0; i < 11; i++)
		lens[i] = i == 8 ? o->enc.len : strlen(args[i]);
	o->fence->refs++;
	r = script_eval(o->rc, &append_script, 4, 11, args, lens, on_reply, o->fence);
	if (r < 0) {
		o->fence->refs--;
		o->lost++;
	}
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
