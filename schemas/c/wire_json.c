/*
 * wire_json: renders a result record as one JSON object for `corral result --json` and tools.
 * Hand-written so libwire needs no JSON library. Strings are escaped per RFC 8259; bytes that are
 * not valid UTF-8 become U+FFFD so the output is always valid JSON. It must not parse JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "wire.h"

/* Length of the valid UTF-8 sequence at s (≤ n bytes), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t need;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

static int json_str(struct buf *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str);
	char esc[8];
	int r;

	r = buf_append(out, "\"", 1);
	for (size_t i = 0; r == 0 && i < n;) {
		unsigned char c = s[i];
		size_t l;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			r = buf_append(out, esc, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			const char *named = c == '\n' ? "\\n" : c == '\t' ? "\\t" :
					    c == '\r' ? "\\r" : NULL;

			if (named) {
				r = buf_append(out, named, 2);
			} else {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				r = buf_append(out, esc, 6);
			}
			i++;
		} else if ((l = utf8_len(s + i, n - i)) == 0) {
			r = buf_append(out, "\\ufffd", 6);
			i++;
		} else {
			r = buf_append(out, s + i, l);
			i += l;
		}
	}
	if (r == 0)
		r = buf_append(out, "\"", 1);
	return r;
}

static int json_raw(struct buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int json_raw(struct buf *out, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -EINVAL;
	return buf_append(out, tmp, (size_t)n);
}

static int json_kstr(struct buf *out, const char *key, const char *val)
{
	int r = json_raw(out, ",\"%s\":", key);

	return r < 0 ? r : json_str(out, val);
}

static int json_b64(struct buf *out, const uint8_t *p, size_t len)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[4];
	int r;

	r = buf_reserve(out, 2 + (len + 2) / 3 * 4);
	if (!r)
		r = buf_append(out, "\"", 1);
	for (size_t i = 0; !r && i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		q[0] = tab[(v >> 18) & 63];
		q[1] = tab[(v >> 12) & 63];
		q[2] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? tab[v & 63] : '=';
		r = buf_append(out, q, 4);
	}
	if (!r)
		r = buf_append(out, "\"", 1);
	return r;
}

static int json_artefacts(struct buf *out, const struct wire_result *res)
{
	int r = json_raw(out, ",\"artefacts_truncated\":%s,\"artefacts\":[",
			 res->artefacts_truncated ? "true" : "false");

	for (size_t i = 0; !r && i < res->nartefacts; i++) {
		const struct wire_artefact *a = &res->artefacts[i];

		r = json_raw(out, "%s{\"path\":", i ? "," : "");
		if (!r)
			r = json_str(out, a->path);
		if (!r)
			r = json_raw(out, ",\"size\":%" PRIu64 ",\"mode\":%" PRIu32
				     ",\"truncated\":%s,\"len\":%zu,\"data_b64\":", a->size, a->mode,
				     a->truncated ? "true" : "false", a->len);
		if (!r)
			r = json_b64(out, a->data, a->len);
		if (!r)
			r = buf_append(out, "}", 1);
	}
	if (!r)
		r = buf_append(out, "]", 1);
	return r;
}

int wire_result_to_json(const struct wire_result *res, struct buf *out)
{
	const struct wire_timings *t = &res->t;
	size_t start = out->len;
	int r;

	if (strnlen(res->id, sizeof(res->id)) == sizeof(res->id) ||
	    strnlen(res->reason, sizeof(res->reason)) == sizeof(res->reason) ||
	    strnlen(res->worker, sizeof(res->worker)) == sizeof(res->worker) ||
	    strnlen(res->accel, sizeof(res->accel)) == sizeof(res->accel) ||
	    strnlen(res->commit, sizeof(res->commit)) == sizeof(res->commit) ||
	    strnlen(res->limit, sizeof(res->limit)) == sizeof(res->limit) ||
	    (res->nartefacts && !res->artefacts))
		return -EINVAL;
	for (size_t i = 0; i < res->nartefacts; i++)
		if (!res->artefacts[i].path || (res->artefacts[i].len && !res->artefacts[i].data))
			return -EINVAL;
	r = json_raw(out, "{\"v\":%d,\"id\":", WIRE_VERSION);
	if (!r)
		r = json_str(out, res->id);
	if (!r)
		r = json_kstr(out, "state", wire_state_name(res->state));
	if (!r)
		r = json_raw(out, ",\"attempt\":%" PRIu32, res->attempt);
	if (!r)
		r = res->has_exit_code ? json_raw(out, ",\"exit_code\":%" PRId32, res->exit_code) :
		    json_raw(out, ",\"exit_code\":null");
	if (!r)
		r = json_raw(out, ",\"signal\":%" PRId32, res->signal);
	if (!r)
		r = json_kstr(out, "reason", res->reason);
	if (!r)
		r = json_kstr(out, "worker", res->worker);
	if (!r)
		r = json_kstr(out, "accel", res->accel);
	if (!r)
		r = json_kstr(out, "limit", res->limit);
	if (!r)
		r = json_raw(out, ",\"stdout_bytes\":%" PRIu64 ",\"stderr_bytes\":%" PRIu64
			     ",\"truncated\":%s", res->stdout_bytes, res->stderr_bytes,
			     res->truncated ? "true" : "false");
	if (!r)
		r = json_raw(out, ",\"timings\":{\"queued_ms\":%" PRIu64 ",\"claimed_ms\":%" PRIu64
			     ",\"vm_ms\":%" PRIu64 ",\"started_ms\":%" PRIu64, t->queued_ms,
			     t->claimed_ms, t->vm_ms, t->started_ms);
	if (!r)
		r = json_raw(out, ",\"first_output_ms\":%" PRIu64 ",\"exited_ms\":%" PRIu64
			     ",\"written_ms\":%" PRIu64, t->first_output_ms, t->exited_ms,
			     t->written_ms);
	if (!r)
		r = json_raw(out, ",\"fetch_ms\":%" PRIu64 ",\"files_ms\":%" PRIu64
			     ",\"collect_ms\":%" PRIu64 ",\"mirror_hit\":%s}", t->fetch_ms,
			     t->files_ms, t->collect_ms, t->mirror_hit ? "true" : "false");
	if (!r)
		r = json_kstr(out, "commit", res->commit);
	if (!r)
		r = json_artefacts(out, res);
	if (!r)
		r = buf_append(out, "}", 1);
	if (r < 0)
		out->len = start;
	return r;
}
