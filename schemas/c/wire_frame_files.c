/*
 * wire_frame_files: the file-transfer agent frames (schemas/agent-frame.md): put, putend and get
 * (host → guest), putok, file and getend (guest → host). Same rules as every frame: decoders
 * check types and limits and name the field; encoders write what the decoder accepts. The path
 * rules here are shape checks only; the agent resolves paths symlink-safely itself.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "wire_internal.h"
#include "wire_frame_int.h"

static const char *const kind_names[] = {
	[WIRE_PUT_FILE] = "file", [WIRE_PUT_DIR] = "dir", [WIRE_PUT_SYMLINK] = "symlink",
};
static const uint32_t kind_mode[] = {
	[WIRE_PUT_FILE] = 0644, [WIRE_PUT_DIR] = 0755, [WIRE_PUT_SYMLINK] = 0777,
};
#define KIND_COUNT (sizeof(kind_names) / sizeof(kind_names[0]))

static int put_kind(const msgpack_object *o, uint8_t *ret, struct errmsg *reterr)
{
	const char *p;
	size_t n;
	char q[64];
	int r;

	*ret = WIRE_PUT_FILE;
	r = wire_get_strn(o, "kind", false, 16, &p, &n, reterr);
	if (r <= 0)
		return r;
	for (size_t i = 0; i < KIND_COUNT; i++) {
		if (strlen(kind_names[i]) == n && memcmp(kind_names[i], p, n) == 0) {
			*ret = (uint8_t)i;
			return 0;
		}
	}
	wire_quote(q, sizeof(q), p, n);
	return errmsg_set(reterr, -EINVAL, "kind: unknown kind %s (expected file, dir or symlink)",
			  q);
}

static int frame_put(const msgpack_object **k, struct wire_frame *f, struct errmsg *reterr)
{
	uint64_t mode;
	int r;

	r = wire_dup_str(k[F_PATH], "path", true, WIRE_PATH_MAX, &f->path, reterr);
	if (r < 0)
		return r;
	r = wire_check_path("path", f->path, strlen(f->path), reterr);
	if (r < 0)
		return r;
	r = put_kind(k[F_KIND], &f->kind, reterr);
	if (r < 0)
		return r;
	mode = kind_mode[f->kind];
	r = wire_get_u64(k[F_MODE], "mode", false, 0, WIRE_MODE_MAX, &mode, reterr);
	if (r < 0)
		return r;
	f->mode = (uint32_t)mode;
	r = wire_dup_bin(k[F_DATA], "data", false, WIRE_CHUNK_MAX, &f->data, &f->len, reterr);
	if (r < 0)
		return r;
	r = wire_get_bool(k[F_APPEND], "append", false, &f->append, reterr);
	if (r < 0)
		return r;
	r = wire_dup_str(k[F_TARGET], "target", f->kind == WIRE_PUT_SYMLINK, WIRE_PATH_MAX,
			 &f->target, reterr);
	if (r < 0)
		return r;
	if (f->kind != WIRE_PUT_FILE && (f->len || f->append))
		return errmsg_set(reterr, -EINVAL, "%s: only for kind file",
				  f->len ? "data" : "append");
	if (f->kind == WIRE_PUT_SYMLINK && f->target[0] == '\0')
		return errmsg_set(reterr, -EINVAL, "target: empty");
	if (f->kind != WIRE_PUT_SYMLINK && f->target)
		return errmsg_set(reterr, -EINVAL, "target: only for kind symlink");
	r = wire_frame_get_u32(k[F_UID], "uid", true, 0, UINT32_MAX - 1, &f->uid, reterr);
	if (r < 0)
		return r;
	r = wire_frame_get_u32(k[F_GID], "gid", true, 0, UINT32_MAX - 1, &f->gid, reterr);
	return r < 0 ? r : 0;
}

static int frame_get(const msgpack_object **k, struct wire_frame *f, struct errmsg *reterr)
{
	int r;

	r = wire_get_patterns(k[F_PATTERNS], "patterns", WIRE_OUTPUTS_MAX, true, &f->patterns,
			      &f->npatterns, reterr);
	if (r < 0)
		return r;
	r = wire_get_u64(k[F_MAX], "max", true, 0, WIRE_ARTEFACTS_MAX_LIMIT, &f->max, reterr);
	if (r < 0)
		return r;
	r = wire_frame_get_u32(k[F_UID], "uid", true, 0, UINT32_MAX - 1, &f->uid, reterr);
	if (r < 0)
		return r;
	r = wire_frame_get_u32(k[F_GID], "gid", true, 0, UINT32_MAX - 1, &f->gid, reterr);
	return r < 0 ? r : 0;
}

static int frame_file(const msgpack_object **k, struct wire_frame *f, struct errmsg *reterr)
{
	uint64_t mode = 0;
	int r;

	r = wire_dup_str(k[F_PATH], "path", true, WIRE_PATH_MAX, &f->path, reterr);
	if (r < 0)
		return r;
	if (f->path[0] != '/')
		return errmsg_set(reterr, -EINVAL, "path: not an absolute path");
	r = wire_get_u64(k[F_SIZE], "size", true, 0, INT64_MAX, &f->size, reterr);
	if (r < 0)
		return r;
	r = wire_get_u64(k[F_MODE], "mode", false, 0, WIRE_MODE_MAX, &mode, reterr);
	if (r < 0)
		return r;
	f->mode = (uint32_t)mode;
	r = wire_get_u64(k[F_OFFSET], "offset", true, 0, INT64_MAX, &f->offset, reterr);
	if (r < 0)
		return r;
	r = wire_dup_bin(k[F_DATA], "data", false, WIRE_CHUNK_MAX, &f->data, &f->len, reterr);
	if (r < 0)
		return r;
	if (f->offset > f->size || f->len > f->size - f->offset)
		return errmsg_set(reterr, -EINVAL, "offset: %" PRIu64 " + %zu bytes beyond size %"
				  PRIu64, f->offset, f->len, f->size);
	r = wire_get_bool(k[F_LAST], "last", false, &f->last, reterr);
	if (r < 0)
		return r;
	r = wire_get_bool(k[F_TRUNC], "truncated", false, &f->truncated, reterr);
	return r < 0 ? r : 0;
}

int wire_frame_files_decode(const msgpack_object **k, struct wire_frame *f,
			    struct errmsg *reterr)
{
	int r;

	switch (f->type) {
	case WIRE_FRAME_PUT:
		return frame_put(k, f, reterr);
	case WIRE_FRAME_GET:
		return frame_get(k, f, reterr);
	case WIRE_FRAME_FILE:
		return frame_file(k, f, reterr);
	case WIRE_FRAME_PUTOK:
		r = wire_get_u64(k[F_COUNT], "count", true, 0, INT64_MAX, &f->count, reterr);
		if (r < 0)
			return r;
		r = wire_get_u64(k[F_BYTES], "bytes", true, 0, INT64_MAX, &f->bytes, reterr);
		return r < 0 ? r : 0;
	case WIRE_FRAME_GETEND:
		r = wire_get_u64(k[F_COUNT], "count", true, 0, INT64_MAX, &f->count, reterr);
		if (r < 0)
			return r;
		r = wire_get_bool(k[F_TRUNC], "truncated", false, &f->truncated, reterr);
		return r < 0 ? r : 0;
	default:
		return 0;	/* PUTEND: the id only */
	}
}

size_t wire_frame_files_nfields(const struct wire_frame *f)
{
	switch (f->type) {
	case WIRE_FRAME_PUT:
		return 6 + (f->kind == WIRE_PUT_FILE ? 2 : 0) + (f->kind == WIRE_PUT_SYMLINK);
	case WIRE_FRAME_PUTEND: return 1;
	case WIRE_FRAME_PUTOK: return 3;
	case WIRE_FRAME_GET: return 5;
	case WIRE_FRAME_FILE: return 8;
	case WIRE_FRAME_GETEND: return 3;
	default: return 0;
	}
}

static int pack_put(const struct wire_frame *f, struct wire_out *w)
{
	int r = wire_kv_str(w, "path", f->path);

	if (!r)
		r = wire_kv_str(w, "kind", kind_names[f->kind]);
	if (!r)
		r = wire_kv_u64(w, "mode", f->mode);
	if (!r && f->kind == WIRE_PUT_FILE)
		r = wire_kv_bin(w, "data", f->data, f->len);
	if (!r && f->kind == WIRE_PUT_FILE)
		r = wire_kv_bool(w, "append", f->append);
	if (!r && f->kind == WIRE_PUT_SYMLINK)
		r = wire_kv_str(w, "target", f->target);
	if (!r)
		r = wire_kv_u64(w, "uid", f->uid);
	if (!r)
		r = wire_kv_u64(w, "gid", f->gid);
	return r;
}

static int pack_file(const struct wire_frame *f, struct wire_out *w)
{
	int r = wire_kv_str(w, "path", f->path);

	if (!r)
		r = wire_kv_u64(w, "size", f->size);
	if (!r)
		r = wire_kv_u64(w, "mode", f->mode);
	if (!r)
		r = wire_kv_u64(w, "offset", f->offset);
	if (!r)
		r = wire_kv_bin(w, "data", f->data, f->len);
	if (!r)
		r = wire_kv_bool(w, "last", f->last);
	if (!r)
		r = wire_kv_bool(w, "truncated", f->truncated);
	return r;
}

int wire_frame_files_pack(const struct wire_frame *f, struct wire_out *w)
{
	int r;

	switch (f->type) {
	case WIRE_FRAME_PUT:
		return pack_put(f, w);
	case WIRE_FRAME_PUTEND:
		return 0;
	case WIRE_FRAME_PUTOK:
		r = wire_kv_u64(w, "count", f->count);
		return r ? r : wire_kv_u64(w, "bytes", f->bytes);
	case WIRE_FRAME_GET:
		r = wire_kv_argv(w, "patterns", f->patterns, f->npatterns);
		if (!r)
			r = wire_kv_u64(w, "max", f->max);
		if (!r)
			r = wire_kv_u64(w, "uid", f->uid);
		return r ? r : wire_kv_u64(w, "gid", f->gid);
	case WIRE_FRAME_FILE:
		return pack_file(f, w);
	case WIRE_FRAME_GETEND:
		r = wire_kv_u64(w, "count", f->count);
		return r ? r : wire_kv_bool(w, "truncated", f->truncated);
	default:
		return -EINVAL;
	}
}

int wire_frame_files_check(const struct wire_frame *f, struct errmsg *reterr)
{
	if ((f->type == WIRE_FRAME_PUT || f->type == WIRE_FRAME_FILE) && !f->path)
		return errmsg_set(reterr, -EINVAL, "path: NULL");
	if (f->type == WIRE_FRAME_PUT && f->kind >= KIND_COUNT)
		return errmsg_set(reterr, -EINVAL, "kind: invalid value %u", f->kind);
	if (f->type == WIRE_FRAME_PUT && f->kind == WIRE_PUT_SYMLINK && !f->target)
		return errmsg_set(reterr, -EINVAL, "target: NULL");
	if ((f->type == WIRE_FRAME_PUT || f->type == WIRE_FRAME_FILE) && f->len && !f->data)
		return errmsg_set(reterr, -EINVAL, "data: NULL with len %zu", f->len);
	if (f->type == WIRE_FRAME_GET && (!f->patterns || !f->npatterns))
		return errmsg_set(reterr, -EINVAL, "patterns: none");
	for (size_t i = 0; f->type == WIRE_FRAME_GET && i < f->npatterns; i++)
		if (!f->patterns[i])
			return errmsg_set(reterr, -EINVAL, "patterns[%zu]: NULL", i);
	return 0;
}
