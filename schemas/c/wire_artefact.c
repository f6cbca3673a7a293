/*
 * wire_artefact: the artefacts array of the result record (schemas/result.md): files collected
 * from the guest after the command ran, each {path, size, mode, data, truncated}. Decoding bounds
 * the count (WIRE_ARTEFACTS_COUNT_MAX) and the total data (WIRE_ARTEFACTS_MAX_LIMIT) before
 * copying; wire_result_clear() frees what a decode allocated. It does not decide what is kept:
 * the worker applies the job's artefacts_max.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "wire_internal.h"
#include "wire_result_int.h"

enum { A_PATH, A_SIZE, A_MODE, A_DATA, A_TRUNC, A_COUNT_ };
static const char *const artefact_keys[A_COUNT_] = { "path", "size", "mode", "data", "truncated" };

void wire_result_clear(struct wire_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->artefacts && i < r->nartefacts; i++) {
		free(r->artefacts[i].path);
		free(r->artefacts[i].data);
	}
	free(r->artefacts);
	r->artefacts = NULL;
	r->nartefacts = 0;
}

static int artefact(const msgpack_object *o, uint32_t i, struct wire_artefact *a, size_t *total,
		    struct errmsg *reterr)
{
	const msgpack_object *k[A_COUNT_];
	char name[WIRE_NAME_MAX + 16], ctx[32];
	uint64_t mode = 0;
	int r;

	snprintf(ctx, sizeof(ctx), "artefacts[%" PRIu32 "]", i);
	if (o->type != MSGPACK_OBJECT_MAP)
		return errmsg_set(reterr, -EBADMSG, "%s: expected map, got %s", ctx,
				  wire_type_name(o));
	snprintf(name, sizeof(name), "%s.", ctx);
	r = wire_map_fields(o, artefact_keys, A_COUNT_, k, name, reterr);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "%s.path", ctx);
	r = wire_dup_str(k[A_PATH], name, true, WIRE_PATH_MAX, &a->path, reterr);
	if (r < 0)
		return r;
	if (a->path[0] != '/')
		return errmsg_set(reterr, -EINVAL, "%s: not an absolute path", name);
	snprintf(name, sizeof(name), "%s.size", ctx);
	r = wire_get_u64(k[A_SIZE], name, true, 0, INT64_MAX, &a->size, reterr);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "%s.mode", ctx);
	r = wire_get_u64(k[A_MODE], name, false, 0, WIRE_MODE_MAX, &mode, reterr);
	if (r < 0)
		return r;
	a->mode = (uint32_t)mode;
	snprintf(name, sizeof(name), "%s.data", ctx);
	r = wire_dup_bin(k[A_DATA], name, false, WIRE_ARTEFACTS_MAX_LIMIT, &a->data, &a->len,
			 reterr);
	if (r < 0)
		return r;
	if (a->len > a->size)
		return errmsg_set(reterr, -EINVAL, "%s: %zu bytes of data, more than its size %"
				  PRIu64, name, a->len, a->size);
	*total += a->len;
	if (*total > WIRE_ARTEFACTS_MAX_LIMIT)
		return errmsg_set(reterr, -EMSGSIZE, "artefacts: more than %u bytes of data in "
				  "total (at %s)", WIRE_ARTEFACTS_MAX_LIMIT, ctx);
	snprintf(name, sizeof(name), "%s.truncated", ctx);
	r = wire_get_bool(k[A_TRUNC], name, false, &a->truncated, reterr);
	if (r < 0)
		return r;
	if (a->len < a->size && !a->truncated)
		return errmsg_set(reterr, -EINVAL, "%s: %zu of %" PRIu64 " bytes but not marked "
				  "truncated", ctx, a->len, a->size);
	return 0;
}

int wire_result_artefacts(const msgpack_object *o, struct wire_result *res,
			  struct errmsg *reterr)
{
	size_t total = 0;
	uint32_t n;
	int r;

	if (wire_absent(o))
		return 0;
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return errmsg_set(reterr, -EBADMSG, "artefacts: expected array, got %s",
				  wire_type_name(o));
	n = o->via.array.size;
	if (n == 0)
		return 0;
	if (n > WIRE_ARTEFACTS_COUNT_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "artefacts: %" PRIu32 " items, more than %d",
				  n, WIRE_ARTEFACTS_COUNT_MAX);
	res->artefacts = calloc(n, sizeof(*res->artefacts));
	if (!res->artefacts)
		return errmsg_set(reterr, -ENOMEM, "artefacts: out of memory");
	for (uint32_t i = 0; i < n; i++) {
		res->nartefacts = i + 1;
		r = artefact(&o->via.array.ptr[i], i, &res->artefacts[i], &total, reterr);
		if (r < 0)
			return r;
	}
	return 0;
}

int wire_result_pack_artefacts(const struct wire_result *res, struct wire_out *w)
{
	int r = wire_pack_key(w, "artefacts");

	if (!r)
		r = wire_out_status(w, msgpack_pack_array(&w->pk, res->nartefacts));
	for (size_t i = 0; !r && i < res->nartefacts; i++) {
		const struct wire_artefact *a = &res->artefacts[i];

		r = wire_pack_map(w, 5);
		if (!r)
			r = wire_kv_str(w, "path", a->path);
		if (!r)
			r = wire_kv_u64(w, "size", a->size);
		if (!r)
			r = wire_kv_u64(w, "mode", a->mode);
		if (!r)
			r = wire_kv_bin(w, "data", a->data, a->len);
		if (!r)
			r = wire_kv_bool(w, "truncated", a->truncated);
	}
	return r;
}
