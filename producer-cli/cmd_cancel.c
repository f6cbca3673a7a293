/*
 * corral cancel: cancels a job. One script sets the durable flag `<base>cancel:<id>` (a worker
 * that claims the job later never starts it) and publishes the id on `<base>cancel` (the worker
 * running it stops its VM at once). The final state `cancelled` is the worker's to write; this
 * verb does not wait for it. Exit 0 when the flag was set, 1 when the job had already finished.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "verbs.h"

/* KEYS: result, cancel flag. ARGV: id, ttl, channel. → 0 finished already | 1 flag set */
static const char cancel_lua[] =
	"if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
	"redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])\n"
	"redis.call('PUBLISH', ARGV[3], ARGV[1])\n"
	"return 1\n";

static void usage(void)
{
	printf("Usage: corral cancel [OPTIONS] ID\n"
	       "Cancels job ID: a queued job never starts, a running one has its VM stopped.\n"
	       "Exit 0 when cancelled, 1 when the job had already finished.\n\n" CLI_COMMON_USAGE);
}

int cmd_cancel(int argc, char **argv)
{
	static const struct option options[] = { CLI_COMMON_OPTIONS, { NULL, 0, NULL, 0 } };
	char rkey[REDIS_KEYS_NAME_MAX], ckey[REDIS_KEYS_NAME_MAX], chan[REDIS_KEYS_NAME_MAX];
	char ttl[16];
	redisContext *ctx = NULL;
	redisReply *reply = NULL;
	struct cli cli;
	const char *id;
	int opt, r, rc = CLI_EXIT_USAGE;

	cli_init(&cli, "cancel");
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		r = cli_common_opt(&cli, opt, optarg);
		if (r == CLI_OPT_HELP) {
			usage();
			return 0;
		}
		if (r != 1) {
			cli_err(&cli, "unknown option (see corral cancel --help)");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || !wire_id_valid(argv[optind], strlen(argv[optind]))) {
		cli_err(&cli, "expected one job id");
		return CLI_EXIT_USAGE;
	}
	id = argv[optind];
	if (cli_finish(&cli) < 0)
		return CLI_EXIT_USAGE;
	rc = 1;
	ctx = cli_connect(&cli, false);
	if (!ctx)
		goto out;
	redis_keys_result(&cli.keys, id, rkey);
	snprintf(ckey, sizeof(ckey), "%scancel:%s", cli.keys.base, id);
	snprintf(chan, sizeof(chan), "%scancel", cli.keys.base);
	snprintf(ttl, sizeof(ttl), "%u", CLI_CANCEL_TTL_S);
	reply = redisCommand(ctx, "EVAL %s 2 %s %s %s %s %s", cancel_lua, rkey, ckey, id, ttl, chan);
	if (!reply || reply->type != REDIS_REPLY_INTEGER) {
		cli_err_reply(&cli, ctx, reply, "EVAL (cancel)");
		goto out;
	}
	if (reply->integer == 0) {
		fprintf(stderr, "corral cancel: job %s has already finished\n", id);
		goto out;
	}
	printf("cancel requested: %s\n", id);
	rc = 0;
out:
	if (reply)
		freeReplyObject(reply);
	if (ctx)
		redisFree(ctx);
	return rc;
}
