/*
 * wire_msg: decode, validate and encode one entry of a job's output stream / channel
 * (schemas/output.md and schemas/event.md): either an output chunk ("t":"out") or a lifecycle
 * event ("t":"event"). Readers (CLI, SDKs) and the worker share this code. It must not know
 * about Redis keys or how entries are ordered beyond the (attempt, seq) fields.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "wire_internal.h"

#define WIRE_MSG_ENCODED_MAX (WIRE_CHUNK_MAX + 1024)
#define WIRE_ATTEMPT_FIELD_MAX 1000000u	/* deliveries can exceed max_attempts; bound anyway */

enum { M_T, M_ATTEMPT, M_SEQ, M_TS, M_FD, M_DATA, M_STATE, M_WORKER, M_REASON, M_COUNT_ };
static const char *const msg_keys[M_COUNT_] = {
	"t", "attempt", "seq", "ts_ms", "fd", "data", "state", "worker", "reason",
};

struct wire_msg *wire_msg_free(struct wire_msg *m)
{
	if (!m)
		return NULL;
	free(m->data);
	free(m);
	return NULL;
}

/* Parses a state name given as msgpack string; field names the key in errors. */
int wire_get_state(const msgpack_object *o, const char *field, enum wire_state *ret,
		   struct errmsg *reterr)
{
	char name[16], q[64];
	const char *p;
	size_t n;
	int r;

	r = wire_get_strn(o, field, true, 255, &p, &n, reterr);
	if (r < 0)
		return r;
	if (n < sizeof(name)) {
		memcpy(name, p, n);
		name[n] = '\0';
		if (wire_state_parse(name, ret) == 0)
			return 0;
	}
	wire_quote(q, sizeof(q), p, n);
	return errmsg_set(reterr, -EINVAL, "%s: unknown state %s", field, q);
}

static int msg_fields(const msgpack_object **f, struct wire_msg *m, struct errmsg *reterr)
{
	char q[64];
	const char *p;
	size_t n;
	uint64_t u;
	int r;

	r = wire_get_strn(f[M_T], "t", true, 64, &p, &n, reterr);
	if (r < 0)
		return r;
	if (n == 3 && memcmp(p, "out", 3) == 0) {
		m->kind = WIRE_MSG_OUTPUT;
	} else if (n == 5 && memcmp(p, "event", 5) == 0) {
		m->kind = WIRE_MSG_EVENT;
	} else {
		wire_quote(q, sizeof(q), p, n);
		return errmsg_set(reterr, -EINVAL, "t: unknown message type %s", q);
	}
	r = wire_get_u64(f[M_ATTEMPT], "attempt", true, m->kind == WIRE_MSG_OUTPUT ? 1 : 0,
			 WIRE_ATTEMPT_FIELD_MAX, &u, reterr);
	if (r < 0)
		return r;
	m->attempt = (uint32_t)u;
	r = wire_get_u64(f[M_SEQ], "seq", true, 0, INT64_MAX, &m->seq, reterr);
	if (r < 0)
		return r;
	r = wire_get_u64(f[M_TS], "ts_ms", false, 0, INT64_MAX, &m->ts_ms, reterr);
	if (r < 0)
		return r;
	if (m->kind == WIRE_MSG_OUTPUT) {
		r = wire_get_u64(f[M_FD], "fd", true, 1, 2, &u, reterr);
		if (r < 0)
			return r;
		m->fd = (uint8_t)u;
		r = wire_dup_bin(f[M_DATA], "data", true, WIRE_CHUNK_MAX, &m->data, &m->len,
				 reterr);
		return r < 0 ? r : 0;
	}
	r = wire_get_state(f[M_STATE], "state", &m->state, reterr);
	if (r < 0)
		return r;
	r = wire_copy_str(f[M_WORKER], "worker", false, m->worker, sizeof(m->worker), reterr);
	if (r < 0)
		return r;
	r = wire_copy_str(f[M_REASON], "reason", false, m->reason, sizeof(m->reason), reterr);
	return r < 0 ? r : 0;
}

int wire_msg_decode(const void *data, size_t len, struct wire_msg **ret, struct errmsg *reterr)
{
	const msgpack_object *f[M_COUNT_];
	struct wire_msg *m = NULL;
	struct wire_doc doc;
	int r;

	r = wire_doc_parse(&doc, data, len, WIRE_MSG_ENCODED_MAX, reterr);
	if (r < 0)
		return r;
	r = wire_map_fields(doc.map, msg_keys, M_COUNT_, f, "", reterr);
	if (r < 0)
		goto out;
	m = calloc(1, sizeof(*m));
	if (!m) {
		r = errmsg_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	r = msg_fields(f, m, reterr);
	if (r < 0)
		goto out;
	r = 0;
	*ret = m;
	m = NULL;
out:
	wire_msg_free(m);
	wire_doc_free(&doc);
	return r;
}

static int msg_pack(const struct wire_msg *m, struct wire_out *w)
{
	bool out = m->kind == WIRE_MSG_OUTPUT;
	int r;

	r = wire_pack_map(w, out ? 7 : 6 + (m->worker[0] != 0) + (m->reason[0] != 0));
	if (!r)
		r = wire_kv_u64(w, "v", WIRE_VERSION);
	if (!r)
		r = wire_kv_str(w, "t", out ? "out" : "event");
	if (!r)
		r = wire_kv_u64(w, "attempt", m->attempt);
	if (!r)
		r = wire_kv_u64(w, "seq", m->seq);
	if (!r)
		r = wire_kv_u64(w, "ts_ms", m->ts_ms);
	if (out) {
		if (!r)
			r = wire_kv_u64(w, "fd", m->fd);
		if (!r)
			r = wire_kv_bin(w, "data", m->data, m->len);
		return r;
	}
	if (!r)
		r = wire_kv_str(w, "state", wire_state_name(m->state));
	if (!r && m->worker[0])
		r = wire_kv_str(w, "worker", m->worker);
	if (!r && m->reason[0])
		r = wire_kv_str(w, "reason", m->reason);
	return r;
}

int wire_msg_encode(const struct wire_msg *m, struct buf *out, struct errmsg *reterr)
{
	struct wire_msg *check = NULL;
	struct wire_out w;
	size_t start = out->len;
	int r;

	if (m->kind != WIRE_MSG_OUTPUT && m->kind != WIRE_MSG_EVENT)
		return errmsg_set(reterr, -EINVAL, "t: invalid kind %d", (int)m->kind);
	if (m->kind == WIRE_MSG_OUTPUT && m->len > WIRE_CHUNK_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "data: %zu bytes, longer than %d", m->len,
				  WIRE_CHUNK_MAX);
	if (m->kind == WIRE_MSG_EVENT && (unsigned)m->state >= WIRE_STATE_COUNT_)
		return errmsg_set(reterr, -EINVAL, "state: invalid value %d", (int)m->state);
	if (wire_check_cstr(m->worker, sizeof(m->worker), "worker", reterr) < 0 ||
	    wire_check_cstr(m->reason, sizeof(m->reason), "reason", reterr) < 0)
		return -EINVAL;
	wire_out_init(&w, out);
	r = msg_pack(m, &w);
	if (r < 0) {
		r = errmsg_set(reterr, r, "encoding message: %s", errno_name(r));
		goto fail;
	}
	r = wire_msg_decode(out->data + start, out->len - start, &check, reterr);
	wire_msg_free(check);
	if (r < 0)
		goto fail;
	return 0;
fail:
	out->len = start;
	return r;
}
