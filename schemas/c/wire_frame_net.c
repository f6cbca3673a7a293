/*
 * wire_frame_net: the egress stream frames (schemas/agent-frame.md): net_open (guest → host),
 * net_ok (host → guest), net_data, net_ack and net_close (both ways). The guest picks the
 * stream ids; the host decides. Same rules as every frame: decoders check types and limits and
 * name the field, encoders write what the decoder accepts. The host name rule here is a shape
 * check (lower-case [a-z0-9._-], ≤ 253 bytes); whether the host is allowed is the worker's
 * egress policy, never decided here.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "wire_internal.h"
#include "wire_frame_int.h"

#define WIRE_NET_ERRNO_MAX 4095

static const char *const net_kind_names[] = {
	[WIRE_NET_CONNECT] = "connect", [WIRE_NET_HTTP] = "http",
};
#define NET_KIND_COUNT (sizeof(net_kind_names) / sizeof(net_kind_names[0]))

bool wire_frame_is_net(enum wire_frame_type t)
{
	return t >= WIRE_FRAME_NET_OPEN && t <= WIRE_FRAME_NET_CLOSE;
}

const char *wire_net_kind_name(uint8_t kind)
{
	return kind < NET_KIND_COUNT ? net_kind_names[kind] : "invalid";
}

int wire_net_check_host(const char *field, const char *s, size_t len, struct errmsg *reterr)
{
	char q[64];

	if (len == 0)
		return errmsg_set(reterr, -EINVAL, "%s: empty", field);
	if (len > WIRE_NET_HOST_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "%s: %zu bytes, longer than %d", field, len,
				  WIRE_NET_HOST_MAX);
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		    c == '_')
			continue;
		wire_quote(q, sizeof(q), s, len);
		return errmsg_set(reterr, -EINVAL,
				  "%s: %s has a byte outside lower-case [a-z0-9._-]", field, q);
	}
	return 0;
}

static int net_kind(const msgpack_object *o, uint8_t *ret, struct errmsg *reterr)
{
	const char *p;
	size_t n;
	char q[64];
	int r;

	r = wire_get_strn(o, "kind", true, 16, &p, &n, reterr);
	if (r < 0)
		return r;
	for (size_t i = 0; i < NET_KIND_COUNT; i++) {
		if (strlen(net_kind_names[i]) == n && memcmp(net_kind_names[i], p, n) == 0) {
			*ret = (uint8_t)i;
			return 0;
		}
	}
	wire_quote(q, sizeof(q), p, n);
	return errmsg_set(reterr, -EINVAL, "kind: unknown kind %s (expected connect or http)", q);
}

static int net_open(const msgpack_object **k, struct wire_frame *f, struct errmsg *reterr)
{
	uint64_t port = 0;
	int r;

	r = wire_copy_str(k[F_HOST], "host", true, f->host, sizeof(f->host), reterr);
	if (r < 0)
		return r;
	r = wire_net_check_host("host", f->host, strlen(f->host), reterr);
	if (r < 0)
		return r;
	r = wire_get_u64(k[F_PORT], "port", true, 1, 65535, &port, reterr);
	if (r < 0)
		return r;
	f->port = (uint16_t)port;
	r = net_kind(k[F_KIND], &f->net_kind, reterr);
	return r < 0 ? r : 0;
}

int wire_frame_net_decode(const msgpack_object **k, struct wire_frame *f, struct errmsg *reterr)
{
	int64_t err = 0;
	int r;

	switch (f->type) {
	case WIRE_FRAME_NET_OPEN:
		return net_open(k, f, reterr);
	case WIRE_FRAME_NET_DATA:
		r = wire_dup_bin(k[F_DATA], "data", true, WIRE_CHUNK_MAX, &f->data, &f->len,
				 reterr);
		return r < 0 ? r : 0;
	case WIRE_FRAME_NET_ACK:
		r = wire_get_u64(k[F_BYTES], "bytes", true, 1, WIRE_NET_WINDOW, &f->bytes, reterr);
		return r < 0 ? r : 0;
	case WIRE_FRAME_NET_CLOSE:
		r = wire_get_i64(k[F_ERR], "err", false, 0, WIRE_NET_ERRNO_MAX, &err, reterr);
		if (r < 0)
			return r;
		f->err = (int32_t)err;
		r = wire_copy_str(k[F_MESSAGE], "message", false, f->message, sizeof(f->message),
				  reterr);
		return r < 0 ? r : 0;
	default:
		return 0;	/* NET_OK: the id only */
	}
}

size_t wire_frame_net_nfields(const struct wire_frame *f)
{
	switch (f->type) {
	case WIRE_FRAME_NET_OPEN: return 4;
	case WIRE_FRAME_NET_OK: return 1;
	case WIRE_FRAME_NET_DATA: return 2;
	case WIRE_FRAME_NET_ACK: return 2;
	case WIRE_FRAME_NET_CLOSE: return 1 + (f->err != 0) + (f->message[0] != '\0');
	default: return 0;
	}
}

int wire_frame_net_pack(const struct wire_frame *f, struct wire_out *w)
{
	int r = 0;

	switch (f->type) {
	case WIRE_FRAME_NET_OPEN:
		r = wire_kv_str(w, "host", f->host);
		if (!r)
			r = wire_kv_u64(w, "port", f->port);
		return r ? r : wire_kv_str(w, "kind", net_kind_names[f->net_kind]);
	case WIRE_FRAME_NET_OK:
		return 0;
	case WIRE_FRAME_NET_DATA:
		return wire_kv_bin(w, "data", f->data, f->len);
	case WIRE_FRAME_NET_ACK:
		return wire_kv_u64(w, "bytes", f->bytes);
	case WIRE_FRAME_NET_CLOSE:
		if (f->err != 0)
			r = wire_kv_i64(w, "err", f->err);
		if (!r && f->message[0])
			r = wire_kv_str(w, "message", f->message);
		return r;
	default:
		return -EINVAL;
	}
}

int wire_frame_net_check(const struct wire_frame *f, struct errmsg *reterr)
{
	if (f->type == WIRE_FRAME_NET_OPEN) {
		if (f->net_kind >= NET_KIND_COUNT)
			return errmsg_set(reterr, -EINVAL, "kind: invalid value %u", f->net_kind);
		if (wire_check_cstr(f->host, sizeof(f->host), "host", reterr) < 0)
			return -EINVAL;
	}
	if (f->type == WIRE_FRAME_NET_DATA && f->len && !f->data)
		return errmsg_set(reterr, -EINVAL, "data: NULL with len %zu", f->len);
	if (f->type == WIRE_FRAME_NET_DATA && f->len > WIRE_CHUNK_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "data: %zu bytes, longer than %d", f->len,
				  WIRE_CHUNK_MAX);
	if (f->type == WIRE_FRAME_NET_CLOSE && (f->err < 0 || f->err > WIRE_NET_ERRNO_MAX))
		return errmsg_set(reterr, -EINVAL, "err: %d out of range", (int)f->err);
	return 0;
}
