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

#include "lease.h"
#include "log.h"
#include "output.h"
#include "script.h"

/* KEYS: jobs, result, dead, out, run. ARGV: group, entry, consumer, run, reason, job, job_id,
 * result, final, ttl, out_maxlen, dead_maxlen. Fenced like the result script (lease.h). */
static struct script dead_script = {
	.name = "deadletter",
	.src = LEASE_FENCE_LUA
	       "local f = fence()\n"
	       "if f == 'lost' then return 'gone' end\n"
	       "if f ~= 'ok' then return f end\n"
	       "local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)\n"
	       "redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[12], '*', 'id', ARGV[7],\n"
	       "  'entry', ARGV[2], 'reason', ARGV[5], 'deliveries', p[1][4], 'job', ARGV[6])\n"
	       "if ARGV[7] ~= '' then\n"
	       "  redis.call('SET', KEYS[2], ARGV[8], 'EX', ARGV[10])\n"
	       "  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[11], '*', 'm', ARGV[9])\n"
	       "  redis.call('EXPIRE', KEYS[4], ARGV[10])\n"
	       "  redis.call('PUBLISH', KEYS[4], ARGV[9])\n"
	       "end\n"
	       "redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])\n"
	       "redis.call('XDEL', KEYS[1], ARGV[2])\n"
	       "redis.call('DEL', KEYS[5])\n"
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
	char rkey[REDIS_KEYS_NAME_MAX], okey[REDIS_KEYS_NAME_MAX], runkey[REDIS_KEYS_NAME_MAX];
	char ttl[16], att[16];
	bool has_id = d->job_id && d->job_id[0];
	const char *args[17];
	size_t lens[17];
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
	snprintf(att, sizeof(att), "%u", (unsigned)d->attempt);
	lease_key(k, "run", d->entry_id, runkey);
	args[0] = k->jobs;
	args[1] = rkey;
	args[2] = k->dead;
	args[3] = okey;
	args[4] = runkey;
	args[5] = REDIS_KEYS_GROUP;
	args[6] = d->entry_id;
	args[7] = d->consumer;
	args[8] = att;
	args[9] = d->reason;
	args[10] = d->job ? (const char *)d->job : "";
	args[11] = has_id ? d->job_id : "";
	args[12] = has_id ? (const char *)d->result->data : "";
	args[13] = has_id ? (const char *)d->final_msg->data : "";
	args[14] = ttl;
	args[15] = OUTPUT_STREAM_ENTRIES_STR;
	args[16] = DEADLETTER_STREAM_ENTRIES_STR;
	for (int i = 0; i < 17; i++)
		if (i != 10 && i != 12 && i != 13)
			lens[i] = strlen(args[i]);
	lens[10] = d->job ? d->job_len : 0;
	lens[12] = has_id ? d->result->len : 0;
	lens[13] = has_id ? d->final_msg->len : 0;
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fn = fn;
	c->priv = priv;
	snprintf(c->what, sizeof(c->what), "deadletter entry=%s", d->entry_id);
	r = script_eval(rc, &dead_script, 5, 17, args, lens, on_dead, c);
	if (r < 0)
		free(c);
	return r;
}
