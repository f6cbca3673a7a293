/*
 * cli: common flags, connections and error printing for the verbs. Sync hiredis only; every
 * socket gets a connect timeout and read/write timeouts so no verb can hang on a dead Redis.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

void cli_init(struct cli *c, const char *verb)
{
	memset(c, 0, sizeof(*c));
	c->verb = verb;
	c->prefix = REDIS_KEYS_DEFAULT_PREFIX;
	c->queue = REDIS_KEYS_DEFAULT_QUEUE;
}

void cli_free(struct cli *c)
{
	for (size_t i = 0; i < c->ngets; i++) {
		free(c->gets[i].remote);
		free(c->gets[i].local);
	}
	free(c->gets);
	c->gets = NULL;
	c->ngets = 0;
}

int cli_common_opt(struct cli *c, int opt, const char *arg)
{
	switch (opt) {
	case CLI_OPT_REDIS:
		c->redis_flag = arg;
		return 1;
	case CLI_OPT_PREFIX:
		c->prefix = arg;
		return 1;
	case CLI_OPT_QUEUE:
		c->queue = arg;
		return 1;
	case CLI_OPT_HELP:
		return CLI_OPT_HELP;
	default:
		return 0;
	}
}

void cli_err(const struct cli *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "corral %s: %s\n", c->verb, msg);
}

int cli_finish(struct cli *c)
{
	struct errmsg err = { "" };
	int r;

	r = redis_addr_resolve(c->redis_flag, &c->addr, &err);
	if (r == 0)
		r = redis_keys_init(&c->keys, c->prefix, c->queue, &err);
	if (r < 0)
		cli_err(c, "%s", err.msg);
	return r;
}

struct redisContext *cli_connect(const struct cli *c, bool quiet)
{
	struct timeval ct = { CLI_CONNECT_TIMEOUT_MS / 1000, (CLI_CONNECT_TIMEOUT_MS % 1000) * 1000 };
	struct timeval io = { CLI_IO_TIMEOUT_MS / 1000, (CLI_IO_TIMEOUT_MS % 1000) * 1000 };
	redisContext *ctx;

	if (c->addr.is_unix)
		ctx = redisConnectUnixWithTimeout(c->addr.path, ct);
	else
		ctx = redisConnectWithTimeout(c->addr.host, c->addr.port, ct);
	if (!ctx || ctx->err) {
		if (!quiet) {
			if (c->addr.is_unix)
				cli_err(c, "cannot connect to Redis at unix://%s: %s", c->addr.path,
					ctx ? ctx->errstr : "out of memory");
			else
				cli_err(c, "cannot connect to Redis at %s:%d: %s", c->addr.host,
					c->addr.port, ctx ? ctx->errstr : "out of memory");
		}
		if (ctx)
			redisFree(ctx);
		return NULL;
	}
	if (redisSetTimeout(ctx, io) != REDIS_OK) {
		if (!quiet)
			cli_err(c, "cannot set Redis timeouts: %s", ctx->errstr);
		redisFree(ctx);
		return NULL;
	}
	return ctx;
}

void cli_err_reply(const struct cli *c, struct redisContext *ctx, const void *reply,
		   const char *what)
{
	const redisReply *r = reply;

	if (!r)
		cli_err(c, "%s: %s", what, ctx && ctx->errstr[0] ? ctx->errstr : "no reply");
	else if (r->type == REDIS_REPLY_ERROR)
		cli_err(c, "%s: %.300s", what, r->str);
	else
		cli_err(c, "%s: unexpected reply type %d", what, r->type);
}
