/*
 * wire_pack: the msgpack packer glue every encoder uses. It appends straight into a bounded
 * struct buf and remembers the buf's error (e.g. -EMSGSIZE when the buffer's cap is hit), so an
 * encoder can report it. It does not validate field values: encoders re-decode what they wrote.
 */
#include <errno.h>
#include <string.h>

#include "wire.h"
#include "wire_internal.h"

static int out_write(void *data, const char *p, size_t len)
{
	struct wire_out *w = data;
	int r;

	if (w->err)
		return w->err;
	r = buf_append(w->b, p, len);
	if (r < 0)
		w->err = r;
	return r;
}

void wire_out_init(struct wire_out *w, struct buf *b)
{
	w->b = b;
	w->err = 0;
	msgpack_packer_init(&w->pk, w, out_write);
}

int wire_out_status(struct wire_out *w, int packer_ret)
{
	if (w->err)
		return w->err;
	return packer_ret ? -EIO : 0;
}

int wire_pack_strn(struct wire_out *w, const char *s, size_t len)
{
	int r;

	if (len > UINT32_MAX)
		return -EMSGSIZE;
	r = msgpack_pack_str(&w->pk, len);
	if (!r && len)
		r = msgpack_pack_str_body(&w->pk, s, len);
	return wire_out_status(w, r);
}

int wire_pack_str(struct wire_out *w, const char *s)
{
	if (!s)
		return -EINVAL;
	return wire_pack_strn(w, s, strlen(s));
}

int wire_pack_key(struct wire_out *w, const char *key)
{
	return wire_pack_str(w, key);
}

int wire_pack_bin(struct wire_out *w, const void *p, size_t len)
{
	int r;

	if (len > UINT32_MAX)
		return -EMSGSIZE;
	if (len && !p)
		return -EINVAL;
	r = msgpack_pack_bin(&w->pk, len);
	if (!r && len)
		r = msgpack_pack_bin_body(&w->pk, p, len);
	return wire_out_status(w, r);
}

int wire_pack_u64(struct wire_out *w, uint64_t v)
{
	return wire_out_status(w, msgpack_pack_uint64(&w->pk, v));
}

int wire_pack_i64(struct wire_out *w, int64_t v)
{
	return wire_out_status(w, msgpack_pack_int64(&w->pk, v));
}

int wire_pack_argv(struct wire_out *w, char *const *v, size_t n)
{
	int r;

	if (n > UINT32_MAX || (n && !v))
		return -EINVAL;
	r = wire_out_status(w, msgpack_pack_array(&w->pk, n));
	for (size_t i = 0; r == 0 && i < n; i++)
		r = wire_pack_str(w, v[i]);
	return r;
}

int wire_kv_u64(struct wire_out *w, const char *key, uint64_t v)
{
	int r = wire_pack_key(w, key);

	return r < 0 ? r : wire_pack_u64(w, v);
}

int wire_kv_i64(struct wire_out *w, const char *key, int64_t v)
{
	int r = wire_pack_key(w, key);

	return r < 0 ? r : wire_pack_i64(w, v);
}

int wire_kv_str(struct wire_out *w, const char *key, const char *s)
{
	int r = wire_pack_key(w, key);

	return r < 0 ? r : wire_pack_str(w, s);
}

int wire_kv_bin(struct wire_out *w, const char *key, const void *p, size_t len)
{
	int r = wire_pack_key(w, key);

	return r < 0 ? r : wire_pack_bin(w, p, len);
}

int wire_kv_bool(struct wire_out *w, const char *key, bool v)
{
	int r = wire_pack_key(w, key);

	if (r < 0)
		return r;
	return wire_out_status(w, v ? msgpack_pack_true(&w->pk) : msgpack_pack_false(&w->pk));
}

int wire_kv_argv(struct wire_out *w, const char *key, char *const *v, size_t n)
{
	int r = wire_pack_key(w, key);

	return r < 0 ? r : wire_pack_argv(w, v, n);
}

int wire_pack_map(struct wire_out *w, size_t n)
{
	if (n > UINT32_MAX)
		return -EMSGSIZE;
	return wire_out_status(w, msgpack_pack_map(&w->pk, n));
}

int wire_check_cstr(const char *s, size_t size, const char *field, struct errmsg *reterr)
{
	if (strnlen(s, size) == size)
		return errmsg_set(reterr, -EINVAL, "%s: not NUL-terminated", field);
	return 0;
}
