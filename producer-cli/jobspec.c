/*
 * jobspec: job flags → struct wire_job, and its submission. All validation of the job itself is
 * libwire's (wire_job_encode): this file only checks the syntax of flags, so the CLI and the
 * worker never disagree on what a valid job is.
 */
#include "jobspec.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "buf.h"
#include "util.h"
#include "xfer.h"

enum { OPT_TIMEOUT = 1, OPT_ENV, OPT_CWD, OPT_TEMPLATE, OPT_OUTPUT_MAX, OPT_ATTEMPTS, OPT_ID,
       OPT_IDEM_KEY, OPT_IDEM_TTL, OPT_PUT, OPT_GET, OPT_REPO, OPT_REF, OPT_DEPTH, OPT_SUBDIR,
       OPT_IMAGE, OPT_ARTEFACTS_MAX };

static const struct option job_options[] = {
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "env", required_argument, NULL, OPT_ENV },
	{ "cwd", required_argument, NULL, OPT_CWD },
	{ "template", required_argument, NULL, OPT_TEMPLATE },
	{ "output-max", required_argument, NULL, OPT_OUTPUT_MAX },
	{ "attempts", required_argument, NULL, OPT_ATTEMPTS },
	{ "id", required_argument, NULL, OPT_ID },
	{ "idempotency-key", required_argument, NULL, OPT_IDEM_KEY },
	{ "idempotency-ttl", required_argument, NULL, OPT_IDEM_TTL },
	{ "put", required_argument, NULL, OPT_PUT },
	{ "get", required_argument, NULL, OPT_GET },
	{ "repo", required_argument, NULL, OPT_REPO },
	{ "ref", required_argument, NULL, OPT_REF },
	{ "depth", required_argument, NULL, OPT_DEPTH },
	{ "subdir", required_argument, NULL, OPT_SUBDIR },
	{ "image", required_argument, NULL, OPT_IMAGE },
	{ "artefacts-max", required_argument, NULL, OPT_ARTEFACTS_MAX },
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

int jobspec_parse_seconds(const char *s, uint32_t *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0)
		return -EINVAL;
	v = ceil(v * 1000.0);
	if (v < 1 || v > WIRE_TIMEOUT_MS_MAX)
		return -EINVAL;
	*ms = (uint32_t)v;
	return 0;
}

int jobspec_parse_size(const char *s, uint64_t *bytes)
{
	unsigned long long v, mul = 1;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end) {
		switch (*end) {
		case 'k': case 'K':
			mul = 1024ull;
			break;
		case 'm': case 'M':
			mul = 1024ull * 1024;
			break;
		case 'g': case 'G':
			mul = 1024ull * 1024 * 1024;
			break;
		default:
			return -EINVAL;
		}
		if (end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB"))
			return -EINVAL;
	}
	if (v > UINT64_MAX / mul)
		return -EINVAL;
	*bytes = v * mul;
	return 0;
}

static int strv_push(char ***v, size_t *n, size_t max, const char *s)
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

static int parse_flag(struct cli *cli, int opt, const char *arg, struct wire_job *job)
{
	unsigned long n;
	char *end;
	int r;

	switch (opt) {
	case OPT_TIMEOUT:
		if (jobspec_parse_seconds(arg, &job->timeout_ms) < 0) {
			cli_err(cli, "--timeout: '%.40s' is not a number of seconds in (0, %u]", arg,
				WIRE_TIMEOUT_MS_MAX / 1000);
			return -EINVAL;
		}
		return 0;
	case OPT_ENV:
		if (!strchr(arg, '=') || arg[0] == '=') {
			cli_err(cli, "--env: expected KEY=VALUE, got '%.40s'", arg);
			return -EINVAL;
		}
		r = strv_push(&job->env, &job->envc, WIRE_ENVC_MAX, arg);
		if (r < 0)
			cli_err(cli, "--env: %s", r == -E2BIG ? "too many variables" : "out of memory");
		return r;
	case OPT_CWD:
		free(job->cwd);
		job->cwd = strdup(arg);
		return job->cwd ? 0 : -ENOMEM;
	case OPT_TEMPLATE:
		n = strlen(arg);
		if (n < 1 || n > WIRE_TEMPLATE_MAX || strspn(arg, "abcdefghijklmnopqrstuvwxyz"
						      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n) {
			cli_err(cli, "--template: '%.70s' is not a template name (1 to %d "
				"characters of [A-Za-z0-9._-])", arg, WIRE_TEMPLATE_MAX);
			return -EINVAL;
		}
		snprintf(job->template_name, sizeof(job->template_name), "%s", arg);
		return 0;
	case OPT_OUTPUT_MAX:
		if (jobspec_parse_size(arg, &job->output_max) < 0) {
			cli_err(cli, "--output-max: '%.40s' is not a size (e.g. 65536, 64k, 1M)", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_ATTEMPTS:
		errno = 0;
		n = strtoul(arg, &end, 10);
		if (errno || *end || end == arg || n < 1 || n > WIRE_ATTEMPTS_MAX) {
			cli_err(cli, "--attempts: expected 1..%u", WIRE_ATTEMPTS_MAX);
			return -EINVAL;
		}
		job->max_attempts = (uint32_t)n;
		return 0;
	case OPT_ID:
		if (!wire_id_valid(arg, strlen(arg))) {
			cli_err(cli, "--id: 1 to %d characters of [A-Za-z0-9._-]", WIRE_ID_MAX);
			return -EINVAL;
		}
		snprintf(job->id, sizeof(job->id), "%s", arg);
		return 0;
	case OPT_IDEM_KEY:
		n = strlen(arg);
		if (n < 1 || n > CLI_IDEM_KEY_MAX || strspn(arg, "abcdefghijklmnopqrstuvwxyz"
						      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") != n) {
			cli_err(cli, "--idempotency-key: 1 to %d characters of [A-Za-z0-9._:-]",
				CLI_IDEM_KEY_MAX);
			return -EINVAL;
		}
		snprintf(cli->idem_key, sizeof(cli->idem_key), "%s", arg);
		return 0;
	case OPT_IDEM_TTL:
		errno = 0;
		n = strtoul(arg, &end, 10);
		if (errno || *end || end == arg || n < 1 || n > 90ul * 86400) {
			cli_err(cli, "--idempotency-ttl: expected 1..%lu seconds", 90ul * 86400);
			return -EINVAL;
		}
		cli->idem_ttl_s = (unsigned)n;
		return 0;
	case OPT_PUT:
		return xfer_put(cli, job, arg);
	case OPT_GET:
		return xfer_get(cli, job, arg, strcmp(cli->verb, "run") == 0);
	case OPT_REPO:
		return xfer_repo_opt(cli, job, "url", arg);
	case OPT_REF:
		return xfer_repo_opt(cli, job, "ref", arg);
	case OPT_DEPTH:
		return xfer_repo_opt(cli, job, "depth", arg);
	case OPT_SUBDIR:
		return xfer_repo_opt(cli, job, "subdir", arg);
	case OPT_IMAGE:
		n = strlen(arg);
		if (n < 1 || n > WIRE_IMAGE_MAX ||
		    strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n) {
			cli_err(cli, "--image: 1 to %d characters of [a-z0-9_-]", WIRE_IMAGE_MAX);
			return -EINVAL;
		}
		snprintf(job->image, sizeof(job->image), "%s", arg);
		return 0;
	case OPT_ARTEFACTS_MAX:
		if (jobspec_parse_size(arg, &job->artefacts_max) < 0 ||
		    job->artefacts_max > WIRE_ARTEFACTS_MAX_LIMIT) {
			cli_err(cli, "--artefacts-max: '%.40s' is not a size up to 32M", arg);
			return -EINVAL;
		}
		return 0;
	default:
		cli_err(cli, "unknown option (see corral %s --help)", cli->verb);
		return -EINVAL;
	}
}

int jobspec_parse(struct cli *cli, int argc, char **argv, struct wire_job **ret)
{
	struct wire_job *job = wire_job_new();
	int opt, r = -EINVAL;

	if (!job) {
		cli_err(cli, "out of memory");
		return -ENOMEM;
	}
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:", job_options, NULL)) != -1) {
		if (opt == ':') {
			cli_err(cli, "%s: needs a value", argv[optind - 1]);
			goto out;
		}
		if (opt == '?') {
			cli_err(cli, "unknown option '%.40s' (see corral %s --help)", argv[optind - 1],
				cli->verb);
			goto out;
		}
		r = cli_common_opt(cli, opt, optarg);
		if (r == CLI_OPT_HELP)
			goto out;
		if (r == 1)
			continue;
		r = parse_flag(cli, opt, optarg, job);
		if (r < 0)
			goto out;
	}
	r = -EINVAL;
	if (optind >= argc) {
		cli_err(cli, "no command given: corral %s [OPTIONS] -- CMD [ARGS...]", cli->verb);
		goto out;
	}
	for (int i = optind; i < argc; i++) {
		r = strv_push(&job->argv, &job->argc, WIRE_ARGC_MAX, argv[i]);
		if (r < 0) {
			cli_err(cli, "command: %s", r == -E2BIG ? "too many arguments" : "out of memory");
			goto out;
		}
	}
	if (!job->id[0]) {
		r = random_hex_id(job->id);
		if (r < 0) {
			cli_err(cli, "cannot make a job id: %s", errno_name(r));
			goto out;
		}
	}
	r = xfer_finish(cli, job);
	if (r < 0)
		goto out;
	r = cli_finish(cli);
	if (r < 0)
		goto out;
	*ret = job;
	job = NULL;
out:
	wire_job_free(job);
	return r;
}

/* KEYS: idem, jobs. ARGV: job id, job bytes, ttl. → {1, entry} added | {0, first job id} */
static const char idem_lua[] =
	"local got = redis.call('GET', KEYS[1])\n"
	"if got then return {0, got} end\n"
	"local e = redis.call('XADD', KEYS[2], '*', 'job', ARGV[2])\n"
	"redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])\n"
	"return {1, e}\n";

static int submit_once(const struct cli *cli, struct redisContext *ctx, const struct wire_job *job,
		       const struct buf *enc, char entry_id[JOBSPEC_ENTRY_ID_MAX + 1],
		       char orig_id[WIRE_ID_MAX + 1])
{
	char key[REDIS_KEYS_NAME_MAX + CLI_IDEM_KEY_MAX], ttl[16];
	const char *argv[8];
	size_t lens[8];
	redisReply *reply, *v;
	int r = -EIO;

	snprintf(key, sizeof(key), "%sidem:%s", cli->keys.base, cli->idem_key);
	snprintf(ttl, sizeof(ttl), "%u", cli->idem_ttl_s ? cli->idem_ttl_s : CLI_IDEM_TTL_DEFAULT_S);
	argv[0] = "EVAL";
	argv[1] = idem_lua;
	argv[2] = "2";
	argv[3] = key;
	argv[4] = cli->keys.jobs;
	argv[5] = job->id;
	argv[6] = (const char *)enc->data;
	argv[7] = ttl;
	for (int i = 0; i < 8; i++)
		lens[i] = strlen(argv[i]);
	lens[6] = enc->len;
	reply = redisCommandArgv(ctx, 8, argv, lens);
	if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_INTEGER ||
	    reply->element[1]->type != REDIS_REPLY_STRING) {
		cli_err_reply(cli, ctx, reply, "EVAL (idempotent submit)");
		goto out;
	}
	v = reply->element[1];
	if (reply->element[0]->integer == 1) {
		if (v->len > JOBSPEC_ENTRY_ID_MAX)
			goto out;
		memcpy(entry_id, v->str, v->len);
		entry_id[v->len] = '\0';
		r = 0;
	} else {
		if (!wire_id_valid(v->str, v->len)) {
			cli_err(cli, "idempotency key %s holds an invalid job id", cli->idem_key);
			goto out;
		}
		memcpy(orig_id, v->str, v->len);
		orig_id[v->len] = '\0';
		entry_id[0] = '\0';
		r = 1;
	}
out:
	if (reply)
		freeReplyObject(reply);
	return r;
}

int jobspec_submit(const struct cli *cli, struct redisContext *ctx, const struct wire_job *job,
		   char entry_id[JOBSPEC_ENTRY_ID_MAX + 1], char orig_id[WIRE_ID_MAX + 1])
{
	struct errmsg err = { "" };
	const char *argv[5];
	size_t lens[5];
	redisReply *reply;
	struct buf enc;
	int r;

	buf_init(&enc, WIRE_JOB_ENCODED_MAX);
	r = wire_job_encode(job, &enc, &err);
	if (r < 0) {
		cli_err(cli, "invalid job: %s", err.msg[0] ? err.msg : errno_name(r));
		goto out;
	}
	snprintf(orig_id, WIRE_ID_MAX + 1, "%s", job->id);
	if (cli->idem_key[0]) {
		r = submit_once(cli, ctx, job, &enc, entry_id, orig_id);
		goto out;
	}
	argv[0] = "XADD";
	argv[1] = cli->keys.jobs;
	argv[2] = "*";
	argv[3] = "job";
	argv[4] = (const char *)enc.data;
	for (int i = 0; i < 4; i++)
		lens[i] = strlen(argv[i]);
	lens[4] = enc.len;
	reply = redisCommandArgv(ctx, 5, argv, lens);
	if (!reply || reply->type != REDIS_REPLY_STRING || reply->len > JOBSPEC_ENTRY_ID_MAX) {
		cli_err_reply(cli, ctx, reply, "XADD");
		r = -EIO;
	} else {
		memcpy(entry_id, reply->str, reply->len);
		entry_id[reply->len] = '\0';
	}
	if (reply)
		freeReplyObject(reply);
out:
	buf_free(&enc);
	return r;
}
