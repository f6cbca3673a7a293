/*
 * corral queue: one screen about a queue: depth (entries in the queue stream: waiting and
 * running; finished ones are deleted with their ack), pending (delivered, not yet acked), lag
 * (never delivered), consumers of the group, dead letters, live workers. Read-only.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "verbs.h"

static void usage(void)
{
	printf("Usage: corral queue [OPTIONS]\n"
	       "Shows the queue: depth, pending, lag, consumers, dead letters, live workers.\n\n"
	       CLI_COMMON_USAGE);
}

static long long int_cmd(redisContext *ctx, const char *cmd, const char *key)
{
	redisReply *r = redisCommand(ctx, "%s %s", cmd, key);
	long long v = -1;

	if (r && r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	if (r)
		freeReplyObject(r);
	return v;
}

int cmd_queue(int argc, char **argv)
{
	static const struct option options[] = { CLI_COMMON_OPTIONS, { NULL, 0, NULL, 0 } };
	char set[REDIS_KEYS_NAME_MAX];
	long long pending = 0, lag = -1, consumers = 0;
	redisContext *ctx = NULL;
	redisReply *g = NULL;
	struct cli cli;
	int opt, r, rc = CLI_EXIT_USAGE;

	cli_init(&cli, "queue");
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		r = cli_common_opt(&cli, opt, optarg);
		if (r == CLI_OPT_HELP) {
			usage();
			return 0;
		}
		if (r != 1) {
			cli_err(&cli, "unknown option (see corral queue --help)");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc || cli_finish(&cli) < 0)
		return CLI_EXIT_USAGE;
	rc = 1;
	ctx = cli_connect(&cli, false);
	if (!ctx)
		goto out;
	g = redisCommand(ctx, "XINFO GROUPS %s", cli.keys.jobs);
	if (g && g->type == REDIS_REPLY_ARRAY) {
		for (size_t i = 0; i < g->elements; i++) {
			const redisReply *e = g->element[i];
			bool ours = false;

			if (e->type != REDIS_REPLY_ARRAY)
				continue;
			for (size_t j = 0; j + 1 < e->elements; j += 2)
				if (e->element[j]->type == REDIS_REPLY_STRING &&
				    !strcmp(e->element[j]->str, "name") &&
				    e->element[j + 1]->type == REDIS_REPLY_STRING &&
				    !strcmp(e->element[j + 1]->str, REDIS_KEYS_GROUP))
					ours = true;
			for (size_t j = 0; ours && j + 1 < e->elements; j += 2) {
				const char *k = e->element[j]->str;
				const redisReply *v = e->element[j + 1];

				if (e->element[j]->type != REDIS_REPLY_STRING ||
				    v->type != REDIS_REPLY_INTEGER)
					continue;
				if (!strcmp(k, "pending"))
					pending = v->integer;
				else if (!strcmp(k, "lag"))
					lag = v->integer;
				else if (!strcmp(k, "consumers"))
					consumers = v->integer;
			}
		}
	}
	snprintf(set, sizeof(set), "%sworkers", cli.keys.base);
	printf("queue      %s\n", cli.keys.jobs);
	printf("depth      %lld\n", int_cmd(ctx, "XLEN", cli.keys.jobs));
	printf("pending    %lld\n", pending);
	if (lag >= 0)
		printf("lag        %lld\n", lag);
	else
		printf("lag        unknown\n");
	printf("consumers  %lld\n", consumers);
	printf("dead       %lld\n", int_cmd(ctx, "XLEN", cli.keys.dead));
	printf("workers    %lld\n", int_cmd(ctx, "ZCARD", set));
	rc = 0;
out:
	if (g)
		freeReplyObject(g);
	if (ctx)
		redisFree(ctx);
	return rc;
}
