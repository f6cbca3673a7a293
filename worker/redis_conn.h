/*
 * redis_conn: one asynchronous Redis connection (hiredis on the libev loop) that reconnects by
 * itself, with exponential backoff from an ev_timer, and watches for replies that never come
 * (hiredis 0.14 has no command timeouts). Users hear about it through up()/down() hooks and
 * re-create their state (scripts, group, pending reads) in up(). It knows no Redis keys.
 *
 * A reply callback runs exactly once: with the reply, or with NULL when the connection went away
 * before the reply came ("outcome unknown": the caller must retry idempotently).
 */
#ifndef CORRALD_REDIS_CONN_H
#define CORRALD_REDIS_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "redis_addr.h"

struct ev_loop;
struct redisReply;
struct rconn;

#define RCONN_BACKOFF_MIN_MS 100u
#define RCONN_BACKOFF_MAX_MS 5000u
#define RCONN_ARGC_MAX 64

typedef void rconn_reply_fn(struct rconn *rc, struct redisReply *reply, void *priv);

struct rconn_hooks {
	void (*up)(struct rconn *rc, void *ud);		/* connected (first time or again) */
	void (*down)(struct rconn *rc, void *ud);	/* lost; pending callbacks already ran */
};

/* name: for logs ("blocking", "commands"). reply_timeout_ms: a connection with a request
 * outstanding and no reply for this long is dropped and re-established. Starts connecting at
 * once. 0 or -ENOMEM. */
int rconn_new(struct ev_loop *loop, const struct redis_addr *addr, const char *name,
	      unsigned reply_timeout_ms, const struct rconn_hooks *hooks, void *ud,
	      struct rconn **ret);
/* Closes the connection; pending callbacks run with NULL, hooks do not. NULL-safe. Must not be
 * called from inside a reply callback of the same connection. Returns NULL. */
struct rconn *rconn_free(struct rconn *rc);
bool rconn_is_up(const struct rconn *rc);
/* Sends a command (binary-safe arguments). fn may be NULL (reply ignored). 0, -ENOTCONN when the
 * connection is not up (fn is not called), -E2BIG over RCONN_ARGC_MAX, -EIO. */
int rconn_argv(struct rconn *rc, rconn_reply_fn *fn, void *priv, int argc, const char **argv,
	       const size_t *lens);
/* Puts the connection in subscribe mode on one channel: fn(msg) for each message published on
 * it. Call from the up() hook (a reconnect needs a new SUBSCRIBE). Only for a connection used for
 * nothing else. 0 or negative errno. */
typedef void rconn_message_fn(struct rconn *rc, const char *msg, size_t len, void *priv);
int rconn_subscribe(struct rconn *rc, const char *channel, rconn_message_fn *fn, void *priv);
/* Drops the connection soon (from the loop, never inside a hiredis callback) and reconnects. */
void rconn_reset(struct rconn *rc);
const char *rconn_name(const struct rconn *rc);

#endif
