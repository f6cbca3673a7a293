/*
 * wire_template: decode, validate and encode the template record (schemas/template.md), the
 * value of one field of the <prefix>templates hash: a named VM shape (image, vCPUs, memory, disk,
 * pids, timeout, env, warm-up command, network allow-list) with a version bumped by every write.
 * Records are written by operators but read by every worker, so they are checked as strictly as
 * jobs. The encoder always writes every key. It must not know about Redis, pools or VMs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "wire_internal.h"

enum { T_NAME, T_VERSION, T_IMAGE, T_VCPUS, T_MEMORY, T_DISK, T_PIDS, T_TIMEOUT, T_ENV, T_WARMUP,
       T_NETWORK, T_ALLOW, T_CREATED, T_COUNT_ };
static const char *const template_keys[T_COUNT_] = {
	"name", "version", "image", "vcpus", "memory_mib", "disk_mib", "pids_max", "timeout_ms",
	"env", "warmup", "network", "allow", "created_ms",
};

struct wire_template *wire_template_new(const char *name)
{
	struct wire_template *t;
	size_t n = name ? strlen(name) : 0;

	if (!name || wire_check_name("name", name, n, WIRE_TEMPLATE_MAX, NULL) < 0)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	memcpy(t->name, name, n + 1);
	t->version = 1;
	strcpy(t->image, WIRE_TEMPLATE_IMAGE_DEFAULT);
	t->vcpus = WIRE_TEMPLATE_VCPUS_DEFAULT;
	t->memory_mib = WIRE_TEMPLATE_MEMORY_DEFAULT;
	t->disk_mib = WIRE_TEMPLATE_DISK_DEFAULT;
	t->pids_max = WIRE_TEMPLATE_PIDS_DEFAULT;
	t->timeout_ms = WIRE_TIMEOUT_MS_DEFAULT;
	t->warmup = strdup(WIRE_TEMPLATE_WARMUP_DEFAULT);
	if (!t->warmup) {
		free(t);
		return NULL;
	}
	return t;
}

struct wire_template *wire_template_free(struct wire_template *t)
{
	if (!t)
		return NULL;
	wire_strv_free(t->env);
	wire_strv_free(t->allow);
	free(t->warmup);
	free(t);
	return NULL;
}

/* An array of ≤ max strings, each checked by check(field, s, len); duplicates refused when
 * keylen says how much of an item is its identity (NULL: the whole item). */
typedef int (*item_check_fn)(const char *field, const char *s, size_t len, struct errmsg *e);

static size_t env_keylen(const char *s)
{
	return (size_t)(strchr(s, '=') - s);
}

static int get_strings(const msgpack_object *o, const char *field, size_t max, size_t itemmax,
		       item_check_fn check, size_t (*keylen)(const char *), const char *dupwhat,
		       char ***ret, size_t *retc, struct errmsg *reterr)
{
	char name[WIRE_NAME_MAX];
	char **v;
	uint32_t n;
	int r;

	if (wire_absent(o))
		return 0;
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return errmsg_set(reterr, -EBADMSG, "%s: expected array, got %s", field,
				  wire_type_name(o));
	n = o->via.array.size;
	if (n == 0)
		return 0;
	if (n > max)
		return errmsg_set(reterr, -EMSGSIZE, "%s: %" PRIu32 " items, more than %zu", field,
				  n, max);
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return errmsg_set(reterr, -ENOMEM, "%s: out of memory", field);
	for (uint32_t i = 0; i < n; i++) {
		const char *p;
		size_t len, kl;

		snprintf(name, sizeof(name), "%s[%" PRIu32 "]", field, i);
		r = wire_get_strn(&o->via.array.ptr[i], name, true, itemmax, &p, &len, reterr);
		if (r < 0)
			goto fail;
		r = check(name, p, len, reterr);
		if (r < 0)
			goto fail;
		v[i] = strndup(p, len);
		if (!v[i]) {
			r = errmsg_set(reterr, -ENOMEM, "%s: out of memory", field);
			goto fail;
		}
		kl = keylen ? keylen(v[i]) : len;
		for (uint32_t j = 0; j < i; j++) {
			size_t jl = keylen ? keylen(v[j]) : strlen(v[j]);

			if (jl == kl && memcmp(v[j], v[i], kl) == 0) {
				r = errmsg_set(reterr, -EINVAL, "%s: duplicate %s", name, dupwhat);
				goto fail;
			}
		}
	}
	*ret = v;
	*retc = n;
	return 1;
fail:
	wire_strv_free(v);
	return r;
}

static int get_image(const msgpack_object *o, struct wire_template *t, struct errmsg *reterr)
{
	const char *p;
	size_t n;
	char q[64];
	int r;

	r = wire_get_strn(o, "image", false, WIRE_IMAGE_MAX, &p, &n, reterr);
	if (r <= 0)
		return r;
	if (n == 0)
		return errmsg_set(reterr, -EINVAL, "image: empty");
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')
			continue;
		wire_quote(q, sizeof(q), p, n);
		return errmsg_set(reterr, -EINVAL, "image: %s has a character outside [a-z0-9_-]",
				  q);
	}
	memcpy(t->image, p, n);
	t->image[n] = '\0';
	return 1;
}

static int get_u32(const msgpack_object *o, const char *field, uint32_t min, uint32_t max,
		   uint32_t *ret, struct errmsg *reterr)
{
	uint64_t u = *ret;
	int r = wire_get_u64(o, field, false, min, max, &u, reterr);

	if (r > 0)
		*ret = (uint32_t)u;
	return r;
}

static int get_network(const msgpack_object *o, struct wire_template *t, struct errmsg *reterr)
{
	const char *p;
	size_t n;
	char q[64];
	int r;

	r = wire_get_strn(o, "network", false, 16, &p, &n, reterr);
	if (r == -EMSGSIZE) {
		p = o->type == MSGPACK_OBJECT_STR ? o->via.str.ptr : o->via.bin.ptr;
		n = 16;
	} else if (r <= 0) {
		return r;
	}
	if (n == 4 && memcmp(p, "none", 4) == 0) {
		t->network = false;
		return 1;
	}
	if (n == 5 && memcmp(p, "allow", 5) == 0) {
		t->network = true;
		return 1;
	}
	wire_quote(q, sizeof(q), p, n);
	return errmsg_set(reterr, -EINVAL, "network: unknown value %s (expected none or allow)", q);
}

static int template_fields(const msgpack_object **f, struct wire_template *t,
			   struct errmsg *reterr)
{
	const char *p;
	size_t n;
	uint64_t u;
	int r;

	r = wire_get_strn(f[T_NAME], "name", true, WIRE_TEMPLATE_MAX, &p, &n, reterr);
	if (r < 0)
		return r;
	r = wire_check_name("name", p, n, WIRE_TEMPLATE_MAX, reterr);
	if (r < 0)
		return r;
	memcpy(t->name, p, n);
	t->name[n] = '\0';
	r = wire_get_u64(f[T_VERSION], "version", true, 1, UINT32_MAX, &u, reterr);
	if (r < 0)
		return r;
	t->version = (uint32_t)u;
	r = get_image(f[T_IMAGE], t, reterr);
	if (r < 0)
		return r;
	if ((r = get_u32(f[T_VCPUS], "vcpus", 1, WIRE_TEMPLATE_VCPUS_MAX, &t->vcpus, reterr)) < 0 ||
	    (r = get_u32(f[T_MEMORY], "memory_mib", WIRE_TEMPLATE_MEMORY_MIN,
			 WIRE_TEMPLATE_MEMORY_MAX, &t->memory_mib, reterr)) < 0 ||
	    (r = get_u32(f[T_DISK], "disk_mib", WIRE_TEMPLATE_DISK_MIN, WIRE_TEMPLATE_DISK_MAX,
			 &t->disk_mib, reterr)) < 0 ||
	    (r = get_u32(f[T_PIDS], "pids_max", WIRE_TEMPLATE_PIDS_MIN, WIRE_TEMPLATE_PIDS_MAX,
			 &t->pids_max, reterr)) < 0 ||
	    (r = get_u32(f[T_TIMEOUT], "timeout_ms", 1, WIRE_TIMEOUT_MS_MAX, &t->timeout_ms,
			 reterr)) < 0)
		return r;
	r = get_strings(f[T_ENV], "env", WIRE_TEMPLATE_ENVC_MAX, WIRE_TEMPLATE_ENV_ITEM_MAX,
			wire_check_env_item, env_keylen, "key", &t->env, &t->envc, reterr);
	if (r < 0)
		return r;
	if (!wire_absent(f[T_WARMUP])) {
		char *w = NULL;

		r = wire_dup_str(f[T_WARMUP], "warmup", false, WIRE_TEMPLATE_WARMUP_MAX, &w,
				 reterr);
		if (r < 0)
			return r;
		free(t->warmup);
		t->warmup = w;
	}
	r = get_network(f[T_NETWORK], t, reterr);
	if (r < 0)
		return r;
	r = get_strings(f[T_ALLOW], "allow", WIRE_TEMPLATE_ALLOW_MAX, WIRE_HOST_MAX + 6,
			wire_check_allow, NULL, "pattern", &t->allow, &t->nallow, reterr);
	if (r < 0)
		return r;
	if (t->network && t->nallow == 0)
		return errmsg_set(reterr, -EINVAL, "allow: empty, but network is 'allow' (give at "
				  "least one pattern)");
	if (!t->network && t->nallow)
		return errmsg_set(reterr, -EINVAL, "allow: %zu patterns, but network is 'none'",
				  t->nallow);
	r = wire_get_u64(f[T_CREATED], "created_ms", false, 0, INT64_MAX, &t->created_ms, reterr);
	return r < 0 ? r : 0;
}

int wire_template_decode(const void *data, size_t len, struct wire_template **ret,
			 struct errmsg *reterr)
{
	const msgpack_object *f[T_COUNT_];
	struct wire_template *t = NULL;
	struct wire_doc doc;
	int r;

	r = wire_doc_parse(&doc, data, len, WIRE_TEMPLATE_ENCODED_MAX, reterr);
	if (r < 0)
		return r;
	r = wire_map_fields(doc.map, template_keys, T_COUNT_, f, "", reterr);
	if (r < 0)
		goto out;
	t = wire_template_new("x");
	if (!t) {
		r = errmsg_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	r = template_fields(f, t, reterr);
	if (r < 0)
		goto out;
	*ret = t;
	t = NULL;
out:
	wire_template_free(t);
	wire_doc_free(&doc);
	return r;
}

static int template_pack(const struct wire_template *t, struct wire_out *w)
{
	int r;

	r = wire_pack_map(w, T_COUNT_ + 1);
	if (!r)
		r = wire_kv_u64(w, "v", WIRE_VERSION);
	if (!r)
		r = wire_kv_str(w, "name", t->name);
	if (!r)
		r = wire_kv_u64(w, "version", t->version);
	if (!r)
		r = wire_kv_str(w, "image", t->image);
	if (!r)
		r = wire_kv_u64(w, "vcpus", t->vcpus);
	if (!r)
		r = wire_kv_u64(w, "memory_mib", t->memory_mib);
	if (!r)
		r = wire_kv_u64(w, "disk_mib", t->disk_mib);
	if (!r)
		r = wire_kv_u64(w, "pids_max", t->pids_max);
	if (!r)
		r = wire_kv_u64(w, "timeout_ms", t->timeout_ms);
	if (!r)
		r = wire_kv_argv(w, "env", t->env, t->envc);
	if (!r)
		r = wire_kv_str(w, "warmup", t->warmup);
	if (!r)
		r = wire_kv_str(w, "network", t->network ? "allow" : "none");
	if (!r)
		r = wire_kv_argv(w, "allow", t->allow, t->nallow);
	if (!r)
		r = wire_kv_u64(w, "created_ms", t->created_ms);
	return r;
}

int wire_template_encode(const struct wire_template *t, struct buf *out, struct errmsg *reterr)
{
	struct wire_template *check = NULL;
	struct wire_out w;
	size_t start = out->len;
	int r;

	if (wire_check_cstr(t->name, sizeof(t->name), "name", reterr) < 0 ||
	    wire_check_cstr(t->image, sizeof(t->image), "image", reterr) < 0)
		return -EINVAL;
	if (!t->warmup)
		return errmsg_set(reterr, -EINVAL, "warmup: NULL (use \"\" for none)");
	if ((!t->env && t->envc) || (!t->allow && t->nallow))
		return errmsg_set(reterr, -EINVAL, "env/allow: NULL with a count");
	for (size_t i = 0; i < t->envc; i++)
		if (!t->env[i])
			return errmsg_set(reterr, -EINVAL, "env[%zu]: NULL", i);
	for (size_t i = 0; i < t->nallow; i++)
		if (!t->allow[i])
			return errmsg_set(reterr, -EINVAL, "allow[%zu]: NULL", i);
	wire_out_init(&w, out);
	r = template_pack(t, &w);
	if (r < 0) {
		r = errmsg_set(reterr, r, "encoding template: %s", errno_name(r));
		goto fail;
	}
	/* the encoder promises only what the decoder accepts */
	r = wire_template_decode(out->data + start, out->len - start, &check, reterr);
	wire_template_free(check);
	if (r < 0)
		goto fail;
	return 0;
fail:
	out->len = start;
	return r;
}
