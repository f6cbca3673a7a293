/*
 * wire_result: decode, validate and encode the terminal result record of a job
 * (schemas/result.md), stored under corral:{q}:result:<id>. Only final states are valid. It does
 * not decide the state: the worker does; this file only checks the record's shape and limits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "wire_internal.h"
#include "wire_result_int.h"

#define WIRE_EXIT_CODE_MAX 255
#define WIRE_SIGNAL_MAX 64

enum { R_ID, R_STATE, R_ATTEMPT, R_EXIT, R_SIGNAL, R_REASON, R_WORKER, R_ACCEL, R_STDOUT,
       R_STDERR, R_TRUNC, R_TIMINGS, R_COMMIT, R_ARTEFACTS, R_ARTS_TRUNC, R_LIMIT, R_COUNT_ };
static const char *const result_keys[R_COUNT_] = {
	"id", "state", "attempt", "exit_code", "signal", "reason", "worker", "accel",
	"stdout_bytes", "stderr_bytes", "truncated", "timings", "commit", "artefacts",
	"artefacts_truncated", "limit",
};

/* T_MIRROR (a bool) comes last; the others are u64 slots */
enum { T_QUEUED, T_CLAIMED, T_VM, T_STARTED, T_FIRST, T_EXITED, T_WRITTEN, T_FETCH, T_FILES,
       T_COLLECT, T_MIRROR, T_COUNT_ };
static const char *const timing_keys[T_COUNT_] = {
	"queued_ms", "claimed_ms", "vm_ms", "started_ms", "first_output_ms", "exited_ms",
	"written_ms", "fetch_ms", "files_ms", "collect_ms", "mirror_hit",
};

static uint64_t *timing_slot(struct wire_timings *t, int i)
{
	uint64_t *slots[T_MIRROR] = {
		&t->queued_ms, &t->claimed_ms, &t->vm_ms, &t->started_ms, &t->first_output_ms,
		&t->exited_ms, &t->written_ms, &t->fetch_ms, &t->files_ms, &t->collect_ms,
	};

	return slots[i];
}

static int result_timings(const msgpack_object *o, struct wire_timings *t,
			  struct errmsg *reterr)
{
	const msgpack_object *f[T_COUNT_];
	char name[WIRE_NAME_MAX];
	int r;

	if (wire_absent(o))
		return 0;
	if (o->type != MSGPACK_OBJECT_MAP)
		return errmsg_set(reterr, -EBADMSG, "timings: expected map, got %s",
				  wire_type_name(o));
	r = wire_map_fields(o, timing_keys, T_COUNT_, f, "timings.", reterr);
	if (r < 0)
		return r;
	for (int i = 0; i < T_MIRROR; i++) {
		strcpy(name, "timings.");
		strcat(name, timing_keys[i]);
		r = wire_get_u64(f[i], name, false, 0, INT64_MAX, timing_slot(t, i), reterr);
		if (r < 0)
			return r;
	}
	r = wire_get_bool(f[T_MIRROR], "timings.mirror_hit", false, &t->mirror_hit, reterr);
	return r < 0 ? r : 0;
}

static int result_commit(const msgpack_object *o, char *dst, struct errmsg *reterr)
{
	int r = wire_copy_str(o, "commit", false, dst, WIRE_COMMIT_HEX + 1, reterr);
	size_t n = strlen(dst);

	if (r <= 0 || n == 0)
		return r;
	if (n != WIRE_COMMIT_HEX || strspn(dst, "0123456789abcdef") != n)
		return errmsg_set(reterr, -EINVAL, "commit: expected 40 lowercase hex digits");
	return 0;
}

static int result_accel(const msgpack_object *o, char *dst, size_t size, struct errmsg *reterr)
{
	int r = wire_copy_str(o, "accel", false, dst, size, reterr);

	if (r <= 0 || dst[0] == '\0')
		return r;
	return wire_check_name("accel", dst, strlen(dst), size - 1, reterr);
}

static int result_fields(const msgpack_object **f, struct wire_result *res,
			 struct errmsg *reterr)
{
	const char *p;
	size_t n;
	uint64_t u;
	int64_t i = 0;
	int r;

	r = wire_get_strn(f[R_ID], "id", true, WIRE_ID_MAX, &p, &n, reterr);
	if (r < 0)
		return r;
	r = wire_check_name("id", p, n, WIRE_ID_MAX, reterr);
	if (r < 0)
		return r;
	memcpy(res->id, p, n);
	res->id[n] = '\0';
	r = wire_get_state(f[R_STATE], "state", &res->state, reterr);
	if (r < 0)
		return r;
	if (!wire_state_final(res->state))
		return errmsg_set(reterr, -EINVAL, "state: '%s' is not a final state",
				  wire_state_name(res->state));
	r = wire_get_u64(f[R_ATTEMPT], "attempt", true, 0, UINT32_MAX, &u, reterr);
	if (r < 0)
		return r;
	res->attempt = (uint32_t)u;
	r = wire_get_i64(f[R_EXIT], "exit_code", false, 0, WIRE_EXIT_CODE_MAX, &i, reterr);
	if (r < 0)
		return r;
	res->has_exit_code = r > 0;
	res->exit_code = r > 0 ? (int32_t)i : 0;
	i = 0;
	r = wire_get_i64(f[R_SIGNAL], "signal", false, 0, WIRE_SIGNAL_MAX, &i, reterr);
	if (r < 0)
		return r;
	res->signal = (int32_t)i;
	r = wire_copy_str(f[R_REASON], "reason", false, res->reason, sizeof(res->reason), reterr);
	if (r < 0)
		return r;
	r = wire_copy_str(f[R_WORKER], "worker", false, res->worker, sizeof(res->worker), reterr);
	if (r < 0)
		return r;
	r = result_accel(f[R_ACCEL], res->accel, sizeof(res->accel), reterr);
	if (r < 0)
		return r;
	r = wire_get_u64(f[R_STDOUT], "stdout_bytes", false, 0, INT64_MAX, &res->stdout_bytes,
			 reterr);
	if (r < 0)
		return r;
	r = wire_get_u64(f[R_STDERR], "stderr_bytes", false, 0, INT64_MAX, &res->stderr_bytes,
			 reterr);
	if (r < 0)
		return r;
	r = wire_get_bool(f[R_TRUNC], "truncated", false, &res->truncated, reterr);
	if (r < 0)
		return r;
	r = result_timings(f[R_TIMINGS], &res->t, reterr);
	if (r < 0)
		return r;
	r = result_commit(f[R_COMMIT], res->commit, reterr);
	if (r < 0)
		return r;
	r = wire_get_bool(f[R_ARTS_TRUNC], "artefacts_truncated", false,
			  &res->artefacts_truncated, reterr);
	if (r < 0)
		return r;
	r = wire_get_limit(f[R_LIMIT], "limit", false, res->limit, reterr);
	if (r < 0)
		return r;
	return wire_result_artefacts(f[R_ARTEFACTS], res, reterr);
}

int wire_result_decode(const void *data, size_t len, struct wire_result *ret,
		       struct errmsg *reterr)
{
	const msgpack_object *f[R_COUNT_];
	struct wire_result res;
	struct wire_doc doc;
	int r;

	memset(&res, 0, sizeof(res));
	r = wire_doc_parse(&doc, data, len, WIRE_RESULT_ENCODED_MAX, reterr);
	if (r < 0)
		return r;
	r = wire_map_fields(doc.map, result_keys, R_COUNT_, f, "", reterr);
	if (r < 0)
		goto out;
	r = result_fields(f, &res, reterr);
	if (r < 0)
		goto out;
	r = 0;
	*ret = res;
	res.artefacts = NULL;
	res.nartefacts = 0;
out:
	wire_result_clear(&res);
	wire_doc_free(&doc);
	return r;
}

static int result_pack(const struct wire_result *res, struct wire_out *w)
{
	int r;

	r = wire_pack_map(w, 16 + (res->limit[0] != '\0'));
	if (!r)
		r = wire_kv_u64(w, "v", WIRE_VERSION);
	if (!r)
		r = wire_kv_str(w, "id", res->id);
	if (!r)
		r = wire_kv_str(w, "state", wire_state_name(res->state));
	if (!r)
		r = wire_kv_u64(w, "attempt", res->attempt);
	if (!r)
		r = wire_pack_key(w, "exit_code");
	if (!r)
		r = res->has_exit_code ? wire_pack_i64(w, res->exit_code) :
		    wire_out_status(w, msgpack_pack_nil(&w->pk));
	if (!r)
		r = wire_kv_i64(w, "signal", res->signal);
	if (!r)
		r = wire_kv_str(w, "reason", res->reason);
	if (!r)
		r = wire_kv_str(w, "worker", res->worker);
	if (!r)
		r = wire_kv_str(w, "accel", res->accel);
	if (!r)
		r = wire_kv_u64(w, "stdout_bytes", res->stdout_bytes);
	if (!r)
		r = wire_kv_u64(w, "stderr_bytes", res->stderr_bytes);
	if (!r)
		r = wire_kv_bool(w, "truncated", res->truncated);
	if (!r)
		r = wire_pack_key(w, "timings");
	if (!r)
		r = wire_pack_map(w, T_COUNT_);
	for (int i = 0; !r && i < T_MIRROR; i++)
		r = wire_kv_u64(w, timing_keys[i],
				*timing_slot((struct wire_timings *)&res->t, i));
	if (!r)
		r = wire_kv_bool(w, "mirror_hit", res->t.mirror_hit);
	if (!r)
		r = wire_kv_str(w, "commit", res->commit);
	if (!r)
		r = wire_kv_bool(w, "artefacts_truncated", res->artefacts_truncated);
	if (!r)
		r = wire_result_pack_artefacts(res, w);
	if (!r && res->limit[0])
		r = wire_kv_str(w, "limit", res->limit);	/* only when set: older readers */
	return r;
}

int wire_result_encode(const struct wire_result *res, struct buf *out, struct errmsg *reterr)
{
	struct wire_result check;
	struct wire_out w;
	size_t start = out->len;
	int r;

	if ((unsigned)res->state >= WIRE_STATE_COUNT_)
		return errmsg_set(reterr, -EINVAL, "state: invalid value %d", (int)res->state);
	if (wire_check_cstr(res->id, sizeof(res->id), "id", reterr) < 0 ||
	    wire_check_cstr(res->reason, sizeof(res->reason), "reason", reterr) < 0 ||
	    wire_check_cstr(res->worker, sizeof(res->worker), "worker", reterr) < 0 ||
	    wire_check_cstr(res->accel, sizeof(res->accel), "accel", reterr) < 0 ||
	    wire_check_cstr(res->commit, sizeof(res->commit), "commit", reterr) < 0 ||
	    wire_check_cstr(res->limit, sizeof(res->limit), "limit", reterr) < 0)
		return -EINVAL;
	if (!res->artefacts && res->nartefacts)
		return errmsg_set(reterr, -EINVAL, "artefacts: NULL with count %zu",
				  res->nartefacts);
	for (size_t i = 0; i < res->nartefacts; i++)
		if (!res->artefacts[i].path ||
		    (!res->artefacts[i].data && res->artefacts[i].len))
			return errmsg_set(reterr, -EINVAL, "artefacts[%zu]: NULL path or data", i);
	wire_out_init(&w, out);
	r = result_pack(res, &w);
	if (r < 0) {
		r = errmsg_set(reterr, r, "encoding result: %s", errno_name(r));
		goto fail;
	}
	r = wire_result_decode(out->data + start, out->len - start, &check, reterr);
	if (r < 0)
		goto fail;
	wire_result_clear(&check);
	return 0;
fail:
	out->len = start;
	return r;
}
