/*
 * cli: what every verb of `corral` shares: the common flags (--redis, --prefix, --queue), exit
 * codes, connecting to Redis with timeouts (sync hiredis), and one-line error messages. It does
 * not know any verb.
 */
#ifndef CORRAL_CLI_H
#define CORRAL_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "redis_addr.h"
#include "redis_keys.h"

struct redisContext;

#define CLI_EXIT_USAGE 2
#define CLI_EXIT_TIMEOUT 124	/* the job timed out */
#define CLI_EXIT_CORRAL 125	/* Corral could not run the job, or corral itself failed */
#define CLI_EXIT_DETACHED 130	/* Ctrl-C: the job keeps running */
#define CLI_CONNECT_TIMEOUT_MS 5000
#define CLI_IO_TIMEOUT_MS 10000
#define CLI_IDEM_KEY_MAX 128
#define CLI_IDEM_TTL_DEFAULT_S 86400u
#define CLI_CANCEL_TTL_S 604800u	/* a cancel flag outlives any queue wait worth having */

/* Long options every verb accepts; append to a verb's option table with CLI_COMMON_OPTIONS. */
enum { CLI_OPT_REDIS = 0x1000, CLI_OPT_PREFIX, CLI_OPT_QUEUE, CLI_OPT_HELP };
#define CLI_COMMON_OPTIONS                                                                        \
	{ "redis", required_argument, NULL, CLI_OPT_REDIS },                                      \
	{ "prefix", required_argument, NULL, CLI_OPT_PREFIX },                                    \
	{ "queue", required_argument, NULL, CLI_OPT_QUEUE },                                      \
	{ "help", no_argument, NULL, CLI_OPT_HELP }
#define CLI_COMMON_USAGE                                                                          \
	"  --redis ADDR     redis://host:port or unix:///path ($CORRAL_REDIS)\n"                      \
	"  --prefix P       key prefix (default " REDIS_KEYS_DEFAULT_PREFIX ")\n"                     \
	"  --queue Q        queue name (default " REDIS_KEYS_DEFAULT_QUEUE ")\n"                      \
	"  --help           this text\n"

/* --get REMOTE:LOCAL of run/submit (xfer.c) */
struct cli_get {
	char *remote;		/* absolute guest path or glob pattern (also in the job's outputs) */
	char *local;		/* NULL: not written (submit without LOCAL) */
	bool local_dir;		/* REMOTE is a glob or LOCAL ends in '/': LOCAL is a directory */
};

struct cli {
	const char *verb;
	const char *redis_flag;
	const char *prefix;
	const char *queue;
	struct redis_addr addr;
	struct redis_keys keys;
	/* submission (run, submit): --idempotency-key, --idempotency-ttl */
	char idem_key[CLI_IDEM_KEY_MAX + 1];
	unsigned idem_ttl_s;
	struct cli_get *gets;	/* owned; cli_free() */
	size_t ngets;
	bool repo_opts;		/* --ref/--depth/--subdir seen (need --repo) */
};

void cli_init(struct cli *c, const char *verb);
/* Frees what option parsing allocated (gets). */
void cli_free(struct cli *c);
/* Handles one common option: 1 when it was one (and valid), 0 when not one of them,
 * CLI_OPT_HELP when --help. */
int cli_common_opt(struct cli *c, int opt, const char *arg);
/* Resolves the address and the key names after option parsing. 0 or -EINVAL (printed). */
int cli_finish(struct cli *c);
/* Connects with CLI_CONNECT_TIMEOUT_MS and sets CLI_IO_TIMEOUT_MS on reads and writes. NULL on
 * failure (printed). */
struct redisContext *cli_connect(const struct cli *c, bool quiet);
/* "corral VERB: message" on stderr. */
void cli_err(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the error of a failed command (reply NULL → the context's error). */
void cli_err_reply(const struct cli *c, struct redisContext *ctx, const void *reply,
		   const char *what);

#endif
