/*
 * redis_conn: the only owner of redisAsyncContext lifetimes. It connects, attaches to libev,
 * reconnects with backoff, and drops connections whose replies stall. It must never free a
 * context from inside a hiredis callback (hiredis 0.14 frees it itself after a failed connect or
 * a disconnect) and never hand out a context to callers.
 */
#define LOG_MOD "redis"
#include "redis_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <hiredis/adapters/libev.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "log.h"
#include "util.h"

enum rconn_state { RC_DOWN, RC_CONNECTING, RC_UP };

struct rconn {
	struct ev_loop *loop;
	struct redis_addr addr;
	char name[32];
	struct rconn_hooks hooks;
	void *ud;
	redisAsyncContext *ac;
	enum rconn_state state;
	unsigned backoff_ms;
	unsigned reply_timeout_ms;
	unsigned outstanding;		/* requests sent, reply not yet seen */
	uint64_t last_progress_ms;	/* last reply, or send when none was outstanding */
	uint64_t connect_started_ms;
	bool closing;
	bool reset_pending;
	unsigned failures;		/* consecutive failed connects, for quieter logs */
	ev_timer retry;			/* reconnect after backoff */
	ev_timer watchdog;		/* 1 s tick: stalled replies and hung connects */
	ev_timer reset;			/* deferred rconn_reset() */
	rconn_message_fn *sub_fn;	/* subscribe mode */
	void *sub_priv;
};

struct rconn_req {
	struct rconn *rc;
	rconn_reply_fn *fn;
	void *priv;
};

static void rconn_connect(struct rconn *rc);

static void schedule_retry(struct rconn *rc)
{
	if (rc->closing)
		return;
	ev_timer_stop(rc->loop, &rc->retry);
	ev_timer_set(&rc->retry, rc->backoff_ms / 1000.0, 0.);
	ev_timer_start(rc->loop, &rc->retry);
	rc->backoff_ms = rc->backoff_ms * 2 > RCONN_BACKOFF_MAX_MS ? RCONN_BACKOFF_MAX_MS
								   : rc->backoff_ms * 2;
}

static void on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	rconn_connect(w->data);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct rconn *rc = ac->data;

	if (!rc)
		return;
	if (status != REDIS_OK) {
		/* hiredis frees the context after this callback returns */
		if (rc->failures++ == 0 || rc->failures % 20 == 0)
			log_warn("redis.connect_failed", "conn=%s err=\"%s\" attempts=%u", rc->name,
				 ac->errstr, rc->failures);
		rc->ac = NULL;
		rc->state = RC_DOWN;
		schedule_retry(rc);
		return;
	}
	rc->state = RC_UP;
	rc->backoff_ms = RCONN_BACKOFF_MIN_MS;
	rc->outstanding = 0;
	rc->last_progress_ms = time_mono_ms();
	log_info("redis.up", "conn=%s after_failures=%u", rc->name, rc->failures);
	rc->failures = 0;
	if (rc->hooks.up)
		rc->hooks.up(rc, rc->ud);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct rconn *rc = ac->data;
	bool was_up;

	if (!rc)
		return;
	was_up = rc->state == RC_UP;
	rc->ac = NULL;
	rc->state = RC_DOWN;
	rc->outstanding = 0;
	if (rc->closing)
		return;
	if (status != REDIS_OK)
		log_warn("redis.down", "conn=%s err=\"%s\"", rc->name, ac->errstr);
	else
		log_info("redis.down", "conn=%s", rc->name);
	schedule_retry(rc);
	if (was_up && rc->hooks.down)
		rc->hooks.down(rc, rc->ud);
}

static void rconn_connect(struct rconn *rc)
{
	redisAsyncContext *ac;

	if (rc->closing || rc->ac)
		return;
	if (rc->addr.is_unix)
		ac = redisAsyncConnectUnix(rc->addr.path);
	else
		ac = redisAsyncConnect(rc->addr.host, rc->addr.port);
	if (!ac || ac->err) {
		if (rc->failures++ == 0 || rc->failures % 20 == 0)
			log_warn("redis.connect_failed", "conn=%s err=\"%s\" attempts=%u", rc->name,
				 ac ? ac->errstr : "out of memory", rc->failures);
		if (ac)
			redisAsyncFree(ac);
		schedule_retry(rc);
		return;
	}
	/* hiredis 0.14 opens sockets without CLOEXEC: QEMU must not inherit a Redis connection. */
	(void)fcntl(ac->c.fd, F_SETFD, FD_CLOEXEC);
	ac->data = rc;
	if (redisLibevAttach(rc->loop, ac) != REDIS_OK) {
		redisAsyncFree(ac);
		schedule_retry(rc);
		return;
	}
	rc->ac = ac;
	rc->state = RC_CONNECTING;
	rc->connect_started_ms = time_mono_ms();
	/* must come after attach: it arms the write event that detects the connection */
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
}

/* Frees the context from outside any hiredis callback; reconnects after backoff. */
static void force_drop(struct rconn *rc, const char *why)
{
	redisAsyncContext *ac = rc->ac;

	if (!ac)
		return;
	log_warn("redis.drop", "conn=%s why=%s", rc->name, why);
	redisAsyncFree(ac);	/* runs pending callbacks with NULL, then on_disconnect if it was up */
	if (rc->ac == ac) {	/* was still connecting: no disconnect callback */
		rc->ac = NULL;
		rc->state = RC_DOWN;
		schedule_retry(rc);
	}
}

static void on_watchdog(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct rconn *rc = w->data;
	uint64_t now = time_mono_ms();

	(void)loop;
	(void)revents;
	if (rc->state == RC_CONNECTING && now - rc->connect_started_ms > rc->reply_timeout_ms)
		force_drop(rc, "connect_timeout");
	else if (rc->state == RC_UP && rc->outstanding > 0 &&
		 now - rc->last_progress_ms > rc->reply_timeout_ms)
		force_drop(rc, "reply_timeout");
}

static void on_reset(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct rconn *rc = w->data;

	(void)loop;
	(void)revents;
	rc->reset_pending = false;
	force_drop(rc, "reset");
}

int rconn_new(struct ev_loop *loop, const struct redis_addr *addr, const char *name,
	      unsigned reply_timeout_ms, const struct rconn_hooks *hooks, void *ud,
	      struct rconn **ret)
{
	struct rconn *rc = calloc(1, sizeof(*rc));

	if (!rc)
		return -ENOMEM;
	rc->loop = loop;
	rc->addr = *addr;
	snprintf(rc->name, sizeof(rc->name), "%s", name);
	if (hooks)
		rc->hooks = *hooks;
	rc->ud = ud;
	rc->backoff_ms = RCONN_BACKOFF_MIN_MS;
	rc->reply_timeout_ms = reply_timeout_ms;
	ev_timer_init(&rc->retry, on_retry, 0., 0.);
	rc->retry.data = rc;
	ev_timer_init(&rc->watchdog, on_watchdog, 1., 1.);
	rc->watchdog.data = rc;
	ev_timer_start(loop, &rc->watchdog);
	ev_timer_init(&rc->reset, on_reset, 0., 0.);
	rc->reset.data = rc;
	*ret = rc;
	rconn_connect(rc);
	return 0;
}

struct rconn *rconn_free(struct rconn *rc)
{
	if (!rc)
		return NULL;
	rc->closing = true;
	rc->state = RC_DOWN;	/* callbacks that run with NULL below must not send again */
	ev_timer_stop(rc->loop, &rc->retry);
	ev_timer_stop(rc->loop, &rc->watchdog);
	ev_timer_stop(rc->loop, &rc->reset);
	if (rc->ac) {
		redisAsyncContext *ac = rc->ac;

		redisAsyncFree(ac);
		rc->ac = NULL;
	}
	free(rc);
	return NULL;
}

bool rconn_is_up(const struct rconn *rc)
{
	return rc && rc->state == RC_UP && !rc->reset_pending;
}

const char *rconn_name(const struct rconn *rc)
{
	return rc->name;
}

static void on_reply(redisAsyncContext *ac, void *r, void *privdata)
{
	struct rconn_req *req = privdata;
	struct rconn *rc = req->rc;

	(void)ac;
	if (r && rc->outstanding > 0) {
		rc->outstanding--;
		rc->last_progress_ms = time_mono_ms();
	}
	if (req->fn)
		req->fn(rc, r, req->priv);
	free(req);
}

int rconn_argv(struct rconn *rc, rconn_reply_fn *fn, void *priv, int argc, const char **argv,
	       const size_t *lens)
{
	struct rconn_req *req;

	if (!rconn_is_up(rc) || !rc->ac)
		return -ENOTCONN;
	if (argc <= 0 || argc > RCONN_ARGC_MAX)
		return -E2BIG;
	req = malloc(sizeof(*req));
	if (!req)
		return -ENOMEM;
	req->rc = rc;
	req->fn = fn;
	req->priv = priv;
	if (redisAsyncCommandArgv(rc->ac, on_reply, req, argc, argv, lens) != REDIS_OK) {
		free(req);
		return -EIO;
	}
	if (rc->outstanding++ == 0)
		rc->last_progress_ms = time_mono_ms();
	return 0;
}

/* hiredis keeps this callback for the channel and calls it for every message (and with NULL when
 * the connection goes): privdata is the rconn itself, never freed per call. */
static void on_message(redisAsyncContext *ac, void *r, void *privdata)
{
	struct rconn *rc = privdata;
	redisReply *reply = r;

	(void)ac;
	if (!reply || rc->closing || !rc->sub_fn || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 3 || reply->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(reply->element[0]->str, "message") != 0 ||
	    reply->element[2]->type != REDIS_REPLY_STRING)
		return;
	rc->sub_fn(rc, reply->element[2]->str, reply->element[2]->len, rc->sub_priv);
}

int rconn_subscribe(struct rconn *rc, const char *channel, rconn_message_fn *fn, void *priv)
{
	const char *argv[] = { "SUBSCRIBE", channel };
	size_t lens[] = { 9, strlen(channel) };

	if (!rconn_is_up(rc) || !rc->ac)
		return -ENOTCONN;
	rc->sub_fn = fn;
	rc->sub_priv = priv;
	if (redisAsyncCommandArgv(rc->ac, on_message, rc, 2, argv, lens) != REDIS_OK)
		return -EIO;
	return 0;
}

void rconn_reset(struct rconn *rc)
{
	if (!rc || rc->reset_pending || !rc->ac)
		return;
	rc->reset_pending = true;
	ev_timer_start(rc->loop, &rc->reset);
}
