/*
 * corral workers: lists the live workers from the registry (the sorted set `<base>workers` and
 * each worker's hash `<base>worker:<id>`, which expires when the worker stops renewing it).
 * Ids whose record has expired are skipped. Read-only.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "util.h"
#include "verbs.h"

#define WORKERS_LIST_MAX 1000

static void usage(void)
{
	printf("Usage: corral workers [OPTIONS]\n"
	       "Lists live workers: id, host, version, capacity, running jobs, accelerator,\n"
	       "lease, seconds since the last heartbeat, warm pool state; then the templates it\n"
	       "serves (name@version) and its memory/vCPU budget (used/total).\n\n" CLI_COMMON_USAGE);
}

static const char *field(const redisReply *h, const char *name)
{
	for (size_t i = 0; i + 1 < h->elements; i += 2)
		if (h->element[i]->type == REDIS_REPLY_STRING &&
		    h->element[i + 1]->type == REDIS_REPLY_STRING && !strcmp(h->element[i]->str, name))
			return h->element[i + 1]->str;
	return "-";
}

int cmd_workers(int argc, char **argv)
{
	static const struct option options[] = { CLI_COMMON_OPTIONS, { NULL, 0, NULL, 0 } };
	char set[REDIS_KEYS_NAME_MAX], key[REDIS_KEYS_NAME_MAX];
	redisContext *ctx = NULL;
	redisReply *ids = NULL;
	struct cli cli;
	unsigned live = 0;
	int opt, r, rc = CLI_EXIT_USAGE;

	cli_init(&cli, "workers");
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		r = cli_common_opt(&cli, opt, optarg);
		if (r == CLI_OPT_HELP) {
			usage();
			return 0;
		}
		if (r != 1) {
			cli_err(&cli, "unknown option (see corral workers --help)");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc || cli_finish(&cli) < 0)
		return CLI_EXIT_USAGE;
	rc = 1;
	ctx = cli_connect(&cli, false);
	if (!ctx)
		goto out;
	snprintf(set, sizeof(set), "%sworkers", cli.keys.base);
	ids = redisCommand(ctx, "ZRANGE %s 0 %d", set, WORKERS_LIST_MAX - 1);
	if (!ids || ids->type != REDIS_REPLY_ARRAY) {
		cli_err_reply(&cli, ctx, ids, "ZRANGE");
		goto out;
	}
	printf("%-24s %-16s %-10s %8s %8s %-9s %6s %6s  %s\n", "ID", "HOST", "VERSION", "CAPACITY",
	       "RUNNING", "ACCEL", "LEASE", "SEEN", "POOL");
	for (size_t i = 0; i < ids->elements; i++) {
		redisReply *h;
		unsigned long long seen;

		if (ids->element[i]->type != REDIS_REPLY_STRING)
			continue;
		snprintf(key, sizeof(key), "%sworker:%s", cli.keys.base, ids->element[i]->str);
		h = redisCommand(ctx, "HGETALL %s", key);
		if (!h || h->type != REDIS_REPLY_ARRAY) {
			cli_err_reply(&cli, ctx, h, "HGETALL");
			if (h)
				freeReplyObject(h);
			goto out;
		}
		if (h->elements > 0) {
			seen = strtoull(field(h, "seen_ms"), NULL, 10);
			printf("%-24s %-16s %-10s %8s %8s accel=%-3s %5ss %5llus  %s\n",
			       field(h, "id"), field(h, "host"), field(h, "version"),
			       field(h, "capacity"), field(h, "running"), field(h, "accel"),
			       field(h, "lease_s"),
			       seen && time_now_ms() > seen ? (time_now_ms() - seen) / 1000 : 0ull,
			       field(h, "pool"));
			printf("%-24s templates=%s budget=%s\n", "", field(h, "templates"),
			       field(h, "budget"));
			live++;
		}
		freeReplyObject(h);
	}
	printf("%u live worker%s\n", live, live == 1 ? "" : "s");
	rc = 0;
out:
	if (ids)
		freeReplyObject(ids);
	if (ctx)
		redisFree(ctx);
	return rc;
}
