/*
 * tmplspec: the pure half of `corral template`: `create` flags → struct wire_template, and the
 * renderings of records (list rows, the `show` text, JSON). Validation of the record is
 * libwire's (wire_template_encode); this file checks flag syntax and turns libwire's field
 * errors into messages that also name the flag. No I/O besides writing into buffers.
 */
#ifndef CORRAL_TMPLSPEC_H
#define CORRAL_TMPLSPEC_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "cli.h"
#include "wire.h"

#define TMPLSPEC_USAGE_CREATE                                                                    \
	"  --image I        root filesystem image ([a-z0-9_-]{1,32}, default base)\n"          \
	"  --vcpus N        virtual CPUs, 1..8 (default 1)\n"                                 \
	"  --memory MIB     guest memory, 128..16384 MiB (default 256; 1G, 512M ok)\n"        \
	"  --disk MIB       writable layer (in guest RAM), 16..65536 MiB (default 256)\n"      \
	"  --pids N         processes+threads of a job, 16..65536 (default 512)\n"             \
	"  --timeout S      timeout of jobs that set none, seconds (default 60)\n"            \
	"  --env K=V        environment of every job (repeatable, max 64; job env wins)\n"    \
	"  --warmup CMD     /bin/sh -c CMD run when a VM of the template is prepared\n"        \
	"                   (default 'python3 -c pass'; '' = none)\n"                         \
	"  --allow PATTERN  allow egress to host[:port] or *.suffix[:port] (repeatable,\n"     \
	"                   max 64; turns network on; no port = 80 and 443)\n"               \
	"  --replace        overwrite an existing template (its version goes up by one)\n"

/* Parsed `template create` arguments. */
struct tmplspec {
	struct wire_template *t;	/* owned; version/created_ms are set at write time */
	bool replace;
};

/* argv from argv[0] = "create": NAME and the flags above plus CLI_COMMON_OPTIONS (into cli).
 * 0, CLI_OPT_HELP, or -EINVAL / -ENOMEM with the message printed (naming the flag). The record
 * is validated by libwire before this returns 0. spec->t is the caller's (tmplspec_free). */
int tmplspec_parse_create(struct cli *cli, int argc, char **argv, struct tmplspec *spec);
void tmplspec_free(struct tmplspec *spec);

/* "512", "512M", "512MiB", "2G", "2GiB" → MiB (≤ UINT32_MAX). 0 or -EINVAL. */
int tmplspec_parse_mib(const char *s, uint32_t *mib);
/* A plain decimal number ≤ UINT32_MAX (no sign, no spaces). 0 or -EINVAL. */
int tmplspec_parse_u32(const char *s, uint32_t *v);
/* Validates t with libwire; on failure prints "invalid template: <libwire error> (--flag)". */
int tmplspec_check(const struct cli *cli, const struct wire_template *t);

/* Renderings, appended to out. Text escapes every byte outside printable ASCII as \xNN so a
 * record cannot send terminal control sequences. builtin marks the built-in `default`. */
int tmplspec_list_header(struct buf *out);
int tmplspec_list_row(struct buf *out, const struct wire_template *t, bool builtin);
/* A record that does not decode: its name and why. */
int tmplspec_list_invalid(struct buf *out, const char *name, size_t len, const char *why);
int tmplspec_show_text(struct buf *out, const struct wire_template *t, bool builtin);
/* One JSON object (all fields + "builtin"); strings that are not UTF-8 get U+FFFD. */
int tmplspec_json(struct buf *out, const struct wire_template *t, bool builtin);

#endif
