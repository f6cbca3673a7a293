/*
 * jobspec: the job flags shared by `corral run` and `corral submit` (--timeout, --env, --cwd,
 * --template, --output-max, --attempts, --id, then `--` CMD ARGS...), turned into a wire_job,
 * and the XADD that submits it. Parsing is pure (unit-tested); jobspec_submit is the only I/O.
 */
#ifndef CORRAL_JOBSPEC_H
#define CORRAL_JOBSPEC_H

#include <stdint.h>

#include "cli.h"
#include "wire.h"
#include "xfer.h"

#define JOBSPEC_ENTRY_ID_MAX 48

#define JOBSPEC_USAGE                                                                             \
	"  --timeout S      wall-clock limit of the process, seconds (default: the template's,\n"   \
	"                   60 for the built-in default; decimals ok)\n"                              \
	"  --env K=V        environment variable for the process (repeatable)\n"                      \
	"  --cwd DIR        working directory in the guest (default: the user's home)\n"             \
	"  --template T     VM template (default \"default\"; see corral template list)\n"        \
	"  --output-max N   bytes of stdout+stderr kept; more fails the job (default 1M; k/M/G ok)\n" \
	"  --attempts N     runs at most N times if workers die (default 3)\n"                        \
	"  --id ID          job id ([A-Za-z0-9._-], default: random)\n"                            \
	"  --idempotency-key K  submit at most once per K (1..128 of [A-Za-z0-9._:-]) within\n"   \
	"                   the TTL; a repeat returns the first job's id\n"                        \
	"  --idempotency-ttl S  how long the key holds (default 86400)\n" XFER_USAGE

/* Parses argv (from argv[0] = the verb) into a new job: the flags above, CLI_COMMON_OPTIONS into
 * cli, then the command after `--` (or the first non-option). Returns 0, CLI_OPT_HELP, or
 * -EINVAL with a message printed. *ret is the caller's; --get entries go to cli (cli_free()). */
int jobspec_parse(struct cli *cli, int argc, char **argv, struct wire_job **ret);
/* Parses "1.5" seconds into ms (1..WIRE_TIMEOUT_MS_MAX) and "64k" into bytes. 0 or -EINVAL. */
int jobspec_parse_seconds(const char *s, uint32_t *ms);
int jobspec_parse_size(const char *s, uint64_t *bytes);
/* Encodes and XADDs the job on ctx; entry_id gets the stream entry id. With cli->idem_key, one
 * script sets `<base>idem:<key>` = job id (EX ttl) and XADDs only when the key was free; when it
 * was taken, nothing is added, orig_id gets the first job's id and 1 is returned. 0 (added), 1
 * (duplicate) or negative errno (printed). orig_id always gets the id to follow. */
int jobspec_submit(const struct cli *cli, struct redisContext *ctx, const struct wire_job *job,
		   char entry_id[JOBSPEC_ENTRY_ID_MAX + 1], char orig_id[WIRE_ID_MAX + 1]);

#endif
