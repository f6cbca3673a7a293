/*
 * corral template: create, list, show and delete VM templates (schemas/template.md), the fields
 * of the hash `<prefix>templates`. create reads the current record under WATCH, writes the new
 * one with the version bumped in MULTI/EXEC and retries when another writer got in between, so
 * concurrent writes never lose a version. Exit: 0 ok, 1 not found / already exists / Redis or
 * stored-record errors, CLI_EXIT_CORRAL (125) for invalid input. It does not talk to workers:
 * they reload templates on their own.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "tmplspec.h"
#include "util.h"
#include "verbs.h"

#define TEMPLATE_KEY_MAX (REDIS_KEYS_PREFIX_MAX + 16)
#define WRITE_ATTEMPTS_MAX 200	/* WATCH conflicts before giving up */
#define LIST_MAX 100000		/* records listed (HGETALL pairs / 2) */
#define CLI_EXIT_FAIL 1

static void usage(FILE *f)
{
	fprintf(f, "Usage: corral template create NAME [OPTIONS]\n"
		   "       corral template list [--json]\n"
		   "       corral template show NAME [--json]\n"
		   "       corral template delete NAME\n"
		   "Manages VM templates (image, CPUs, memory, disk, limits, env, warm-up,\n"
		   "egress) in the hash <prefix>templates. Jobs pick one with\n"
		   "`corral run --template NAME`; `default` is built in and may be\n"
		   "overridden by a record of that name.\n\n"
		   "create options:\n" TMPLSPEC_USAGE_CREATE "\ncommon options:\n"
		   "  --json           list/show: JSON output\n" CLI_COMMON_USAGE
		   "\nExit: 0 ok, 1 not found / exists / Redis error, 125 invalid input.\n");
}

static void template_key(const struct cli *cli, char key[TEMPLATE_KEY_MAX])
{
	snprintf(key, TEMPLATE_KEY_MAX, "%stemplates", cli->prefix);
}

static int flush(struct buf *b)
{
	int r = 0;

	if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
		r = -EIO;
	b->len = 0;
	return r;
}

/* ---- create ---- */

/* The version the record in reply (HGET) has; 0 when there is none. -1 when it exists but does
 * not decode (its version is unknown). */
static int64_t current_version(const struct cli *cli, const redisReply *reply)
{
	struct wire_template *old = NULL;
	struct errmsg e = { "" };
	int64_t v;

	if (reply->type == REDIS_REPLY_NIL)
		return 0;
	if (wire_template_decode(reply->str, reply->len, &old, &e) < 0) {
		cli_err(cli, "the stored record does not decode (%s)", e.msg);
		return -1;
	}
	v = old->version;
	wire_template_free(old);
	return v;
}

/* One WATCH/HGET/MULTI/HSET/EXEC round. 1 written, 0 lost a race (retry), -EEXIST, or a
 * negative errno (printed). */
static int write_once(const struct cli *cli, redisContext *ctx, const char *key,
		      struct tmplspec *spec, int64_t *prev)
{
	struct wire_template *t = spec->t;
	redisReply *reply = NULL;
	struct errmsg e = { "" };
	struct buf enc;
	int r = -EIO;

	buf_init(&enc, WIRE_TEMPLATE_ENCODED_MAX);
	reply = redisCommand(ctx, "WATCH %s", key);
	if (!reply || reply->type != REDIS_REPLY_STATUS) {
		cli_err_reply(cli, ctx, reply, "WATCH");
		goto out;
	}
	freeReplyObject(reply);
	reply = redisCommand(ctx, "HGET %s %s", key, t->name);
	if (!reply || (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_NIL)) {
		cli_err_reply(cli, ctx, reply, "HGET");
		goto out;
	}
	*prev = current_version(cli, reply);
	if (*prev && !spec->replace) {
		freeReplyObject(redisCommand(ctx, "UNWATCH"));
		r = -EEXIST;
		goto out;
	}
	if (*prev >= UINT32_MAX) {
		cli_err(cli, "template '%s' is at the last version %lld", t->name,
			(long long)*prev);
		goto out;
	}
	t->version = *prev > 0 ? (uint32_t)*prev + 1 : 1;
	t->created_ms = time_now_ms();
	r = wire_template_encode(t, &enc, &e);
	if (r < 0) {
		cli_err(cli, "invalid template: %s", e.msg);
		goto out;
	}
	r = -EIO;
	freeReplyObject(reply);
	reply = redisCommand(ctx, "MULTI");
	if (!reply || reply->type != REDIS_REPLY_STATUS) {
		cli_err_reply(cli, ctx, reply, "MULTI");
		goto out;
	}
	freeReplyObject(reply);
	reply = redisCommand(ctx, "HSET %s %s %b", key, t->name, enc.data, enc.len);
	if (!reply || reply->type != REDIS_REPLY_STATUS) {
		cli_err_reply(cli, ctx, reply, "HSET (queued)");
		goto out;
	}
	freeReplyObject(reply);
	reply = redisCommand(ctx, "EXEC");
	if (reply && reply->type == REDIS_REPLY_NIL)
		r = 0;	/* the key changed after WATCH: read again */
	else if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 &&
		 reply->element[0]->type == REDIS_REPLY_INTEGER)
		r = 1;
	else
		cli_err_reply(cli, ctx, reply, "EXEC");
out:
	if (reply)
		freeReplyObject(reply);
	buf_free(&enc);
	return r;
}

static void backoff(unsigned attempt)
{
	uint16_t rnd = 0;
	unsigned ms = attempt < 5 ? 1u << attempt : 32u;
	struct timespec ts;

	(void)random_bytes(&rnd, sizeof(rnd));
	ms = 1 + rnd % ms;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)ms * 1000000L;
	nanosleep(&ts, NULL);
}

static int do_create(int argc, char **argv)
{
	char key[TEMPLATE_KEY_MAX];
	struct tmplspec spec;
	redisContext *ctx = NULL;
	int64_t prev = 0;
	struct cli cli;
	int r, rc = CLI_EXIT_CORRAL;

	cli_init(&cli, "template create");
	r = tmplspec_parse_create(&cli, argc, argv, &spec);
	if (r == CLI_OPT_HELP) {
		usage(stdout);
		rc = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	rc = CLI_EXIT_FAIL;
	template_key(&cli, key);
	ctx = cli_connect(&cli, false);
	if (!ctx)
		goto out;
	for (unsigned i = 0; i < WRITE_ATTEMPTS_MAX; i++) {
		r = write_once(&cli, ctx, key, &spec, &prev);
		if (r != 0)
			break;
		backoff(i);
	}
	if (r == -EEXIST && prev < 0) {
		cli_err(&cli, "template '%s' already exists (as an invalid record); use --replace "
			"to overwrite it", spec.t->name);
	} else if (r == -EEXIST) {
		cli_err(&cli, "template '%s' already exists (version %lld); use --replace to "
			"overwrite it", spec.t->name, (long long)prev);
	} else if (r == 0) {
		cli_err(&cli, "template '%s': %d write conflicts in a row, giving up", spec.t->name,
			WRITE_ATTEMPTS_MAX);
	} else if (r == 1) {
		if (prev < 0)
			printf("replaced template %s version %u (was an invalid record)\n",
			       spec.t->name, (unsigned)spec.t->version);
		else if (prev)
			printf("replaced template %s version %u (was %lld)\n", spec.t->name,
			       (unsigned)spec.t->version, (long long)prev);
		else
			printf("created template %s version %u\n", spec.t->name,
			       (unsigned)spec.t->version);
		rc = 0;
	}
out:
	if (ctx)
		redisFree(ctx);
	tmplspec_free(&spec);
	return rc;
}

/* ---- list, show, delete ---- */

/* Options of list/show/delete: the common ones and --json; NAME when want_name. 0, CLI_OPT_HELP
 * or -EINVAL (printed). */
static int parse_simple(struct cli *cli, int argc, char **argv, bool want_name, bool json_ok,
			bool *json, const char **name)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' }, CLI_COMMON_OPTIONS, { NULL, 0, NULL, 0 },
	};
	int opt, r;

	*json = false;
	*name = NULL;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "-:", options, NULL)) != -1) {
		if (opt == 1 && want_name && !*name) {
			*name = optarg;
			continue;
		}
		if (opt == 1) {
			cli_err(cli, "unexpected argument '%.40s'", optarg);
			return -EINVAL;
		}
		if (opt == 'j' && json_ok) {
			*json = true;
			continue;
		}
		r = cli_common_opt(cli, opt, optarg);
		if (r == CLI_OPT_HELP)
			return CLI_OPT_HELP;
		if (r != 1) {
			cli_err(cli, "unknown option '%.40s' (see corral template --help)",
				argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (want_name) {
		struct wire_template *probe;

		if (!*name) {
			cli_err(cli, "no NAME given");
			return -EINVAL;
		}
		probe = wire_template_new(*name);
		if (!probe) {
			cli_err(cli, "invalid template name '%.70s': 1 to %d characters of "
				"[A-Za-z0-9._-] (NAME)", *name, WIRE_TEMPLATE_MAX);
			return -EINVAL;
		}
		wire_template_free(probe);
	}
	return cli_finish(cli);
}

struct rec {
	const redisReply *name, *value;
};

static int by_name(const void *a, const void *b)
{
	const redisReply *x = ((const struct rec *)a)->name, *y = ((const struct rec *)b)->name;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->str, y->str, n);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int list_records(const struct cli *cli, const redisReply *all, bool json, struct buf *out)
{
	struct rec *recs = NULL;
	size_t n = all->elements / 2;
	bool have_default = false, first = true;
	int r = 0;

	if (n > LIST_MAX) {
		cli_err(cli, "more than %d templates", LIST_MAX);
		return -E2BIG;
	}
	recs = calloc(n ? n : 1, sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		recs[i].name = all->element[2 * i];
		recs[i].value = all->element[2 * i + 1];
		if (recs[i].name->type != REDIS_REPLY_STRING ||
		    recs[i].value->type != REDIS_REPLY_STRING) {
			free(recs);
			cli_err(cli, "HGETALL: unexpected reply");
			return -EIO;
		}
		if (recs[i].name->len == 7 && !memcmp(recs[i].name->str, "default", 7))
			have_default = true;
	}
	qsort(recs, n, sizeof(*recs), by_name);
	r = json ? buf_append(out, "[", 1) : tmplspec_list_header(out);
	if (!r && !have_default) {
		struct wire_template *d = wire_template_new("default");

		if (!d)
			r = -ENOMEM;
		else
			r = json ? tmplspec_json(out, d, true) : tmplspec_list_row(out, d, true);
		first = false;
		wire_template_free(d);
	}
	for (size_t i = 0; !r && i < n; i++) {
		struct wire_template *t = NULL;
		struct errmsg e = { "" };

		if (wire_template_decode(recs[i].value->str, recs[i].value->len, &t, &e) < 0) {
			if (!json)
				r = tmplspec_list_invalid(out, recs[i].name->str, recs[i].name->len,
							  e.msg);
			else
				fprintf(stderr, "corral template list: skipping '%.64s': invalid "
					"record: %s\n", recs[i].name->str, e.msg);
			continue;
		}
		if (json && !first)
			r = buf_append(out, ",", 1);
		first = false;
		if (!r)
			r = json ? tmplspec_json(out, t, false) : tmplspec_list_row(out, t, false);
		wire_template_free(t);
		if (!r && out->len > 65536)
			r = flush(out);
	}
	if (!r && json)
		r = buf_append(out, "]\n", 2);
	free(recs);
	return r;
}

static int do_list(int argc, char **argv)
{
	char key[TEMPLATE_KEY_MAX];
	redisContext *ctx = NULL;
	redisReply *all = NULL;
	const char *name;
	struct cli cli;
	struct buf out;
	bool json;
	int r, rc = CLI_EXIT_CORRAL;

	cli_init(&cli, "template list");
	buf_init(&out, 0);
	r = parse_simple(&cli, argc, argv, false, true, &json, &name);
	if (r == CLI_OPT_HELP) {
		usage(stdout);
		return 0;
	}
	if (r < 0)
		return rc;
	rc = CLI_EXIT_FAIL;
	template_key(&cli, key);
	ctx = cli_connect(&cli, false);
	if (!ctx)
		goto out;
	all = redisCommand(ctx, "HGETALL %s", key);
	if (!all || all->type != REDIS_REPLY_ARRAY || all->elements % 2) {
		cli_err_reply(&cli, ctx, all, "HGETALL");
		goto out;
	}
	r = list_records(&cli, all, json, &out);
	if (r == 0)
		r = flush(&out);
	if (r == 0)
		rc = 0;
	else if (r != -EIO && r != -E2BIG)
		cli_err(&cli, "%s", errno_name(r));
out:
	buf_free(&out);
	if (all)
		freeReplyObject(all);
	if (ctx)
		redisFree(ctx);
	return rc;
}

static int do_show(int argc, char **argv)
{
	char key[TEMPLATE_KEY_MAX];
	struct wire_template *t = NULL;
	struct errmsg e = { "" };
	redisContext *ctx = NULL;
	redisReply *reply = NULL;
	const char *name;
	struct cli cli;
	struct buf out;
	bool json, builtin = false;
	int r, rc = CLI_EXIT_CORRAL;

	cli_init(&cli, "template show");
	buf_init(&out, 0);
	r = parse_simple(&cli, argc, argv, true, true, &json, &name);
	if (r == CLI_OPT_HELP) {
		usage(stdout);
		return 0;
	}
	if (r < 0)
		return rc;
	rc = CLI_EXIT_FAIL;
	template_key(&cli, key);
	ctx = cli_connect(&cli, false);
	if (!ctx)
		goto out;
	reply = redisCommand(ctx, "HGET %s %s", key, name);
	if (!reply || (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_NIL)) {
		cli_err_reply(&cli, ctx, reply, "HGET");
		goto out;
	}
	if (reply->type == REDIS_REPLY_NIL) {
		if (strcmp(name, "default") != 0) {
			cli_err(&cli, "template '%s' not found", name);
			goto out;
		}
		builtin = true;
		t = wire_template_new(name);
	} else if (wire_template_decode(reply->str, reply->len, &t, &e) < 0) {
		cli_err(&cli, "template '%s': invalid record: %s", name, e.msg);
		goto out;
	}
	if (!t)
		goto out;
	r = json ? tmplspec_json(&out, t, builtin) : tmplspec_show_text(&out, t, builtin);
	if (!r && json)
		r = buf_append(&out, "\n", 1);
	if (!r)
		r = flush(&out);
	if (!r)
		rc = 0;
out:
	wire_template_free(t);
	buf_free(&out);
	if (reply)
		freeReplyObject(reply);
	if (ctx)
		redisFree(ctx);
	return rc;
}

static int do_delete(int argc, char **argv)
{
	char key[TEMPLATE_KEY_MAX];
	redisContext *ctx = NULL;
	redisReply *reply = NULL;
	const char *name;
	struct cli cli;
	bool json;
	int r, rc = CLI_EXIT_CORRAL;

	cli_init(&cli, "template delete");
	r = parse_simple(&cli, argc, argv, true, false, &json, &name);
	if (r == CLI_OPT_HELP) {
		usage(stdout);
		return 0;
	}
	if (r < 0)
		return rc;
	rc = CLI_EXIT_FAIL;
	template_key(&cli, key);
	ctx = cli_connect(&cli, false);
	if (!ctx)
		goto out;
	reply = redisCommand(ctx, "HDEL %s %s", key, name);
	if (!reply || reply->type != REDIS_REPLY_INTEGER) {
		cli_err_reply(&cli, ctx, reply, "HDEL");
		goto out;
	}
	if (reply->integer == 0) {
		cli_err(&cli, "template '%s' not found", name);
		goto out;
	}
	printf("deleted template %s%s\n", name, strcmp(name, "default") ? "" :
	       " (jobs now get the built-in default)");
	rc = 0;
out:
	if (reply)
		freeReplyObject(reply);
	if (ctx)
		redisFree(ctx);
	return rc;
}

int cmd_template(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} subs[] = {
		{ "create", do_create }, { "list", do_list }, { "show", do_show },
		{ "delete", do_delete },
	};

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_CORRAL;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "corral template: unknown command '%.40s' (create, list, show, delete)\n",
		argv[1]);
	return CLI_EXIT_CORRAL;
}
