/*
 * corral result: prints a job's result record, as text or (--json) one JSON object. Exit 0 when
 * the record exists, 1 when it does not (yet), 2 on usage errors.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "buf.h"
#include "outcome.h"
#include "verbs.h"

enum { OPT_JSON = 1 };

static void usage(void)
{
	printf("Usage: corral result [OPTIONS] ID\n"
	       "Prints the result of job ID. Exit 0 when found, 1 when there is none (yet).\n\n"
	       "  --json           one JSON object instead of text (artefacts' data as base64)\n" CLI_COMMON_USAGE);
}

int result_fetch(const struct cli *cli, struct redisContext *ctx, const char *id,
		 struct wire_result *out)
{
	char key[REDIS_KEYS_NAME_MAX];
	struct errmsg err = { "" };
	redisReply *reply;
	int r;

	redis_keys_result(&cli->keys, id, key);
	reply = redisCommand(ctx, "GET %s", key);
	if (!reply || (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_NIL)) {
		cli_err_reply(cli, ctx, reply, "GET");
		r = -EIO;
	} else if (reply->type == REDIS_REPLY_NIL) {
		r = 0;
	} else {
		r = wire_result_decode(reply->str, reply->len, out, &err);
		if (r < 0)
			cli_err(cli, "job %s: bad result record: %s", id, err.msg);
		else
			r = 1;
	}
	if (reply)
		freeReplyObject(reply);
	return r;
}

int cmd_result(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct wire_result res;
	redisContext *ctx = NULL;
	bool json = false;
	struct cli cli;
	const char *id;
	int opt, r, rc = CLI_EXIT_USAGE;

	cli_init(&cli, "result");
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		r = cli_common_opt(&cli, opt, optarg);
		if (r == CLI_OPT_HELP) {
			usage();
			return 0;
		}
		if (r == 1)
			continue;
		if (opt == OPT_JSON) {
			json = true;
			continue;
		}
		cli_err(&cli, "bad option '%.40s' (see corral result --help)", argv[optind - 1]);
		return CLI_EXIT_USAGE;
	}
	if (optind != argc - 1) {
		cli_err(&cli, "expected one job id (see corral result --help)");
		return CLI_EXIT_USAGE;
	}
	id = argv[optind];
	if (!wire_id_valid(id, strlen(id))) {
		cli_err(&cli, "'%.80s' is not a job id", id);
		return CLI_EXIT_USAGE;
	}
	if (cli_finish(&cli) < 0)
		return CLI_EXIT_USAGE;
	rc = CLI_EXIT_CORRAL;
	ctx = cli_connect(&cli, false);
	if (!ctx)
		goto out;
	r = result_fetch(&cli, ctx, id, &res);
	if (r < 0)
		goto out;
	if (r == 0) {
		cli_err(&cli, "no result for job %s (yet)", id);
		rc = 1;
		goto out;
	}
	if (json) {
		struct buf b;

		buf_init(&b, 0);
		if (wire_result_to_json(&res, &b) < 0 || buf_append(&b, "\n", 1) < 0) {
			cli_err(&cli, "cannot format the result as JSON");
			buf_free(&b);
			wire_result_clear(&res);
			goto out;
		}
		fwrite(b.data, 1, b.len, stdout);
		buf_free(&b);
	} else {
		outcome_print(stdout, &res);
	}
	rc = fflush(stdout) == 0 ? 0 : CLI_EXIT_CORRAL;
	wire_result_clear(&res);
out:
	if (ctx)
		redisFree(ctx);
	return rc;
}
