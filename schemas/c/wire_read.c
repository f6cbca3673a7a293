/*
 * wire_read: typed, bounded field getters over a parsed msgpack map, shared by every decoder.
 * Each getter checks type, range and length and names the field in its error ("argv[2]:
 * expected string, got int"). Strings are accepted as str or bin and refused when they hold a NUL
 * byte. It never keeps pointers into the input: copies are malloc()ed or go to caller buffers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "wire_internal.h"

const char *wire_type_name(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: return "nil";
	case MSGPACK_OBJECT_BOOLEAN: return "bool";
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "int";
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: return "float";
	case MSGPACK_OBJECT_STR: return "string";
	case MSGPACK_OBJECT_BIN: return "bin";
	case MSGPACK_OBJECT_ARRAY: return "array";
	case MSGPACK_OBJECT_MAP: return "map";
	case MSGPACK_OBJECT_EXT: return "ext";
	}
	return "unknown";
}

bool wire_absent(const msgpack_object *o)
{
	return !o || o->type == MSGPACK_OBJECT_NIL;
}

void wire_quote(char *dst, size_t dstsize, const char *s, size_t len)
{
	size_t o = 0, cap = 32;

	if (dstsize < 8) {
		if (dstsize)
			dst[0] = '\0';
		return;
	}
	dst[o++] = '\'';
	for (size_t i = 0; i < len && i < cap && o + 6 < dstsize; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
			dst[o++] = (char)c;
		else
			o += (size_t)snprintf(dst + o, dstsize - o, "\\x%02x", c);
	}
	if (len > cap && o + 5 < dstsize) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o++] = '\'';
	dst[o] = '\0';
}

static int str_key(const msgpack_object *k, const char **p, size_t *n)
{
	if (k->type == MSGPACK_OBJECT_STR) {
		*p = k->via.str.ptr;
		*n = k->via.str.size;
		return 0;
	}
	if (k->type == MSGPACK_OBJECT_BIN) {
		*p = k->via.bin.ptr;
		*n = k->via.bin.size;
		return 0;
	}
	return -EBADMSG;
}

int wire_map_fields(const msgpack_object *map, const char *const *names, size_t n,
		    const msgpack_object **vals, const char *ctx, struct errmsg *reterr)
{
	for (size_t i = 0; i < n; i++)
		vals[i] = NULL;
	for (uint32_t k = 0; k < map->via.map.size; k++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[k];
		const char *p;
		size_t len;

		if (str_key(&kv->key, &p, &len) < 0)
			return errmsg_set(reterr, -EBADMSG, "%smap key %" PRIu32
					  ": expected string, got %s", ctx, k,
					  wire_type_name(&kv->key));
		for (size_t i = 0; i < n; i++) {
			if (strlen(names[i]) != len || memcmp(names[i], p, len) != 0)
				continue;
			if (vals[i])
				return errmsg_set(reterr, -EBADMSG, "%s%s: duplicate key", ctx,
						  names[i]);
			vals[i] = &kv->val;
			break;
		}
	}
	return 0;
}

static int absent(const msgpack_object *o, const char *field, bool required, const char *want,
		  struct errmsg *reterr)
{
	if (!required)
		return 0;
	if (!o)
		return errmsg_set(reterr, -EBADMSG, "%s: missing", field);
	return errmsg_set(reterr, -EBADMSG, "%s: expected %s, got nil", field, want);
}

int wire_get_u64(const msgpack_object *o, const char *field, bool required, uint64_t min,
		 uint64_t max, uint64_t *ret, struct errmsg *reterr)
{
	uint64_t v;

	if (wire_absent(o))
		return absent(o, field, required, "unsigned integer", reterr);
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return errmsg_set(reterr, -EINVAL, "%s: negative value %" PRId64 " not allowed",
				  field, o->via.i64);
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return errmsg_set(reterr, -EBADMSG, "%s: expected unsigned integer, got %s", field,
				  wire_type_name(o));
	v = o->via.u64;
	if (v > max)
		return errmsg_set(reterr, -EINVAL, "%s: %" PRIu64 " exceeds %" PRIu64, field, v,
				  max);
	if (v < min)
		return errmsg_set(reterr, -EINVAL, "%s: %" PRIu64 " is below %" PRIu64, field, v,
				  min);
	*ret = v;
	return 1;
}

int wire_get_i64(const msgpack_object *o, const char *field, bool required, int64_t min,
		 int64_t max, int64_t *ret, struct errmsg *reterr)
{
	int64_t v;

	if (wire_absent(o))
		return absent(o, field, required, "integer", reterr);
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (o->via.u64 > (uint64_t)max)
			return errmsg_set(reterr, -EINVAL, "%s: %" PRIu64 " exceeds %" PRId64,
					  field, o->via.u64, max);
		v = (int64_t)o->via.u64;
	} else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		v = o->via.i64;
	} else {
		return errmsg_set(reterr, -EBADMSG, "%s: expected integer, got %s", field,
				  wire_type_name(o));
	}
	if (v > max)
		return errmsg_set(reterr, -EINVAL, "%s: %" PRId64 " exceeds %" PRId64, field, v,
				  max);
	if (v < min)
		return errmsg_set(reterr, -EINVAL, "%s: %" PRId64 " is below %" PRId64, field, v,
				  min);
	*ret = v;
	return 1;
}

int wire_get_bool(const msgpack_object *o, const char *field, bool required, bool *ret,
		  struct errmsg *reterr)
{
	if (wire_absent(o))
		return absent(o, field, required, "bool", reterr);
	if (o->type != MSGPACK_OBJECT_BOOLEAN)
		return errmsg_set(reterr, -EBADMSG, "%s: expected bool, got %s", field,
				  wire_type_name(o));
	*ret = o->via.boolean;
	return 1;
}

static int get_bytes(const msgpack_object *o, const char *field, bool required, size_t max,
		     const char **ptr, size_t *len, struct errmsg *reterr)
{
	if (wire_absent(o))
		return absent(o, field, required, "string", reterr);
	if (o->type == MSGPACK_OBJECT_STR) {
		*ptr = o->via.str.ptr;
		*len = o->via.str.size;
	} else if (o->type == MSGPACK_OBJECT_BIN) {
		*ptr = o->via.bin.ptr;
		*len = o->via.bin.size;
	} else {
		return errmsg_set(reterr, -EBADMSG, "%s: expected string, got %s", field,
				  wire_type_name(o));
	}
	if (*len > max)
		return errmsg_set(reterr, -EMSGSIZE, "%s: %zu bytes, longer than %zu", field,
				  *len, max);
	return 1;
}

int wire_get_strn(const msgpack_object *o, const char *field, bool required, size_t max,
		  const char **ptr, size_t *len, struct errmsg *reterr)
{
	int r = get_bytes(o, field, required, max, ptr, len, reterr);

	if (r <= 0)
		return r;
	if (*len && memchr(*ptr, '\0', *len))
		return errmsg_set(reterr, -EINVAL, "%s: contains a NUL byte", field);
	return 1;
}

int wire_copy_str(const msgpack_object *o, const char *field, bool required, char *dst,
		  size_t dstsize, struct errmsg *reterr)
{
	const char *p;
	size_t n;
	int r;

	r = wire_get_strn(o, field, required, dstsize - 1, &p, &n, reterr);
	if (r <= 0)
		return r;
	if (n)
		memcpy(dst, p, n);
	dst[n] = '\0';
	return 1;
}

int wire_dup_str(const msgpack_object *o, const char *field, bool required, size_t max,
		 char **ret, struct errmsg *reterr)
{
	const char *p;
	size_t n;
	char *s;
	int r;

	r = wire_get_strn(o, field, required, max, &p, &n, reterr);
	if (r <= 0)
		return r;
	s = malloc(n + 1);
	if (!s)
		return errmsg_set(reterr, -ENOMEM, "%s: out of memory", field);
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	*ret = s;
	return 1;
}

int wire_dup_bin(const msgpack_object *o, const char *field, bool required, size_t max,
		 uint8_t **ret, size_t *retlen, struct errmsg *reterr)
{
	const char *p;
	size_t n;
	uint8_t *d = NULL;
	int r;

	r = get_bytes(o, field, required, max, &p, &n, reterr);
	if (r <= 0)
		return r;
	if (n) {
		d = malloc(n);
		if (!d)
			return errmsg_set(reterr, -ENOMEM, "%s: out of memory", field);
		memcpy(d, p, n);
	}
	*ret = d;
	*retlen = n;
	return 1;
}

int wire_check_name(const char *field, const char *s, size_t len, size_t max,
		    struct errmsg *reterr)
{
	char q[64];

	if (len == 0)
		return errmsg_set(reterr, -EINVAL, "%s: empty", field);
	if (len > max)
		return errmsg_set(reterr, -EMSGSIZE, "%s: %zu bytes, longer than %zu", field, len,
				  max);
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-')
			continue;
		wire_quote(q, sizeof(q), s, len);
		return errmsg_set(reterr, -EINVAL, "%s: %s has a character outside [A-Za-z0-9._-]",
				  field, q);
	}
	return 0;
}

bool wire_id_valid(const char *s, size_t len)
{
	return s && wire_check_name("id", s, len, WIRE_ID_MAX, NULL) == 0;
}

char **wire_strv_free(char **v)
{
	if (!v)
		return NULL;
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
	return NULL;
}

int wire_get_argv(const msgpack_object *o, const char *field, char ***ret, size_t *retc,
		  struct errmsg *reterr)
{
	char name[WIRE_NAME_MAX];
	char **v = NULL;
	uint32_t n;
	int r;

	if (wire_absent(o))
		return absent(o, field, true, "array", reterr);
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return errmsg_set(reterr, -EBADMSG, "%s: expected array, got %s", field,
				  wire_type_name(o));
	n = o->via.array.size;
	if (n == 0)
		return errmsg_set(reterr, -EINVAL, "%s: empty", field);
	if (n > WIRE_ARGC_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "%s: %" PRIu32 " items, more than %d", field,
				  n, WIRE_ARGC_MAX);
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return errmsg_set(reterr, -ENOMEM, "%s: out of memory", field);
	for (uint32_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s[%" PRIu32 "]", field, i);
		r = wire_dup_str(&o->via.array.ptr[i], name, true, WIRE_ARG_MAX, &v[i], reterr);
		if (r < 0)
			goto fail;
	}
	if (v[0][0] == '\0') {
		r = errmsg_set(reterr, -EINVAL, "%s[0]: empty program name", field);
		goto fail;
	}
	*ret = v;
	*retc = n;
	return 1;
fail:
	wire_strv_free(v);
	return r;
}

int wire_check_env_item(const char *field, const char *s, size_t len, struct errmsg *reterr)
{
	const char *eq = memchr(s, '=', len);

	if (len > WIRE_ENV_ITEM_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "%s: %zu bytes, longer than %d", field, len,
				  WIRE_ENV_ITEM_MAX);
	if (memchr(s, '\0', len))
		return errmsg_set(reterr, -EINVAL, "%s: contains a NUL byte", field);
	if (!eq)
		return errmsg_set(reterr, -EINVAL, "%s: no '=' (expected KEY=VALUE)", field);
	if (eq == s)
		return errmsg_set(reterr, -EINVAL, "%s: empty key", field);
	return 0;
}
