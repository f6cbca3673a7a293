/*
 * lease: script texts, argument marshalling and reply parsing for leases. Every reply is checked
 * for shape; anything unexpected is "unknown" (the caller retries or waits for the next tick),
 * never trusted. All keys of a script carry the queue's hash tag.
 */
#define LOG_MOD "lease"
#include "lease.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "claim.h"
#include "log.h"
#include "script.h"

/* KEYS: jobs, cancel, run. ARGV: group, entry, consumer, run_ttl.
 * → {deliveries, cancelled, run} ({0, 0, 0}: not ours) */
static struct script begin_script = {
	.name = "begin",
	.src = "local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)\n"
	       "if #p == 0 or p[1][2] ~= ARGV[3] then return {0, 0, 0} end\n"
	       "local run = redis.call('INCR', KEYS[3])\n"
	       "redis.call('EXPIRE', KEYS[3], ARGV[4])\n"
	       "return {p[1][4], redis.call('EXISTS', KEYS[2]), run}\n",
};

/* KEYS: jobs, result, cancel, run. ARGV: group, entry, consumer, run. */
static struct script renew_script = {
	.name = "renew",
	.src = LEASE_FENCE_LUA
	       "local f = fence()\n"
	       "if f == 'ok' then\n"
	       "  redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'JUSTID')\n"
	       "end\n"
	       "if (f == 'ok' or f == 'lost') and redis.call('EXISTS', KEYS[3]) == 1 then\n"
	       "  return 'cancelled'\n"
	       "end\n"
	       "return f\n",
};

/* KEYS: jobs, result, run. ARGV: group, entry, consumer, run, idle_ms, retrycount. The run
 * counter is left as it is: the next begin draws a higher number. */
static struct script handback_script = {
	.name = "handback",
	.src = LEASE_FENCE_LUA
	       "local f = fence()\n"
	       "if f ~= 'ok' then return f end\n"
	       "redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'IDLE', ARGV[5],\n"
	       "  'RETRYCOUNT', ARGV[6], 'JUSTID')\n"
	       "return 'ok'\n",
};

/* KEYS: jobs. ARGV: group, entry, consumer, lease_ms. Owner check only: no run began. */
static struct script release_script = {
	.name = "release",
	.src = "local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)\n"
	       "if #p == 0 or p[1][2] ~= ARGV[3] then return 'not_owner' end\n"
	       "local n = p[1][4] - 1\n"
	       "if n < 0 then n = 0 end\n"
	       "redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'IDLE', ARGV[4],\n"
	       "  'RETRYCOUNT', n, 'JUSTID')\n"
	       "return 'ok'\n",
};

/* KEYS: jobs. ARGV: group, consumer, min_idle_ms, max, skip, own.
 * → {{{id, fields, prev_owner, idle, deliveries}, ...}, {lost_id, ...}, more}
 * more = 1 when it stopped at max with candidates left.
 * XPENDING pages of 100 (at most 1000 PEL entries per call); XCLAIM without JUSTID raises the
 * delivery count, so a takeover counts as an attempt. On 7.0 XCLAIM purges entries whose body
 * was deleted and returns nothing for them: reported as lost. */
static struct script reap_script = {
	.name = "reap",
	.src = "local skip = {}\n"
	       "for id in string.gmatch(ARGV[5], '%S+') do skip[id] = true end\n"
	       "local out, lost, start, scanned, more = {}, {}, '-', 0, 0\n"
	       "local max = tonumber(ARGV[4])\n"
	       "while more == 0 and scanned < 1000 do\n"
	       "  local p\n"
	       "  if ARGV[6] == '1' then\n"
	       "    p = redis.call('XPENDING', KEYS[1], ARGV[1], start, '+', 100, ARGV[2])\n"
	       "  else\n"
	       "    p = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', ARGV[3], start, '+', 100)\n"
	       "  end\n"
	       "  if #p == 0 then break end\n"
	       "  for _, e in ipairs(p) do\n"
	       "    scanned = scanned + 1\n"
	       "    if not (e[2] == ARGV[2] and skip[e[1]]) then\n"
	       "      if #out >= max then more = 1 break end\n"
	       "      local c = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], e[1])\n"
	       "      if #c == 0 or not c[1] then\n"
	       "        if #redis.call('XRANGE', KEYS[1], e[1], e[1]) == 0 then\n"
	       "          redis.call('XACK', KEYS[1], ARGV[1], e[1])\n"
	       "          lost[#lost + 1] = e[1]\n"
	       "        end\n"
	       "      else\n"
	       "        out[#out + 1] = {c[1][1], c[1][2], e[2], e[3], e[4] + 1}\n"
	       "      end\n"
	       "    end\n"
	       "  end\n"
	       "  if more == 1 or #p < 100 then break end\n"
	       "  start = '(' .. p[#p][1]\n"
	       "end\n"
	       "if scanned >= 1000 then more = 1 end\n"
	       "return {out, lost, more}\n",
};

static void set_lens(const char **args, size_t *lens, int n)
{
	for (int i = 0; i < n; i++)
		lens[i] = strlen(args[i]);
}

void lease_key(const struct redis_keys *k, const char *what, const char *id,
	       char out[REDIS_KEYS_NAME_MAX])
{
	snprintf(out, REDIS_KEYS_NAME_MAX, "%s%s:%s", k->base, what, id);
}

void lease_scripts_load(struct rconn *rc)
{
	(void)script_load(rc, &begin_script);
	(void)script_load(rc, &renew_script);
	(void)script_load(rc, &handback_script);
	(void)script_load(rc, &reap_script);
	(void)script_load(rc, &release_script);
}

int lease_release(struct rconn *rc, const struct redis_keys *k, const char *entry_id,
		  const char *consumer, uint32_t lease_ms)
{
	char lease[16];
	const char *args[5];
	size_t lens[5];

	snprintf(lease, sizeof(lease), "%u", (unsigned)lease_ms);
	args[0] = k->jobs;
	args[1] = REDIS_KEYS_GROUP;
	args[2] = entry_id;
	args[3] = consumer;
	args[4] = lease;
	set_lens(args, lens, 5);
	return script_eval(rc, &release_script, 1, 5, args, lens, NULL, NULL);
}

uint32_t lease_backoff_ms(uint32_t attempt, uint32_t cap_ms, uint32_t rnd)
{
	uint64_t d = LEASE_BACKOFF_BASE_MS;

	for (uint32_t i = 1; i < attempt && d < cap_ms; i++)
		d *= 2;
	if (d > cap_ms)
		d = cap_ms;
	return (uint32_t)(d / 2 + (d - d / 2 + 1 > 0 ? rnd % (d - d / 2 + 1) : 0));
}

/* ---- begin ---- */

struct begin_call {
	lease_begin_fn *fn;
	void *priv;
};

static void on_begin(struct rconn *rc, struct redisReply *reply, void *priv)
{
	struct begin_call *c = priv;
	int d = -EAGAIN;
	uint32_t run = 0;
	bool cancelled = false;

	(void)rc;
	if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
	    reply->element[0]->type == REDIS_REPLY_INTEGER &&
	    reply->element[1]->type == REDIS_REPLY_INTEGER &&
	    reply->element[2]->type == REDIS_REPLY_INTEGER) {
		long long v = reply->element[0]->integer, n = reply->element[2]->integer;

		d = v < 0 ? 0 : v > INT32_MAX ? INT32_MAX : (int)v;
		run = n < 0 ? 0 : n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
		cancelled = reply->element[1]->integer == 1;
	} else if (reply) {
		log_warn("lease.begin_failed", "err=\"%.200s\"",
			 reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
	}
	c->fn(d, run, cancelled, c->priv);
	free(c);
}

int lease_begin(struct rconn *rc, const struct redis_keys *k, const char *entry_id,
		const char *job_id, const char *consumer, lease_begin_fn *fn, void *priv)
{
	char ckey[REDIS_KEYS_NAME_MAX], runkey[REDIS_KEYS_NAME_MAX], ttl[16];
	const char *args[7];
	size_t lens[7];
	struct begin_call *c = malloc(sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->fn = fn;
	c->priv = priv;
	if (job_id && job_id[0])
		lease_key(k, "cancel", job_id, ckey);
	else
		snprintf(ckey, sizeof(ckey), "%s", k->jobs);	/* never a cancel flag */
	lease_key(k, "run", entry_id, runkey);
	snprintf(ttl, sizeof(ttl), "%u", LEASE_RUN_TTL_S);
	args[0] = k->jobs;
	args[1] = ckey;
	args[2] = runkey;
	args[3] = REDIS_KEYS_GROUP;
	args[4] = entry_id;
	args[5] = consumer;
	args[6] = ttl;
	set_lens(args, lens, 7);
	r = script_eval(rc, &begin_script, 3, 7, args, lens, on_begin, c);
	if (r < 0)
		free(c);
	return r;
}

/* ---- renew / handback ---- */

struct lease_call {
	lease_done_fn *fn;
	void *priv;
	const char *what;
};

static void on_lease(struct rconn *rc, struct redisReply *reply, void *priv)
{
	struct lease_call *c = priv;
	enum lease_outcome o = LEASE_UNKNOWN;

	(void)rc;
	if (reply && (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS)) {
		if (!strcmp(reply->str, "ok"))
			o = LEASE_OK;
		else if (!strcmp(reply->str, "cancelled"))
			o = LEASE_CANCELLED;
		else if (!strcmp(reply->str, "not_owner") || !strcmp(reply->str, "gone"))
			o = LEASE_NOT_OWNER;
		else if (!strcmp(reply->str, "lost"))
			o = LEASE_LOST;
	}
	if (reply && o == LEASE_UNKNOWN)
		log_warn("lease.script_failed", "script=%s err=\"%.200s\"", c->what,
			 reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
	c->fn(o, c->priv);
	free(c);
}

static int fenced_call(struct rconn *rc, const struct redis_keys *k, struct script *s,
		       const struct lease_id *id, bool with_cancel, const char *a5, const char *a6,
		       lease_done_fn *fn, void *priv)
{
	char rkey[REDIS_KEYS_NAME_MAX], ckey[REDIS_KEYS_NAME_MAX], runkey[REDIS_KEYS_NAME_MAX];
	char att[16];
	const char *args[10];
	size_t lens[10];
	int n = 0, nkeys, r;
	struct lease_call *c = malloc(sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->fn = fn;
	c->priv = priv;
	c->what = s->name;
	redis_keys_result(k, id->job_id, rkey);
	lease_key(k, "cancel", id->job_id, ckey);
	lease_key(k, "run", id->entry_id, runkey);
	snprintf(att, sizeof(att), "%u", (unsigned)id->attempt);
	args[n++] = k->jobs;
	args[n++] = rkey;
	if (with_cancel)
		args[n++] = ckey;
	args[n++] = runkey;
	nkeys = n;
	args[n++] = REDIS_KEYS_GROUP;
	args[n++] = id->entry_id;
	args[n++] = id->consumer;
	args[n++] = att;
	if (a5)
		args[n++] = a5;
	if (a6)
		args[n++] = a6;
	set_lens(args, lens, n);
	r = script_eval(rc, s, nkeys, n, args, lens, on_lease, c);
	if (r < 0)
		free(c);
	return r;
}

int lease_renew(struct rconn *rc, const struct redis_keys *k, const struct lease_id *id,
		lease_done_fn *fn, void *priv)
{
	return fenced_call(rc, k, &renew_script, id, true, NULL, NULL, fn, priv);
}

int lease_handback(struct rconn *rc, const struct redis_keys *k, const struct lease_id *id,
		   uint32_t idle_ms, uint32_t retrycount, lease_done_fn *fn, void *priv)
{
	char idle[16], rcount[16];

	snprintf(idle, sizeof(idle), "%u", (unsigned)idle_ms);
	snprintf(rcount, sizeof(rcount), "%u", (unsigned)retrycount);
	return fenced_call(rc, k, &handback_script, id, false, idle, rcount, fn, priv);
}

/* ---- reap ---- */

struct reap_call {
	struct lease_reap_hooks hooks;
	void *ud;
	bool own;
};

static int reaped_entry(struct reap_call *c, const redisReply *e)
{
	struct lease_reaped re = { 0 };
	const redisReply *fields;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 5 ||
	    e->element[0]->type != REDIS_REPLY_STRING || e->element[0]->len > CLAIM_ENTRY_ID_MAX ||
	    e->element[2]->type != REDIS_REPLY_STRING ||
	    e->element[3]->type != REDIS_REPLY_INTEGER ||
	    e->element[4]->type != REDIS_REPLY_INTEGER)
		return -EBADMSG;
	re.entry_id = e->element[0]->str;
	re.prev_owner = e->element[2]->str;
	re.idle_ms = e->element[3]->integer;
	re.deliveries = e->element[4]->integer;
	fields = e->element[1];
	if (fields->type == REDIS_REPLY_ARRAY)
		for (size_t i = 0; i + 1 < fields->elements; i += 2) {
			const redisReply *f = fields->element[i], *v = fields->element[i + 1];

			if (f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
			    f->len == 3 && memcmp(f->str, "job", 3) == 0) {
				re.job = (const uint8_t *)v->str;
				re.job_len = v->len;
				break;
			}
		}
	c->hooks.entry(&re, c->own, c->ud);
	return 0;
}

static void on_reap(struct rconn *rc, struct redisReply *reply, void *priv)
{
	struct reap_call *c = priv;
	const redisReply *got, *lost;
	unsigned n = 0;
	int err = -EAGAIN;
	bool more = false;

	(void)rc;
	if (!reply)
		goto out;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
	    reply->element[0]->type != REDIS_REPLY_ARRAY ||
	    reply->element[1]->type != REDIS_REPLY_ARRAY ||
	    reply->element[2]->type != REDIS_REPLY_INTEGER) {
		log_warn("lease.reap_failed", "err=\"%.200s\"",
			 reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
		err = -EIO;
		goto out;
	}
	got = reply->element[0];
	lost = reply->element[1];
	for (size_t i = 0; i < lost->elements; i++)
		if (lost->element[i]->type == REDIS_REPLY_STRING)
			c->hooks.lost(lost->element[i]->str, c->ud);
	for (size_t i = 0; i < got->elements; i++)
		if (reaped_entry(c, got->element[i]) == 0)
			n++;
	err = 0;
	more = reply->element[2]->integer == 1;
out:
	c->hooks.done(err, c->own, n, more, c->ud);
	free(c);
}

int lease_reap(struct rconn *rc, const struct redis_keys *k, const char *consumer, bool own,
	       uint32_t lease_ms, unsigned max, const char *skip,
	       const struct lease_reap_hooks *hooks, void *ud)
{
	char idle[16], maxs[16];
	const char *args[7];
	size_t lens[7];
	struct reap_call *c = malloc(sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->hooks = *hooks;
	c->ud = ud;
	c->own = own;
	snprintf(idle, sizeof(idle), "%u", own ? 0u : (unsigned)lease_ms);
	snprintf(maxs, sizeof(maxs), "%u", max);
	args[0] = k->jobs;
	args[1] = REDIS_KEYS_GROUP;
	args[2] = consumer;
	args[3] = idle;
	args[4] = maxs;
	args[5] = skip;
	args[6] = own ? "1" : "0";
	set_lens(args, lens, 7);
	r = script_eval(rc, &reap_script, 1, 7, args, lens, on_reap, c);
	if (r < 0)
		free(c);
	return r;
}
