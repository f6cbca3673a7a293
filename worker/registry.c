/*
 * registry: HSET + PEXPIRE + ZADD (+ trimming the set of ids not seen for a day) pipelined, and
 * the prune script. It never waits for replies and logs failures sparingly.
 */
#define LOG_MOD "registry"
#include "registry.h"

#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "lease.h"
#include "log.h"
#include "script.h"

#define REGISTRY_FORGET_MS (86400ull * 1000ull)

/* KEYS: jobs. ARGV: group, me, prune_ms. → number deleted. XINFO CONSUMERS and DELCONSUMER in
 * one script: nothing can become pending for a consumer between the check and the delete. */
static struct script prune_script = {
	.name = "prune",
	.src = "local n = 0\n"
	       "for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do\n"
	       "  local f = {}\n"
	       "  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end\n"
	       "  if f['name'] ~= ARGV[2] and f['pending'] == 0 and\n"
	       "     f['idle'] >= tonumber(ARGV[3]) then\n"
	       "    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])\n"
	       "    n = n + 1\n"
	       "  end\n"
	       "end\n"
	       "return n\n",
};

static unsigned registry_errors;

static void on_reply(struct rconn *rc, struct redisReply *reply, void *priv)
{
	(void)rc;
	(void)priv;
	if (reply && reply->type == REDIS_REPLY_ERROR && registry_errors++ % 100 == 0)
		log_warn("registry.write_failed", "err=\"%.200s\"", reply->str);
}

static void on_prune(struct rconn *rc, struct redisReply *reply, void *priv)
{
	(void)rc;
	(void)priv;
	if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0)
		log_info("registry.pruned", "consumers=%lld", reply->integer);
	else
		on_reply(rc, reply, priv);
}

void registry_scripts_load(struct rconn *rc)
{
	(void)script_load(rc, &prune_script);
}

static int send(struct rconn *rc, int argc, const char **argv)
{
	size_t lens[32];

	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	return rconn_argv(rc, on_reply, NULL, argc, argv, lens);
}

int registry_publish(struct rconn *rc, const struct redis_keys *k, const struct registry_record *r)
{
	char key[REDIS_KEYS_NAME_MAX], set[REDIS_KEYS_NAME_MAX], cap[16], run[16], lease[16];
	char started[24], seen[24], ttl[16], old[24];
	const char *hset[] = { "HSET", key, "id", r->id, "host", r->host, "version", r->version,
			       "capacity", cap, "running", run, "pool", r->pool, "templates", r->templates ? r->templates : "",
			       "budget", r->budget ? r->budget : "", "accel", r->accel,
			       "lease_s", lease,
			       "started_ms", started, "seen_ms", seen };
	const char *pexp[] = { "PEXPIRE", key, ttl };
	const char *zadd[] = { "ZADD", set, seen, r->id };
	const char *ztrim[] = { "ZREMRANGEBYSCORE", set, "-inf", old };
	int rr;

	lease_key(k, "worker", r->id, key);
	snprintf(set, sizeof(set), "%sworkers", k->base);
	snprintf(cap, sizeof(cap), "%u", r->capacity);
	snprintf(run, sizeof(run), "%u", r->running);
	snprintf(lease, sizeof(lease), "%u", r->lease_s);
	snprintf(started, sizeof(started), "%llu", (unsigned long long)r->started_ms);
	snprintf(seen, sizeof(seen), "%llu", (unsigned long long)r->seen_ms);
	snprintf(ttl, sizeof(ttl), "%u", r->ttl_ms);
	snprintf(old, sizeof(old), "(%llu",
		 (unsigned long long)(r->seen_ms > REGISTRY_FORGET_MS ? r->seen_ms - REGISTRY_FORGET_MS
								      : 0));
	rr = send(rc, (int)(sizeof(hset) / sizeof(hset[0])), hset);
	if (rr == 0)
		rr = send(rc, 3, pexp);
	if (rr == 0)
		rr = send(rc, 4, zadd);
	if (rr == 0)
		rr = send(rc, 4, ztrim);
	return rr;
}

int registry_prune(struct rconn *rc, const struct redis_keys *k, const char *me, uint64_t prune_ms)
{
	char ms[24];
	const char *args[4];
	size_t lens[4];

	snprintf(ms, sizeof(ms), "%llu", (unsigned long long)prune_ms);
	args[0] = k->jobs;
	args[1] = REDIS_KEYS_GROUP;
	args[2] = me;
	args[3] = ms;
	for (int i = 0; i < 4; i++)
		lens[i] = strlen(args[i]);
	return script_eval(rc, &prune_script, 1, 4, args, lens, on_prune, NULL);
}
