/*
 * claim: XREADGROUP on the blocking connection and the reply parsing that goes with it. Every
 * reply from Redis is checked for shape before use; a bad reply is logged and the read retried
 * after CLAIM_RETRY_MS, never trusted. It must not keep pointers into replies after a hook
 * returns, and it never acks: that is the result and dead-letter scripts' job.
 */
#define LOG_MOD "claim"
#include "claim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <hiredis/hiredis.h>

#include "log.h"

struct claim {
	struct ev_loop *loop;
	struct rconn *rc;
	const struct redis_keys *k;
	char consumer[CLAIM_CONSUMER_MAX + 1];
	struct claim_hooks hooks;
	void *ud;
	bool in_flight;
	bool stopped;
	ev_timer retry;
};

int claim_entry_ms(const char *id, uint64_t *ms)
{
	uint64_t v = 0;
	const char *p = id;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p != '-' && *p != '\0')
		return -EINVAL;
	*ms = v;
	return 0;
}

static void on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	claim_kick(w->data);
}

static void retry_later(struct claim *c)
{
	ev_timer_stop(c->loop, &c->retry);
	ev_timer_set(&c->retry, CLAIM_RETRY_MS / 1000.0, 0.);
	ev_timer_start(c->loop, &c->retry);
}

static void on_group(struct rconn *rc, struct redisReply *reply, void *priv)
{
	struct claim *c = priv;

	(void)rc;
	if (!reply)
		return;
	if (reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "BUSYGROUP", 9) != 0)
		log_error("claim.group_failed", "stream=%s err=\"%.200s\"", c->k->jobs, reply->str);
	else if (reply->type != REDIS_REPLY_ERROR)
		log_info("claim.group_created", "stream=%s group=%s", c->k->jobs, REDIS_KEYS_GROUP);
}

static int create_group(struct claim *c)
{
	const char *argv[] = { "XGROUP", "CREATE", c->k->jobs, REDIS_KEYS_GROUP, "0", "MKSTREAM" };
	size_t lens[6];

	for (int i = 0; i < 6; i++)
		lens[i] = strlen(argv[i]);
	return rconn_argv(c->rc, on_group, c, 6, argv, lens);
}

/* One entry of a stream reply: [id, [field, value, ...]] (fields nil when deleted). */
static int handle_entry(struct claim *c, const redisReply *e)
{
	struct claim_entry ce = { 0 };
	const redisReply *id, *fields;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
		return -EBADMSG;
	id = e->element[0];
	fields = e->element[1];
	if (id->type != REDIS_REPLY_STRING || id->len == 0 || id->len > CLAIM_ENTRY_ID_MAX)
		return -EBADMSG;
	ce.entry_id = id->str;
	if (claim_entry_ms(id->str, &ce.queued_ms) < 0)
		return -EBADMSG;
	if (fields->type == REDIS_REPLY_NIL) {
		ce.deleted = true;
	} else if (fields->type != REDIS_REPLY_ARRAY || fields->elements % 2) {
		return -EBADMSG;
	} else {
		for (size_t i = 0; i + 1 < fields->elements; i += 2) {
			const redisReply *f = fields->element[i], *v = fields->element[i + 1];

			if (f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
			    f->len == 3 && memcmp(f->str, "job", 3) == 0) {
				ce.job = (const uint8_t *)v->str;
				ce.job_len = v->len;
				break;
			}
		}
	}
	(void)c->hooks.entry(&ce, c->ud);
	return 0;
}

/* Reply of XREADGROUP: nil (timeout) or [[stream, [entry, ...]]]. Returns entries seen. */
static int handle_read(struct claim *c, const redisReply *reply)
{
	const redisReply *entries;
	int n = 0;

	if (reply->type == REDIS_REPLY_NIL)
		return 0;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1)
		return -EBADMSG;
	reply = reply->element[0];
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2)
		return -EBADMSG;
	entries = reply->element[1];
	if (entries->type != REDIS_REPLY_ARRAY)
		return -EBADMSG;
	for (size_t i = 0; i < entries->elements; i++) {
		int r = handle_entry(c, entries->element[i]);

		if (r < 0)
			return r;
		n++;
	}
	return n;
}

static void on_read(struct rconn *rc, struct redisReply *reply, void *priv)
{
	struct claim *c = priv;
	int n;

	(void)rc;
	c->in_flight = false;
	if (!reply)
		return;		/* connection lost: claim_on_up() starts over */
	if (reply->type == REDIS_REPLY_ERROR) {
		if (strncmp(reply->str, "NOGROUP", 7) == 0) {
			log_warn("claim.nogroup", "stream=%s", c->k->jobs);
			(void)create_group(c);
		} else {
			log_error("claim.read_failed", "stream=%s err=\"%.200s\"", c->k->jobs,
				  reply->str);
		}
		retry_later(c);
		return;
	}
	n = handle_read(c, reply);
	if (n < 0) {
		log_error("claim.bad_reply", "stream=%s", c->k->jobs);
		retry_later(c);
		return;
	}
	claim_kick(c);
}

void claim_kick(struct claim *c)
{
	char count[16], block[16];
	const char *argv[12];
	size_t lens[12];
	unsigned slots;
	int n = 0, r;

	if (c->stopped || c->in_flight || !rconn_is_up(c->rc))
		return;
	slots = c->hooks.free_slots(c->ud);
	if (slots == 0)
		return;
	ev_timer_stop(c->loop, &c->retry);
	snprintf(count, sizeof(count), "%u", slots);
	snprintf(block, sizeof(block), "%u", CLAIM_BLOCK_MS);
	argv[n++] = "XREADGROUP";
	argv[n++] = "GROUP";
	argv[n++] = REDIS_KEYS_GROUP;
	argv[n++] = c->consumer;
	argv[n++] = "COUNT";
	argv[n++] = count;
	argv[n++] = "BLOCK";
	argv[n++] = block;
	argv[n++] = "STREAMS";
	argv[n++] = c->k->jobs;
	argv[n++] = ">";
	for (int i = 0; i < n; i++)
		lens[i] = strlen(argv[i]);
	r = rconn_argv(c->rc, on_read, c, n, argv, lens);
	if (r < 0) {
		log_warn("claim.send_failed", "err=%s", errno_name(r));
		retry_later(c);
		return;
	}
	c->in_flight = true;
}

void claim_on_up(struct claim *c)
{
	if (c->stopped)
		return;
	c->in_flight = false;
	if (create_group(c) < 0)
		retry_later(c);
	claim_kick(c);
}

void claim_stop(struct claim *c)
{
	c->stopped = true;
	c->rc = NULL;	/* the caller may close the blocking connection now */
	ev_timer_stop(c->loop, &c->retry);
}

int claim_new(struct ev_loop *loop, struct rconn *blocking, const struct redis_keys *k,
	      const char *consumer, const struct claim_hooks *hooks, void *ud, struct claim **ret)
{
	struct claim *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->rc = blocking;
	c->k = k;
	snprintf(c->consumer, sizeof(c->consumer), "%s", consumer);
	c->hooks = *hooks;
	c->ud = ud;
	ev_timer_init(&c->retry, on_retry, 0., 0.);
	c->retry.data = c;
	*ret = c;
	return 0;
}

struct claim *claim_free(struct claim *c)
{
	if (!c)
		return NULL;
	ev_timer_stop(c->loop, &c->retry);
	free(c);
	return NULL;
}
