/*
 * result: the final-write script and its reply handling. All keys of the script share the
 * queue's hash tag. The script must stay idempotent: a retry after a lost reply finds the entry
 * acked and answers "gone" without writing anything twice.
 */
#define LOG_MOD "result"
#include "result.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "lease.h"
#include "log.h"
#include "output.h"
#include "script.h"

/* KEYS: jobs, result, out, run. ARGV: group, entry, consumer, run, result, ttl, final, out_maxlen.
 * The fence (lease.h) refuses an attempt that lost its entry. Not pending any more: with a
 * result there, an earlier try (or the attempt that took over) went through ("gone"); without
 * one, the entry was lost (Redis restarted without its data, or someone deleted it): the job did
 * run, so its result is still recorded ("lost"), with nothing to ack. */
static struct script result_script = {
	.name = "result",
	.src = LEASE_FENCE_LUA
	       "local f = fence()\n"
	       "if f == 'gone' or f == 'not_owner' then return f end\n"
	       "redis.call('SET', KEYS[2], ARGV[5], 'EX', ARGV[6])\n"
	       "redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', 'm', ARGV[7])\n"
	       "redis.call('EXPIRE', KEYS[3], ARGV[6])\n"
	       "redis.call('PUBLISH', KEYS[3], ARGV[7])\n"
	       "if f == 'lost' then return 'lost' end\n"
	       "redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])\n"
	       "redis.call('XDEL', KEYS[1], ARGV[2])\n"
	       "redis.call('DEL', KEYS[4])\n"
	       "return 'ok'\n",
};

struct result_call {
	result_done_fn *fn;
	void *priv;
	char what[80];
};

const char *result_outcome_name(enum result_outcome o)
{
	switch (o) {
	case RESULT_WRITTEN:
		return "written";
	case RESULT_GONE:
		return "gone";
	case RESULT_NOT_OWNER:
		return "not_owner";
	case RESULT_LOST:
		return "lost";
	default:
		return "unknown";
	}
}

enum result_outcome result_outcome_of(const struct redisReply *reply, const char *what)
{
	if (!reply)
		return RESULT_UNKNOWN;
	if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS) {
		if (strcmp(reply->str, "ok") == 0)
			return RESULT_WRITTEN;
		if (strcmp(reply->str, "gone") == 0)
			return RESULT_GONE;
		if (strcmp(reply->str, "not_owner") == 0)
			return RESULT_NOT_OWNER;
		if (strcmp(reply->str, "lost") == 0)
			return RESULT_LOST;
	}
	log_error("result.script_failed", "what=%s err=\"%.200s\"", what,
		  reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
	return RESULT_UNKNOWN;
}

static void on_result(struct rconn *rc, struct redisReply *reply, void *priv)
{
	struct result_call *c = priv;

	(void)rc;
	c->fn(result_outcome_of(reply, c->what), c->priv);
	free(c);
}

void result_scripts_load(struct rconn *rc)
{
	(void)script_load(rc, &result_script);
}

int result_write(struct rconn *rc, const struct redis_keys *k, const struct result_write *w,
		 result_done_fn *fn, void *priv)
{
	char rkey[REDIS_KEYS_NAME_MAX], okey[REDIS_KEYS_NAME_MAX], runkey[REDIS_KEYS_NAME_MAX];
	char ttl[16], att[16];
	const char *args[12];
	size_t lens[12];
	struct result_call *c;
	int r;

	redis_keys_result(k, w->job_id, rkey);
	redis_keys_out(k, w->job_id, okey);
	snprintf(ttl, sizeof(ttl), "%u", w->ttl_s);
	lease_key(k, "run", w->entry_id, runkey);
	args[0] = k->jobs;
	args[1] = rkey;
	args[2] = okey;
	args[3] = runkey;
	args[4] = REDIS_KEYS_GROUP;
	args[5] = w->entry_id;
	args[6] = w->consumer;
	snprintf(att, sizeof(att), "%u", (unsigned)w->attempt);
	args[7] = att;
	args[8] = (const char *)w->result->data;
	args[9] = ttl;
	args[10] = (const char *)w->final_msg->data;
	args[11] = OUTPUT_STREAM_ENTRIES_STR;
	for (int i = 0; i < 12; i++)
		if (i != 8 && i != 10)
			lens[i] = strlen(args[i]);
	lens[8] = w->result->len;
	lens[10] = w->final_msg->len;
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fn = fn;
	c->priv = priv;
	snprintf(c->what, sizeof(c->what), "result job=%s", w->job_id);
	r = script_eval(rc, &result_script, 4, 12, args, lens, on_result, c);
	if (r < 0)
		free(c);
	return r;
}
