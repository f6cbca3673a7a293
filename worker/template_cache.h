/*
 * template_cache: corrald's copy of the template records, the hash `<prefix>templates`
 * (schemas/template.md): loaded with one HGETALL on the commands connection when it comes up,
 * every TCACHE_REFRESH_MS, and when a job names a template the cache has not seen (jobs wait
 * for that load). After each load it tells its owner which names were added, changed (version)
 * or deleted, so served pools can be rebuilt. It never blocks and never decides what a job does
 * with a missing record; jobs get their own decoded copy (tcache_copy), never a borrowed one.
 */
#ifndef CORRALD_TEMPLATE_CACHE_H
#define CORRALD_TEMPLATE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "redis_conn.h"
#include "wire.h"

struct ev_loop;
struct tcache;

#define TCACHE_REFRESH_MS 10000u
#define TCACHE_ENTRIES_MAX 1024		/* records kept; more are ignored (logged) */
#define TCACHE_RECORD_MAX (256u * 1024u)	/* bytes of one encoded record */
#define TCACHE_KEY_MAX 96

struct tcache_hooks {
	/* name was added, its version changed, or it was deleted (t NULL) by the latest load */
	void (*changed)(const char *name, const struct wire_template *t, void *ud);
	/* the first load finished */
	void (*loaded)(void *ud);
};

/* A job waiting for the next load. Embedded in the waiter; cancel before freeing it. */
struct tcache_wait {
	struct tcache_wait *next, **pprev;
	void (*done)(struct tcache_wait *w);
};

int tcache_new(struct ev_loop *loop, struct rconn *cmd, const char *prefix,
	       const struct tcache_hooks *hooks, void *ud, struct tcache **ret);
struct tcache *tcache_free(struct tcache *c);
/* The commands connection is (again) up: load now. */
void tcache_on_up(struct tcache *c);
bool tcache_loaded(const struct tcache *c);
/* The latest load succeeded (false while none did, or after a failed one). */
bool tcache_ok(const struct tcache *c);
/* The record of name, borrowed until the next load returns to the loop; NULL when there is
 * none. *bad (may be NULL) gets the decode error of an invalid record ("" otherwise). */
const struct wire_template *tcache_find(const struct tcache *c, const char *name,
					const char **bad);
/* A caller-owned decoded copy of name's record. 0, -ENOENT (no record; reterr says so when it
 * exists but is invalid: -EINVAL), -ENOMEM. */
int tcache_copy(const struct tcache *c, const char *name, struct wire_template **ret,
		struct errmsg *reterr);
/* Asks for a load now (coalesced with one in flight); w->done(w) runs after the next load that
 * starts after this call finished or failed (tcache_ok() says which), possibly before
 * tcache_wait() returns when the request cannot be sent. */
void tcache_wait(struct tcache *c, struct tcache_wait *w);
void tcache_wait_cancel(struct tcache_wait *w);

#endif
