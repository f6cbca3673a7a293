/*
 * wire_dump_template: the canonical "key=value" dump of a decoded template record, in the format
 * of wire_dump.c (schemas/vectors/README.md): printable ASCII as is, "\" as "\\", any other byte
 * as \xNN. Valid template vectors' .expect lines are matched against it. It must not validate.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "wire_test.h"

static int line(struct buf *out, const char *key, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char tmp[8];
	int r = buf_append(out, key, strlen(key));

	if (!r)
		r = buf_append(out, "=", 1);
	for (size_t i = 0; r == 0 && p[i]; i++) {
		if (p[i] == '\\')
			r = buf_append(out, "\\\\", 2);
		else if (p[i] >= 0x20 && p[i] < 0x7f)
			r = buf_append(out, &p[i], 1);
		else {
			snprintf(tmp, sizeof(tmp), "\\x%02x", p[i]);
			r = buf_append(out, tmp, 4);
		}
	}
	return r ? r : buf_append(out, "\n", 1);
}

static int num(struct buf *out, const char *key, uint64_t v)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	return line(out, key, tmp);
}

static int strv(struct buf *out, const char *count, const char *name, char *const *v, size_t n)
{
	char key[32];
	int r = num(out, count, n);

	for (size_t i = 0; r == 0 && i < n; i++) {
		snprintf(key, sizeof(key), "%s[%zu]", name, i);
		r = line(out, key, v[i] ? v[i] : "(null)");
	}
	return r;
}

int dump_template(const struct wire_template *t, struct buf *out)
{
	int r = line(out, "name", t->name);

	if (!r)
		r = num(out, "version", t->version);
	if (!r)
		r = line(out, "image", t->image);
	if (!r)
		r = num(out, "vcpus", t->vcpus);
	if (!r)
		r = num(out, "memory_mib", t->memory_mib);
	if (!r)
		r = num(out, "disk_mib", t->disk_mib);
	if (!r)
		r = num(out, "pids_max", t->pids_max);
	if (!r)
		r = num(out, "timeout_ms", t->timeout_ms);
	if (!r)
		r = strv(out, "envc", "env", t->env, t->envc);
	if (!r)
		r = line(out, "warmup", t->warmup ? t->warmup : "(null)");
	if (!r)
		r = line(out, "network", t->network ? "allow" : "none");
	if (!r)
		r = strv(out, "nallow", "allow", t->allow, t->nallow);
	if (!r)
		r = num(out, "created_ms", t->created_ms);
	return r;
}
