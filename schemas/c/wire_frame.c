/*
 * wire_frame: the guest-agent protocol on the virtio-serial port (schemas/agent-frame.md): a
 * 4-byte big-endian length, then one msgpack map. The host decodes frames written by a guest it
 * does not trust, and the agent decodes frames from the host, so both directions get the full
 * validation. Frame types this version does not know decode as WIRE_FRAME_UNKNOWN (ignored by
 * receivers). It must not do I/O: callers feed bytes in and write bytes out.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "wire_internal.h"
#include "wire_frame_int.h"

#define WIRE_EXIT_CODE_MAX 255
#define WIRE_SIGNAL_MAX 64
#define WIRE_ERRNO_MAX 4095

static const char *const type_names[] = {
	[WIRE_FRAME_UNKNOWN] = NULL,	  [WIRE_FRAME_READY] = "ready",
	[WIRE_FRAME_INIT] = "init",	  [WIRE_FRAME_EXEC] = "exec",
	[WIRE_FRAME_STARTED] = "started", [WIRE_FRAME_OUTPUT] = "output",
	[WIRE_FRAME_EXIT] = "exit",	  [WIRE_FRAME_SIGNAL] = "signal",
	[WIRE_FRAME_ERROR] = "error",	  [WIRE_FRAME_PUT] = "put",
	[WIRE_FRAME_PUTEND] = "putend",	  [WIRE_FRAME_PUTOK] = "putok",
	[WIRE_FRAME_GET] = "get",	  [WIRE_FRAME_FILE] = "file",
	[WIRE_FRAME_GETEND] = "getend",
	[WIRE_FRAME_NET_OPEN] = "net_open", [WIRE_FRAME_NET_OK] = "net_ok",
	[WIRE_FRAME_NET_DATA] = "net_data", [WIRE_FRAME_NET_ACK] = "net_ack",
	[WIRE_FRAME_NET_CLOSE] = "net_close",
};
#define TYPE_COUNT (sizeof(type_names) / sizeof(type_names[0]))

static const char *const frame_keys[F_COUNT_] = {
	"t", "id", "argv", "env", "cwd", "uid", "gid", "pid", "fd", "data", "exit_code",
	"signal", "err", "message", "version", "time_ns", "seed", "path", "kind", "mode",
	"append", "target", "size", "offset", "last", "truncated", "max", "count", "bytes",
	"patterns", "host", "port",
	"mem_max", "pids_max", "disk_max", "limit",
};

struct wire_frame *wire_frame_free(struct wire_frame *f)
{
	if (!f)
		return NULL;
	wire_strv_free(f->argv);
	wire_strv_free(f->env);
	free(f->cwd);
	free(f->data);
	free(f->path);
	free(f->target);
	wire_strv_free(f->patterns);
	free(f);
	return NULL;
}

static int frame_type(const msgpack_object *o, enum wire_frame_type *ret,
		      struct errmsg *reterr)
{
	const char *p;
	size_t n;
	int r;

	r = wire_get_strn(o, "t", true, 64, &p, &n, reterr);
	if (r < 0)
		return r;
	*ret = WIRE_FRAME_UNKNOWN;
	for (size_t i = 1; i < TYPE_COUNT; i++) {
		if (strlen(type_names[i]) == n && memcmp(type_names[i], p, n) == 0)
			*ret = (enum wire_frame_type)i;
	}
	return 0;
}

static int frame_env(const msgpack_object *o, struct wire_frame *f, struct errmsg *reterr)
{
	char name[WIRE_NAME_MAX];
	uint32_t n;
	int r;

	if (wire_absent(o))
		return 0;
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return errmsg_set(reterr, -EBADMSG, "env: expected array, got %s",
				  wire_type_name(o));
	n = o->via.array.size;
	if (n == 0)
		return 0;
	if (n > WIRE_ENVC_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "env: %" PRIu32 " items, more than %d", n,
				  WIRE_ENVC_MAX);
	f->env = calloc(n + 1, sizeof(*f->env));
	if (!f->env)
		return errmsg_set(reterr, -ENOMEM, "env: out of memory");
	for (uint32_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "env[%" PRIu32 "]", i);
		r = wire_dup_str(&o->via.array.ptr[i], name, true, WIRE_ENV_ITEM_MAX, &f->env[i],
				 reterr);
		if (r < 0)
			return r;
		f->envc = i + 1;
		r = wire_check_env_item(name, f->env[i], strlen(f->env[i]), reterr);
		if (r < 0)
			return r;
	}
	return 0;
}

int wire_frame_get_u32(const msgpack_object *o, const char *field, bool required, uint32_t min,
		       uint32_t max, uint32_t *ret, struct errmsg *reterr)
{
	uint64_t u = *ret;
	int r = wire_get_u64(o, field, required, min, max, &u, reterr);

	*ret = (uint32_t)u;
	return r;
}

static int get_i32(const msgpack_object *o, const char *field, bool required, int32_t min,
		   int32_t max, int32_t *ret, struct errmsg *reterr)
{
	int64_t v = *ret;
	int r = wire_get_i64(o, field, required, min, max, &v, reterr);

	*ret = (int32_t)v;
	return r;
}

/* Optional EXEC limits (issue 6): 0 or absent = none. */
static int frame_exec_limits(const msgpack_object **k, struct wire_frame *f,
			     struct errmsg *reterr)
{
	int r;

	r = wire_get_u64(k[F_MEM_MAX], "mem_max", false, 0, INT64_MAX, &f->mem_max, reterr);
	if (r >= 0)
		r = wire_frame_get_u32(k[F_PIDS_MAX], "pids_max", false, 0, UINT32_MAX,
				       &f->pids_max, reterr);
	if (r >= 0)
		r = wire_get_u64(k[F_DISK_MAX], "disk_max", false, 0, INT64_MAX, &f->disk_max,
				 reterr);
	return r < 0 ? r : 0;
}

static int frame_exec(const msgpack_object **k, struct wire_frame *f, struct errmsg *reterr)
{
	int r;

	r = wire_get_argv(k[F_ARGV], "argv", &f->argv, &f->argc, reterr);
	if (r < 0)
		return r;
	r = frame_env(k[F_ENV], f, reterr);
	if (r < 0)
		return r;
	r = wire_dup_str(k[F_CWD], "cwd", false, WIRE_CWD_MAX, &f->cwd, reterr);
	if (r < 0)
		return r;
	if (f->cwd && f->cwd[0] != '/')
		return errmsg_set(reterr, -EINVAL, "cwd: not an absolute path");
	r = wire_frame_get_u32(k[F_UID], "uid", true, 0, UINT32_MAX - 1, &f->uid, reterr);
	if (r < 0)
		return r;
	r = wire_frame_get_u32(k[F_GID], "gid", true, 0, UINT32_MAX - 1, &f->gid, reterr);
	if (r < 0)
		return r;
	return frame_exec_limits(k, f, reterr);
}

static int frame_exit(const msgpack_object **k, struct wire_frame *f, struct errmsg *reterr)
{
	bool has_code = !wire_absent(k[F_EXIT]), has_sig = !wire_absent(k[F_SIGNAL]);

	if (has_code == has_sig)
		return errmsg_set(reterr, -EBADMSG, "exit_code: %s",
				  has_code ? "given together with signal" :
					     "missing (and no signal)");
	if (has_sig) {
		f->exit_code = -1;
		return get_i32(k[F_SIGNAL], "signal", true, 1, WIRE_SIGNAL_MAX, &f->signal, reterr);
	}
	f->signal = 0;
	return get_i32(k[F_EXIT], "exit_code", true, 0, WIRE_EXIT_CODE_MAX, &f->exit_code,
		       reterr);
}

/* EXIT's optional limit (issue 6), then its code or signal. */
static int frame_exit_limit(const msgpack_object **k, struct wire_frame *f,
			    struct errmsg *reterr)
{
	int r = wire_get_limit(k[F_LIMIT], "limit", true, f->limit, reterr);

	return r < 0 ? r : frame_exit(k, f, reterr);
}

static int frame_fields(const msgpack_object **k, struct wire_frame *f, struct errmsg *reterr)
{
	bool need_id = f->type != WIRE_FRAME_READY && f->type != WIRE_FRAME_INIT &&
		       f->type != WIRE_FRAME_ERROR && f->type != WIRE_FRAME_PUT;
	uint64_t u;
	int r;

	if (f->type == WIRE_FRAME_UNKNOWN)
		return 0;
	if (f->type != WIRE_FRAME_READY && f->type != WIRE_FRAME_INIT) {
		r = wire_frame_get_u32(k[F_ID], "id", need_id, need_id ? 1 : 0, UINT32_MAX, &f->id,
				       reterr);
		if (r < 0)
			return r;
	}
	switch (f->type) {
	case WIRE_FRAME_READY:
		r = wire_copy_str(k[F_VERSION], "version", true, f->version, sizeof(f->version),
				  reterr);
		return r < 0 ? r : 0;
	case WIRE_FRAME_INIT:
		r = wire_get_u64(k[F_TIME], "time_ns", true, 0, INT64_MAX, &f->time_ns, reterr);
		if (r < 0)
			return r;
		uint8_t *seed = NULL;
		size_t n = 0;
		r = wire_dup_bin(k[F_SEED], "seed", false, WIRE_SEED_MAX, &seed, &n, reterr);
		if (r < 0)
			return r;
		if (n)
			memcpy(f->seed, seed, n);
		f->seed_len = n;
		free(seed);
		return 0;
	case WIRE_FRAME_EXEC:
		return frame_exec(k, f, reterr);
	case WIRE_FRAME_STARTED:
		r = get_i32(k[F_PID], "pid", true, 1, INT32_MAX, &f->pid, reterr);
		return r < 0 ? r : 0;
	case WIRE_FRAME_OUTPUT:
		r = wire_get_u64(k[F_FD], "fd", true, 1, 2, &u, reterr);
		if (r < 0)
			return r;
		f->fd = (uint8_t)u;
		r = wire_dup_bin(k[F_DATA], "data", true, WIRE_CHUNK_MAX, &f->data, &f->len,
				 reterr);
		return r < 0 ? r : 0;
	case WIRE_FRAME_EXIT:
		r = frame_exit_limit(k, f, reterr);
		return r < 0 ? r : 0;
	case WIRE_FRAME_SIGNAL:
		r = get_i32(k[F_SIGNAL], "signal", true, 1, WIRE_SIGNAL_MAX, &f->signal, reterr);
		return r < 0 ? r : 0;
	case WIRE_FRAME_ERROR:
		r = get_i32(k[F_ERR], "err", true, 0, WIRE_ERRNO_MAX, &f->err, reterr);
		if (r < 0)
			return r;
		r = wire_copy_str(k[F_MESSAGE], "message", false, f->message, sizeof(f->message),
				  reterr);
		return r < 0 ? r : 0;
	default:
		if (wire_frame_is_net(f->type))
			return wire_frame_net_decode(k, f, reterr);
		return wire_frame_files_decode(k, f, reterr);
	}
}

int wire_frame_decode(const void *data, size_t len, struct wire_frame **ret,
		      struct errmsg *reterr)
{
	const msgpack_object *k[F_COUNT_];
	struct wire_frame *f = NULL;
	struct wire_doc doc;
	int r;

	r = wire_doc_parse(&doc, data, len, WIRE_FRAME_MAX, reterr);
	if (r < 0)
		return r;
	r = wire_map_fields(doc.map, frame_keys, F_COUNT_, k, "", reterr);
	if (r < 0)
		goto out;
	f = calloc(1, sizeof(*f));
	if (!f) {
		r = errmsg_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	r = frame_type(k[F_T], &f->type, reterr);
	if (r < 0)
		goto out;
	r = frame_fields(k, f, reterr);
	if (r < 0)
		goto out;
	r = 0;
	*ret = f;
	f = NULL;
out:
	wire_frame_free(f);
	wire_doc_free(&doc);
	return r;
}

/* Number of map entries frame_pack() writes for f, besides "v" and "t". */
static size_t frame_nfields(const struct wire_frame *f)
{
	switch (f->type) {
	case WIRE_FRAME_READY: return 1;
	case WIRE_FRAME_INIT: return 1 + (f->seed_len > 0);
	case WIRE_FRAME_EXEC:
		return 4 + (f->envc > 0) + (f->cwd != NULL) + (f->mem_max > 0) +
		       (f->pids_max > 0) + (f->disk_max > 0);
	case WIRE_FRAME_STARTED: return 2;
	case WIRE_FRAME_OUTPUT: return 3;
	case WIRE_FRAME_EXIT: return 2 + (f->limit[0] != '\0');
	case WIRE_FRAME_SIGNAL: return 2;
	case WIRE_FRAME_ERROR: return 2 + (f->message[0] != '\0');
	default: return wire_frame_is_net(f->type) ? wire_frame_net_nfields(f) :
						      wire_frame_files_nfields(f);
	}
}

/* EXEC's limits, each only when set (frames without limits stay byte-identical). */
static int frame_pack_limits(const struct wire_frame *f, struct wire_out *w)
{
	int r = 0;

	if (f->mem_max)
		r = wire_kv_u64(w, "mem_max", f->mem_max);
	if (!r && f->pids_max)
		r = wire_kv_u64(w, "pids_max", f->pids_max);
	if (!r && f->disk_max)
		r = wire_kv_u64(w, "disk_max", f->disk_max);
	return r;
}

static int frame_pack(const struct wire_frame *f, struct wire_out *w)
{
	int r;

	r = wire_pack_map(w, 2 + frame_nfields(f));
	if (!r)
		r = wire_kv_u64(w, "v", WIRE_VERSION);
	if (!r)
		r = wire_kv_str(w, "t", type_names[f->type]);
	if (!r && f->type != WIRE_FRAME_READY && f->type != WIRE_FRAME_INIT)
		r = wire_kv_u64(w, "id", f->id);
	if (r)
		return r;
	switch (f->type) {
	case WIRE_FRAME_READY:
		return wire_kv_str(w, "version", f->version);
	case WIRE_FRAME_INIT:
		r = wire_kv_u64(w, "time_ns", f->time_ns);
		if (!r && f->seed_len)
			r = wire_kv_bin(w, "seed", f->seed, f->seed_len);
		return r;
	case WIRE_FRAME_EXEC:
		r = wire_kv_argv(w, "argv", f->argv, f->argc);
		if (!r && f->envc)
			r = wire_kv_argv(w, "env", f->env, f->envc);
		if (!r && f->cwd)
			r = wire_kv_str(w, "cwd", f->cwd);
		if (!r)
			r = wire_kv_u64(w, "uid", f->uid);
		if (!r)
			r = wire_kv_u64(w, "gid", f->gid);
		return r ? r : frame_pack_limits(f, w);
	case WIRE_FRAME_STARTED:
		return wire_kv_i64(w, "pid", f->pid);
	case WIRE_FRAME_OUTPUT:
		r = wire_kv_u64(w, "fd", f->fd);
		return r ? r : wire_kv_bin(w, "data", f->data, f->len);
	case WIRE_FRAME_EXIT:
		if (f->limit[0] && (r = wire_kv_str(w, "limit", f->limit)))
			return r;
		if (f->signal > 0)
			return wire_kv_i64(w, "signal", f->signal);
		return wire_kv_i64(w, "exit_code", f->exit_code);
	case WIRE_FRAME_SIGNAL:
		return wire_kv_i64(w, "signal", f->signal);
	case WIRE_FRAME_ERROR:
		r = wire_kv_i64(w, "err", f->err);
		if (!r && f->message[0])
			r = wire_kv_str(w, "message", f->message);
		return r;
	default:
		if (wire_frame_is_net(f->type))
			return wire_frame_net_pack(f, w);
		return wire_frame_files_pack(f, w);
	}
}

static int frame_check(const struct wire_frame *f, struct errmsg *reterr)
{
	if ((unsigned)f->type >= TYPE_COUNT || f->type == WIRE_FRAME_UNKNOWN)
		return errmsg_set(reterr, -EINVAL, "t: cannot encode frame type %d", (int)f->type);
	if (f->type == WIRE_FRAME_EXEC) {
		if (!f->argv && f->argc)
			return errmsg_set(reterr, -EINVAL, "argv: NULL with argc %zu", f->argc);
		if (!f->env && f->envc)
			return errmsg_set(reterr, -EINVAL, "env: NULL with envc %zu", f->envc);
		for (size_t i = 0; i < f->argc; i++)
			if (!f->argv[i])
				return errmsg_set(reterr, -EINVAL, "argv[%zu]: NULL", i);
		for (size_t i = 0; i < f->envc; i++)
			if (!f->env[i])
				return errmsg_set(reterr, -EINVAL, "env[%zu]: NULL", i);
	}
	if (wire_frame_files_check(f, reterr) < 0)
		return -EINVAL;	/* reterr says why */
	if (wire_frame_is_net(f->type) && wire_frame_net_check(f, reterr) < 0)
		return -EINVAL;
	if ((f->type == WIRE_FRAME_OUTPUT || f->type == WIRE_FRAME_PUT ||
	     f->type == WIRE_FRAME_FILE) && f->len > WIRE_CHUNK_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "data: %zu bytes, longer than %d", f->len,
				  WIRE_CHUNK_MAX);
	if (f->type == WIRE_FRAME_INIT && f->seed_len > WIRE_SEED_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "seed: %zu bytes, longer than %d",
				  f->seed_len, WIRE_SEED_MAX);
	if (wire_check_cstr(f->message, sizeof(f->message), "message", reterr) < 0 ||
	    wire_check_cstr(f->version, sizeof(f->version), "version", reterr) < 0 ||
	    wire_check_cstr(f->limit, sizeof(f->limit), "limit", reterr) < 0)
		return -EINVAL;
	return 0;
}

int wire_frame_encode(const struct wire_frame *f, struct buf *out, struct errmsg *reterr)
{
	static const uint8_t zero[WIRE_FRAME_HEADER];
	struct wire_frame *check = NULL;
	struct wire_out w;
	size_t start = out->len, n;
	int r;

	r = frame_check(f, reterr);
	if (r < 0)
		return r;
	r = buf_append(out, zero, sizeof(zero));
	if (r < 0)
		return errmsg_set(reterr, r, "encoding frame: %s", errno_name(r));
	wire_out_init(&w, out);
	r = frame_pack(f, &w);
	if (r < 0) {
		r = errmsg_set(reterr, r, "encoding frame: %s", errno_name(r));
		goto fail;
	}
	n = out->len - start - WIRE_FRAME_HEADER;
	r = wire_frame_decode(out->data + start + WIRE_FRAME_HEADER, n, &check, reterr);
	wire_frame_free(check);
	if (r < 0)
		goto fail;
	out->data[start] = (uint8_t)(n >> 24);
	out->data[start + 1] = (uint8_t)(n >> 16);
	out->data[start + 2] = (uint8_t)(n >> 8);
	out->data[start + 3] = (uint8_t)n;
	return 0;
fail:
	out->len = start;
	return r;
}

int wire_frame_split(const struct buf *in, const uint8_t **payload, size_t *len)
{
	uint32_t n;

	if (in->len < WIRE_FRAME_HEADER)
		return 0;
	n = (uint32_t)in->data[0] << 24 | (uint32_t)in->data[1] << 16 |
	    (uint32_t)in->data[2] << 8 | in->data[3];
	if (n > WIRE_FRAME_MAX)
		return -EMSGSIZE;
	if (in->len - WIRE_FRAME_HEADER < n)
		return 0;
	*payload = in->data + WIRE_FRAME_HEADER;
	*len = n;
	return 1;
}
