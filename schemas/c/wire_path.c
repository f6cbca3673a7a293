/*
 * wire_path: the shape checks of the file-related fields shared by the job, the result and the
 * agent frames: guest paths (absolute, no "." or ".." component), output patterns, repo subdirs
 * and git refs. Pure string checks: it never touches a filesystem, and the guest agent still does
 * its own symlink-safe resolution; these checks only refuse what can never be valid.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "wire_internal.h"

/* Walks the '/'-separated components of s[0..len): -EINVAL naming the first bad one. */
static int check_components(const char *field, const char *s, size_t len, bool allow_empty,
			    struct errmsg *reterr)
{
	size_t i = 0;

	while (i <= len) {
		const char *c = s + i;
		const char *slash = memchr(c, '/', len - i);
		size_t n = slash ? (size_t)(slash - c) : len - i;

		if (n == 0 && !allow_empty)
			return errmsg_set(reterr, -EINVAL, "%s: empty path component", field);
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return errmsg_set(reterr, -EINVAL, "%s: '%.*s' path component not allowed",
					  field, (int)n, c);
		i += n + 1;
	}
	return 0;
}

int wire_check_path(const char *field, const char *s, size_t len, struct errmsg *reterr)
{
	if (len > WIRE_PATH_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "%s: %zu bytes, longer than %d", field, len,
				  WIRE_PATH_MAX);
	if (len && memchr(s, '\0', len))
		return errmsg_set(reterr, -EINVAL, "%s: contains a NUL byte", field);
	if (len == 0 || s[0] != '/')
		return errmsg_set(reterr, -EINVAL, "%s: not an absolute path", field);
	size_t slashes = 0;

	while (slashes < len && s[slashes] == '/')
		slashes++;
	if (slashes == len)
		return errmsg_set(reterr, -EINVAL, "%s: is the root directory", field);
	/* "//x" and "x/" are harmless spellings; only "." and ".." components are refused */
	return check_components(field, s + 1, len - 1, true, reterr);
}

int wire_check_subdir(const char *field, const char *s, size_t len, struct errmsg *reterr)
{
	if (len == 0)
		return errmsg_set(reterr, -EINVAL, "%s: empty", field);
	if (len > WIRE_SUBDIR_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "%s: %zu bytes, longer than %d", field, len,
				  WIRE_SUBDIR_MAX);
	if (memchr(s, '\0', len))
		return errmsg_set(reterr, -EINVAL, "%s: contains a NUL byte", field);
	if (s[0] == '/')
		return errmsg_set(reterr, -EINVAL, "%s: must be relative (leading '/')", field);
	return check_components(field, s, len, false, reterr);
}

static bool is_hex40(const char *s, size_t len)
{
	if (len != WIRE_COMMIT_HEX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

int wire_check_ref(const char *field, const char *s, size_t len, struct errmsg *reterr)
{
	char q[64];

	if (len == 0)
		return errmsg_set(reterr, -EINVAL, "%s: empty", field);
	if (len > WIRE_REF_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "%s: %zu bytes, longer than %d", field, len,
				  WIRE_REF_MAX);
	if (is_hex40(s, len))
		return 0;
	wire_quote(q, sizeof(q), s, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c == 0x7f || strchr("~^:?*[\\", c))
			return errmsg_set(reterr, -EINVAL, "%s: %s is not a valid ref name "
					  "(bad character)", field, q);
	}
	if (s[0] == '-' || s[0] == '/' || s[len - 1] == '/' || s[len - 1] == '.' ||
	    memmem(s, len, "..", 2) || memmem(s, len, "//", 2) || memmem(s, len, "@{", 2) ||
	    memmem(s, len, "/.", 2) || s[0] == '.' ||
	    (len >= 5 && memcmp(s + len - 5, ".lock", 5) == 0) || (len == 1 && s[0] == '@'))
		return errmsg_set(reterr, -EINVAL, "%s: %s is not a valid ref name", field, q);
	return 0;
}

int wire_get_patterns(const msgpack_object *o, const char *field, size_t max, bool required,
		      char ***ret, size_t *retc, struct errmsg *reterr)
{
	char name[WIRE_NAME_MAX];
	char **v = NULL;
	uint32_t n;
	int r;

	if (wire_absent(o)) {
		if (!required)
			return 0;
		return errmsg_set(reterr, -EBADMSG, o ? "%s: expected array, got nil" :
				  "%s: missing", field);
	}
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return errmsg_set(reterr, -EBADMSG, "%s: expected array, got %s", field,
				  wire_type_name(o));
	n = o->via.array.size;
	if (n == 0 && required)
		return errmsg_set(reterr, -EINVAL, "%s: empty", field);
	if (n > max)
		return errmsg_set(reterr, -EMSGSIZE, "%s: %" PRIu32 " items, more than %zu", field,
				  n, max);
	if (n == 0)
		return 1;
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return errmsg_set(reterr, -ENOMEM, "%s: out of memory", field);
	for (uint32_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s[%" PRIu32 "]", field, i);
		r = wire_dup_str(&o->via.array.ptr[i], name, true, WIRE_PATH_MAX, &v[i], reterr);
		if (r < 0)
			goto fail;
		if (v[i][0] != '/') {
			r = errmsg_set(reterr, -EINVAL, "%s: not an absolute path", name);
			goto fail;
		}
	}
	*ret = v;
	*retc = n;
	return 1;
fail:
	wire_strv_free(v);
	return r;
}
