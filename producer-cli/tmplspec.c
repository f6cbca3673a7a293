/*
 * tmplspec: `template create` flags → struct wire_template, and the text/JSON renderings of
 * records for list and show. Flag values get a syntax check here (numbers, KEY=VALUE); ranges,
 * names and allow patterns are checked only by libwire, whose error (which names the record
 * field) is printed together with the flag that set the field. Pure: no Redis, no files.
 */
#include "tmplspec.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobspec.h"

/* values above 1: getopt_long returns 1 for a non-option (NAME) */
enum { OPT_IMAGE = 0x100, OPT_VCPUS, OPT_MEMORY, OPT_DISK, OPT_PIDS, OPT_TIMEOUT, OPT_ENV,
       OPT_WARMUP, OPT_ALLOW, OPT_REPLACE };

static const struct option create_options[] = {
	{ "image", required_argument, NULL, OPT_IMAGE },
	{ "vcpus", required_argument, NULL, OPT_VCPUS },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "pids", required_argument, NULL, OPT_PIDS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "env", required_argument, NULL, OPT_ENV },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "allow", required_argument, NULL, OPT_ALLOW },
	{ "replace", no_argument, NULL, OPT_REPLACE },
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

/* record field → the flag that sets it, for error messages */
static const struct {
	const char *field, *flag;
} field_flags[] = {
	{ "name", "NAME" }, { "image", "--image" }, { "vcpus", "--vcpus" },
	{ "memory_mib", "--memory" }, { "disk_mib", "--disk" }, { "pids_max", "--pids" },
	{ "timeout_ms", "--timeout" }, { "env", "--env" }, { "warmup", "--warmup" },
	{ "allow", "--allow" }, { "network", "--allow" },
};

int tmplspec_parse_u32(const char *s, uint32_t *v)
{
	uint64_t x = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 10 || strspn(s, "0123456789") != n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		x = x * 10 + (uint64_t)(s[i] - '0');
	if (x > UINT32_MAX)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

int tmplspec_parse_mib(const char *s, uint32_t *mib)
{
	size_t digits = strspn(s, "0123456789");
	const char *unit = s + digits;
	uint64_t mul;
	char num[16];
	uint32_t v;

	if (digits == 0 || digits >= sizeof(num))
		return -EINVAL;
	if (!*unit || !strcmp(unit, "M") || !strcmp(unit, "MiB"))
		mul = 1;
	else if (!strcmp(unit, "G") || !strcmp(unit, "GiB"))
		mul = 1024;
	else
		return -EINVAL;
	memcpy(num, s, digits);
	num[digits] = '\0';
	if (tmplspec_parse_u32(num, &v) < 0 || (uint64_t)v * mul > UINT32_MAX)
		return -EINVAL;
	*mib = (uint32_t)(v * mul);
	return 0;
}

static int push(char ***v, size_t *n, size_t max, const char *s)
{
	char **nv;

	if (*n >= max)
		return -E2BIG;
	nv = realloc(*v, (*n + 2) * sizeof(**v));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n])
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
}

int tmplspec_check(const struct cli *cli, const struct wire_template *t)
{
	struct errmsg e = { "" };
	struct buf b;
	int r;

	buf_init(&b, WIRE_TEMPLATE_ENCODED_MAX);
	r = wire_template_encode(t, &b, &e);
	buf_free(&b);
	if (r == 0)
		return 0;
	for (size_t i = 0; i < sizeof(field_flags) / sizeof(field_flags[0]); i++) {
		size_t l = strlen(field_flags[i].field);

		if (!strncmp(e.msg, field_flags[i].field, l) && (e.msg[l] == ':' ||
								  e.msg[l] == '[')) {
			cli_err(cli, "invalid template: %s (%s)", e.msg, field_flags[i].flag);
			return r;
		}
	}
	cli_err(cli, "invalid template: %s", e.msg[0] ? e.msg : errno_name(r));
	return r;
}

static int create_flag(struct cli *cli, int opt, const char *arg, struct tmplspec *spec)
{
	struct wire_template *t = spec->t;
	uint32_t *num = NULL;
	const char *flag = NULL;
	char *w;
	int r;

	switch (opt) {
	case OPT_IMAGE:
		if (strlen(arg) > WIRE_IMAGE_MAX) {
			cli_err(cli, "invalid template: image: %zu bytes, longer than %d (--image)",
				strlen(arg), WIRE_IMAGE_MAX);
			return -EINVAL;
		}
		snprintf(t->image, sizeof(t->image), "%s", arg);
		return 0;
	case OPT_VCPUS:
		num = &t->vcpus;
		flag = "--vcpus";
		break;
	case OPT_PIDS:
		num = &t->pids_max;
		flag = "--pids";
		break;
	case OPT_MEMORY:
	case OPT_DISK:
		num = opt == OPT_MEMORY ? &t->memory_mib : &t->disk_mib;
		if (tmplspec_parse_mib(arg, num) < 0) {
			cli_err(cli, "%s: '%.40s' is not a size in MiB (e.g. 512, 512M, 2G)",
				opt == OPT_MEMORY ? "--memory" : "--disk", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_TIMEOUT:
		if (jobspec_parse_seconds(arg, &t->timeout_ms) < 0) {
			cli_err(cli, "--timeout: '%.40s' is not a number of seconds in (0, %u]",
				arg, WIRE_TIMEOUT_MS_MAX / 1000);
			return -EINVAL;
		}
		return 0;
	case OPT_ENV:
		if (!strchr(arg, '=') || arg[0] == '=') {
			cli_err(cli, "--env: expected KEY=VALUE, got '%.40s'", arg);
			return -EINVAL;
		}
		r = push(&t->env, &t->envc, WIRE_TEMPLATE_ENVC_MAX, arg);
		if (r == -E2BIG)
			cli_err(cli, "invalid template: env: more than %d items (--env)",
				WIRE_TEMPLATE_ENVC_MAX);
		return r;
	case OPT_WARMUP:
		w = strdup(arg);
		if (!w)
			return -ENOMEM;
		free(t->warmup);
		t->warmup = w;
		return 0;
	case OPT_ALLOW:
		r = push(&t->allow, &t->nallow, WIRE_TEMPLATE_ALLOW_MAX, arg);
		if (r == -E2BIG)
			cli_err(cli, "invalid template: allow: more than %d patterns (--allow)",
				WIRE_TEMPLATE_ALLOW_MAX);
		t->network = true;
		return r;
	case OPT_REPLACE:
		spec->replace = true;
		return 0;
	default:
		cli_err(cli, "unknown option (see corral template create --help)");
		return -EINVAL;
	}
	if (tmplspec_parse_u32(arg, num) < 0) {
		cli_err(cli, "%s: '%.40s' is not a whole number", flag, arg);
		return -EINVAL;
	}
	return 0;
}

int tmplspec_parse_create(struct cli *cli, int argc, char **argv, struct tmplspec *spec)
{
	const char *name = NULL;
	int opt, r;

	memset(spec, 0, sizeof(*spec));
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "-:", create_options, NULL)) != -1) {
		if (opt == ':') {
			cli_err(cli, "%s: needs a value", argv[optind - 1]);
			return -EINVAL;
		}
		if (opt == '?') {
			cli_err(cli, "unknown option '%.40s' (see corral template create --help)",
				argv[optind - 1]);
			return -EINVAL;
		}
		if (opt == 1) {	/* a non-option: NAME (its charset is checked with the rest) */
			if (name) {
				cli_err(cli, "one NAME only (got '%.40s' and '%.40s')", name,
					optarg);
				return -EINVAL;
			}
			name = optarg;
			if (strlen(name) > WIRE_TEMPLATE_MAX) {
				cli_err(cli, "invalid template: name: %zu bytes, longer than %d "
					"(NAME)", strlen(name), WIRE_TEMPLATE_MAX);
				return -EINVAL;
			}
			continue;
		}
		r = cli_common_opt(cli, opt, optarg);
		if (r == CLI_OPT_HELP)
			return CLI_OPT_HELP;
		if (r == 1)
			continue;
		if (!spec->t)
			spec->t = wire_template_new("_");	/* NAME is set at the end */
		if (!spec->t)
			return -ENOMEM;
		r = create_flag(cli, opt, optarg, spec);
		if (r < 0) {
			if (r == -ENOMEM)
				cli_err(cli, "out of memory");
			return r;
		}
	}
	if (!name) {
		cli_err(cli, "no NAME given: corral template create NAME [OPTIONS]");
		return -EINVAL;
	}
	if (!spec->t)
		spec->t = wire_template_new("_");
	if (!spec->t)
		return -ENOMEM;
	snprintf(spec->t->name, sizeof(spec->t->name), "%s", name);
	r = tmplspec_check(cli, spec->t);
	if (r < 0)
		return r;
	return cli_finish(cli);
}

void tmplspec_free(struct tmplspec *spec)
{
	spec->t = wire_template_free(spec->t);
}

/* ---- renderings ---- */

static int put(struct buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int put(struct buf *out, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -EINVAL;
	return buf_append(out, tmp, (size_t)n);
}

/* printable ASCII as is, "\" as "\\", anything else as \xNN */
static int put_text(struct buf *out, const char *s, size_t len)
{
	char esc[8];
	int r = 0;

	for (size_t i = 0; r == 0 && i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\')
			r = buf_append(out, "\\\\", 2);
		else if (c >= 0x20 && c < 0x7f)
			r = buf_append(out, &s[i], 1);
		else {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			r = buf_append(out, esc, 4);
		}
	}
	return r;
}

int tmplspec_list_header(struct buf *out)
{
	return put(out, "%-24s %8s %-16s %5s %7s %s\n", "NAME", "VERSION", "IMAGE", "VCPUS",
		   "MEMORY", "NETWORK");
}

int tmplspec_list_row(struct buf *out, const struct wire_template *t, bool builtin)
{
	char ver[24];

	if (builtin)
		snprintf(ver, sizeof(ver), "built-in");
	else
		snprintf(ver, sizeof(ver), "%" PRIu32, t->version);
	return put(out, "%-24s %8s %-16s %5" PRIu32 " %6" PRIu32 "M %s\n", t->name, ver, t->image,
		   t->vcpus, t->memory_mib, t->network ? "allow" : "none");
}

int tmplspec_list_invalid(struct buf *out, const char *name, size_t len, const char *why)
{
	struct buf n;
	int r;

	buf_init(&n, 0);
	r = put_text(&n, name, len > WIRE_TEMPLATE_MAX ? WIRE_TEMPLATE_MAX : len);
	if (!r)
		r = put(out, "%-24.*s %8s invalid record: ", (int)n.len,
			n.len ? (const char *)n.data : "", "-");
	buf_free(&n);
	if (!r)
		r = put_text(out, why, strlen(why));
	return r ? r : buf_append(out, "\n", 1);
}

static int show_list(struct buf *out, const char *key, char *const *v, size_t n)
{
	int r = put(out, "%-12s", key);

	if (!r && n == 0)
		r = put(out, "-\n");
	for (size_t i = 0; !r && i < n; i++) {
		if (i)
			r = put(out, "%-12s", "");
		if (!r)
			r = put_text(out, v[i], strlen(v[i]));
		if (!r)
			r = buf_append(out, "\n", 1);
	}
	return r;
}

int tmplspec_show_text(struct buf *out, const struct wire_template *t, bool builtin)
{
	char when[48] = "";
	time_t secs = (time_t)(t->created_ms / 1000);
	struct tm tm;
	int r;

	if (t->created_ms && gmtime_r(&secs, &tm))
		strftime(when, sizeof(when), " (%Y-%m-%dT%H:%M:%SZ)", &tm);
	r = put(out, "%-12s%s\n%-12s%" PRIu32 "%s\n%-12s%s\n%-12s%" PRIu32 "\n%-12s%" PRIu32
		" MiB\n%-12s%" PRIu32 " MiB\n%-12s%" PRIu32 "\n%-12s%" PRIu32 " ms\n",
		"name", t->name, "version", t->version,
		builtin ? " (built-in: no record in Redis)" : "", "image", t->image, "vcpus",
		t->vcpus, "memory", t->memory_mib, "disk", t->disk_mib, "pids", t->pids_max,
		"timeout", t->timeout_ms);
	if (!r)
		r = show_list(out, "env", t->env, t->envc);
	if (!r)
		r = put(out, "%-12s", "warmup");
	if (!r)
		r = t->warmup[0] ? put_text(out, t->warmup, strlen(t->warmup)) : put(out, "(none)");
	if (!r)
		r = put(out, "\n%-12s%s\n", "network", t->network ? "allow" : "none");
	if (!r)
		r = show_list(out, "allow", t->allow, t->nallow);
	if (!r)
		r = put(out, "%-12s%" PRIu64 "%s\n", "created_ms", t->created_ms, when);
	return r;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static int json_str(struct buf *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str);
	char esc[8];
	int r = buf_append(out, "\"", 1);

	for (size_t i = 0; r == 0 && i < n;) {
		size_t l;

		if (s[i] == '"' || s[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)s[i];
			r = buf_append(out, esc, 2);
			i++;
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", s[i]);
			r = buf_append(out, esc, 6);
			i++;
		} else if ((l = utf8_seq(s + i, n - i)) > 0) {
			r = buf_append(out, s + i, l);
			i += l;
		} else {
			r = buf_append(out, "\\ufffd", 6);
			i++;
		}
	}
	return r ? r : buf_append(out, "\"", 1);
}

static int json_strv(struct buf *out, const char *key, char *const *v, size_t n)
{
	int r = put(out, ",\"%s\":[", key);

	for (size_t i = 0; !r && i < n; i++) {
		if (i)
			r = buf_append(out, ",", 1);
		if (!r)
			r = json_str(out, v[i]);
	}
	return r ? r : buf_append(out, "]", 1);
}

int tmplspec_json(struct buf *out, const struct wire_template *t, bool builtin)
{
	int r = put(out, "{\"name\":");

	if (!r)
		r = json_str(out, t->name);
	if (!r)
		r = put(out, ",\"version\":%" PRIu32 ",\"builtin\":%s,\"image\":", t->version,
			builtin ? "true" : "false");
	if (!r)
		r = json_str(out, t->image);
	if (!r)
		r = put(out, ",\"vcpus\":%" PRIu32 ",\"memory_mib\":%" PRIu32
			",\"disk_mib\":%" PRIu32 ",\"pids_max\":%" PRIu32
			",\"timeout_ms\":%" PRIu32, t->vcpus, t->memory_mib, t->disk_mib,
			t->pids_max, t->timeout_ms);
	if (!r)
		r = json_strv(out, "env", t->env, t->envc);
	if (!r)
		r = put(out, ",\"warmup\":");
	if (!r)
		r = json_str(out, t->warmup);
	if (!r)
		r = put(out, ",\"network\":\"%s\"", t->network ? "allow" : "none");
	if (!r)
		r = json_strv(out, "allow", t->allow, t->nallow);
	if (!r)
		r = put(out, ",\"created_ms\":%" PRIu64 "}", t->created_ms);
	return r;
}
