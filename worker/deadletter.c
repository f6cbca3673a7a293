/*
 * deadletter: the dead-letter script. With no job id, the result and out keys are passed as the
 * jobs key again (never touched), so every script call declares only keys of the queue's hash
 * tag. It must stay idempotent like the result script.
 */
#define LOG_MOD "dead"
#include "deadletter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "output.h"
#include "script.h"

/* KEYS: jobs, dead, result, out. ARGV: group, entry, consumer, reason, job, job_id, result,
 * final, ttl, out_maxlen, dead_maxlen. */
static struct script dead_script = {
	.name = "deadletter",
	.src = "local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)\n"
	       "if #p == 0 then return 'gone' end\n"
	       "if p[1][2] ~= ARGV[3] then return 'not_owner' end\n"
	       "redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[11], '*', 'id', ARGV[6],\n"
	       "  'entry', ARGV[2], 'reason', ARGV[4], 'deliveries', p[1][4], 'job', ARGV[5])\n"
	       "if ARGV[6] ~= '' then\n"
	       "  redis.call('SET', KEYS[3], ARGV[7], 'EX', ARGV[9])\n"
	       "  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[10], '*', 'm', ARGV[8])\n"
	       "  redis.call('EXPIRE', KEYS[4], ARGV[9])\n"
	       "  redis.call('PUBLISH', KEYS[4], ARGV[8])\n"
	       "end\n"
	       "redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])\n"
	       "redis.call('XDEL', KEYS[1], ARGV[2])\n"
	       "return 'ok'\n",
};

struct dead_call {
	result_done_fn *fn;
	void *priv;
	char what[96];
};

static void on_dead(struct rconn *rc, struct redisReply *reply, void *priv)
{
	struct dead_call *c = priv;

	(void)rc;
	c->fn(result_outcome_of(reply, c->what), c->priv);
	free(c);
}

void deadletter_scripts_load(struct rconn *rc)
{
	(void)script_load(rc, &dead_script);
}

int deadletter_write(struct rconn *rc, const struct redis_keys *k, const struct deadletter *d,
		     result_done_fn *fn, void *priv)
{
	char rkey[REDIS_KEYS_NAME_MAX], okey[REDIS_KEYS_NAME_MAX], ttl[16];
	bool has_id = d->job_id && d->job_id[0];
	const char *args[15];
	size_t lens[15];
	struct dead_call *c;
	int r;

	if (has_id) {
		redis_keys_result(k, d->job_id, rkey);
		redis_keys_out(k, d->job_id, okey);
	} else {
		snprintf(rkey, sizeof(rkey), "%s", k->jobs);
		snprintf(okey, sizeof(okey), "%s", k->jobs);
	}
	snprintf(ttl, sizeof(ttl), "%u", d->ttl_s);
	args[0] = k->jobs;
	args[1] = k->dead;
	args[2] = rkey;
	args[3] = okey;
	args[4] = REDIS_KEYS_GROUP;
	args[5] = d->entry_id;
	args[6] = d->consumer;
	args[7] = d->reason;
	args[8] = d->job ? (const char *)d->job : "";
	args[9] = has_id ? d->job_id : "";
	args[10] = has_id ? (const char *)d->result->data : "";
	args[11] = has_id ? (const char *)d->final_msg->data : "";
	args[12] = ttl;
	args[13] = OUTPUT_STREAM_ENTRIES_STR;
	args[14] = DEADLETTER_STREAM_ENTRIES_STR;
	for (int i = 0; i < 15; i++)
		if (i != 8 && i != 10 && i != 11)
			lens[i] = strlen(args[i]);
	lens[8] = d->job ? d->job_len : 0;
	lens[10] = has_id ? d->result->len : 0;
	lens[11] = has_id ? d->final_msg->len : 0;
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fn = fn;
	c->priv = priv;
	snprintf(c->what, sizeof(c->what), "deadletter entry=%s", d->entry_id);
	r = script_eval(rc, &dead_script, 4, 15, args, lens, on_dead, c);
	if (r < 0)
		free(c);
	return r;
}
