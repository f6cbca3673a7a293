/*
 * wire_scan: turns untrusted bytes into a msgpack object tree, safely. A first pass walks the
 * encoding by hand without allocating: it rejects empty, truncated and trailing input, the
 * reserved byte 0xc1, nesting deeper than WIRE_DEPTH_MAX, more than WIRE_OBJECTS_MAX objects and
 * any container announcing more items than bytes remain. Only input that passes is handed to
 * msgpack_unpack_next(), whose zone allocations are then bounded by the object count (msgpack-c
 * would otherwise allocate 2^32 slots for a 5-byte array header). It must not interpret fields.
 */
#include <errno.h>
#include <string.h>

#include "wire.h"
#include "wire_internal.h"

static uint64_t be_read(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Describes the item whose first byte is at p[0] given avail bytes: header size, payload size
 * and the number of child objects. 0, or -EBADMSG for the reserved byte / a truncated header. */
static int scan_head(const uint8_t *p, size_t avail, size_t *hdr, uint64_t *payload,
		     uint64_t *children, bool *container)
{
	uint8_t b = p[0];
	size_t lenbytes = 0;
	uint64_t fixed = 0;
	int kind = 0;	/* 0 scalar, 1 str/bin (len), 2 ext (len + type), 3 array, 4 map */

	*hdr = 1;
	*payload = 0;
	*children = 0;
	*container = (b >= 0x80 && b <= 0x9f) || (b >= 0xdc && b <= 0xdf);
	if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
		return 0;
	if (b >= 0x80 && b <= 0x8f) {
		*children = 2u * (b & 0x0f);
		return 0;
	}
	if (b >= 0x90 && b <= 0x9f) {
		*children = b & 0x0f;
		return 0;
	}
	if (b >= 0xa0 && b <= 0xbf) {
		*payload = b & 0x1f;
		return 0;
	}
	switch (b) {
	case 0xc4: case 0xd9: kind = 1; lenbytes = 1; break;
	case 0xc5: case 0xda: kind = 1; lenbytes = 2; break;
	case 0xc6: case 0xdb: kind = 1; lenbytes = 4; break;
	case 0xc7: kind = 2; lenbytes = 1; break;
	case 0xc8: kind = 2; lenbytes = 2; break;
	case 0xc9: kind = 2; lenbytes = 4; break;
	case 0xca: fixed = 4; break;
	case 0xcb: fixed = 8; break;
	case 0xcc: case 0xd0: fixed = 1; break;
	case 0xcd: case 0xd1: fixed = 2; break;
	case 0xce: case 0xd2: fixed = 4; break;
	case 0xcf: case 0xd3: fixed = 8; break;
	case 0xd4: fixed = 2; break;
	case 0xd5: fixed = 3; break;
	case 0xd6: fixed = 5; break;
	case 0xd7: fixed = 9; break;
	case 0xd8: fixed = 17; break;
	case 0xdc: kind = 3; lenbytes = 2; break;
	case 0xdd: kind = 3; lenbytes = 4; break;
	case 0xde: kind = 4; lenbytes = 2; break;
	case 0xdf: kind = 4; lenbytes = 4; break;
	default:
		return -EBADMSG;	/* 0xc1, never used */
	}
	if (!lenbytes) {
		*payload = fixed;
		return 0;
	}
	if (avail < 1 + lenbytes + (kind == 2))
		return -EBADMSG;
	uint64_t n = be_read(p + 1, lenbytes);
	*hdr = 1 + lenbytes + (kind == 2);
	if (kind == 1 || kind == 2)
		*payload = n;
	else
		*children = kind == 4 ? 2 * n : n;
	return 0;
}

static int scan(const uint8_t *p, size_t len, struct errmsg *reterr)
{
	uint64_t rem[WIRE_DEPTH_MAX + 1];
	size_t off = 0, objects = 0;
	int depth = 0;

	if (len == 0)
		return errmsg_set(reterr, -EBADMSG, "not msgpack: empty message");
	rem[0] = 1;
	while (depth >= 0) {
		size_t hdr;
		uint64_t payload, children;
		bool container;

		if (rem[depth] == 0) {
			depth--;
			continue;
		}
		rem[depth]--;
		if (off >= len)
			return errmsg_set(reterr, -EBADMSG, "not msgpack: truncated at byte %zu", off);
		if (++objects > WIRE_OBJECTS_MAX)
			return errmsg_set(reterr, -EMSGSIZE, "more than %d msgpack objects",
					  WIRE_OBJECTS_MAX);
		if (scan_head(p + off, len - off, &hdr, &payload, &children, &container) < 0) {
			if (p[off] == 0xc1)
				return errmsg_set(reterr, -EBADMSG,
						  "not msgpack: reserved byte 0xc1 at byte %zu", off);
			return errmsg_set(reterr, -EBADMSG, "not msgpack: truncated at byte %zu", off);
		}
		if (hdr > len - off || payload > len - off - hdr)
			return errmsg_set(reterr, -EBADMSG, "not msgpack: truncated at byte %zu", off);
		off += hdr + payload;
		if (!container)
			continue;
		/* depth + 1 is this container's level; empty containers count too */
		if (depth + 1 > WIRE_DEPTH_MAX)
			return errmsg_set(reterr, -EMSGSIZE, "nested deeper than %d levels",
					  WIRE_DEPTH_MAX);
		/* every child takes at least one byte */
		if (children > len - off)
			return errmsg_set(reterr, -EBADMSG, "not msgpack: truncated at byte %zu", off);
		if (children)
			rem[++depth] = children;
	}
	if (off != len)
		return errmsg_set(reterr, -EBADMSG, "%zu trailing bytes after the message",
				  len - off);
	return 0;
}

int wire_doc_parse_any(struct wire_doc *doc, const void *data, size_t len, size_t max,
		       struct errmsg *reterr)
{
	size_t off = 0;
	int r;

	memset(doc, 0, sizeof(*doc));
	if (!data && len)
		return errmsg_set(reterr, -EINVAL, "no data");
	if (len > max)
		return errmsg_set(reterr, -EMSGSIZE, "message is %zu bytes, over %zu", len, max);
	r = scan(data, len, reterr);
	if (r < 0)
		return r;
	msgpack_unpacked_init(&doc->u);
	doc->live = true;
	r = msgpack_unpack_next(&doc->u, data, len, &off);
	if (r == MSGPACK_UNPACK_NOMEM_ERROR) {
		wire_doc_free(doc);
		return errmsg_set(reterr, -ENOMEM, "out of memory decoding msgpack");
	}
	if (r != MSGPACK_UNPACK_SUCCESS || off != len) {
		wire_doc_free(doc);
		return errmsg_set(reterr, -EBADMSG, "not msgpack: unpacker refused it");
	}
	return 0;
}

int wire_doc_parse(struct wire_doc *doc, const void *data, size_t len, size_t max,
		   struct errmsg *reterr)
{
	static const char *const names[] = { "v" };
	const msgpack_object *v;
	uint64_t ver;
	int r;

	r = wire_doc_parse_any(doc, data, len, max, reterr);
	if (r < 0)
		return r;
	if (doc->u.data.type != MSGPACK_OBJECT_MAP) {
		r = errmsg_set(reterr, -EBADMSG, "not a msgpack map (got %s)",
			       wire_type_name(&doc->u.data));
		goto fail;
	}
	doc->map = &doc->u.data;
	r = wire_map_fields(doc->map, names, 1, &v, "", reterr);
	if (r < 0)
		goto fail;
	r = wire_get_u64(v, "v", true, 0, UINT64_MAX, &ver, reterr);
	if (r < 0)
		goto fail;
	if (ver != WIRE_VERSION) {
		r = errmsg_set(reterr, -EPROTONOSUPPORT, "v: unknown version %llu",
			       (unsigned long long)ver);
		goto fail;
	}
	return 0;
fail:
	wire_doc_free(doc);
	return r;
}

void wire_doc_free(struct wire_doc *doc)
{
	if (doc->live)
		msgpack_unpacked_destroy(&doc->u);
	doc->live = false;
	doc->map = NULL;
}
