/*
 * redis_keys: the names of the Redis keys and channels of one queue, shared by corrald and the
 * corral CLI (schemas/redis-layout.md). Every key of a queue carries the hash tag `{<queue>}` so
 * the scripts work on Redis Cluster: `<prefix>{<queue>}:jobs`, `:dead`, `:out:<job>` (stream and
 * channel), `:result:<job>`. Formatting only: no I/O.
 */
#ifndef CORRAL_REDIS_KEYS_H
#define CORRAL_REDIS_KEYS_H

#include <stddef.h>

#include "errmsg.h"

#define REDIS_KEYS_PREFIX_MAX 64
#define REDIS_KEYS_QUEUE_MAX 64
#define REDIS_KEYS_NAME_MAX 256	/* longest name: prefix + {queue} + ":result:" + job id (≤ 64) */
#define REDIS_KEYS_DEFAULT_PREFIX "corral:"
#define REDIS_KEYS_DEFAULT_QUEUE "q"
#define REDIS_KEYS_GROUP "workers"

struct redis_keys {
	char jobs[REDIS_KEYS_NAME_MAX];
	char dead[REDIS_KEYS_NAME_MAX];
	char base[REDIS_KEYS_PREFIX_MAX + REDIS_KEYS_QUEUE_MAX + 4];	/* "<prefix>{<queue>}:" */
};

/* Builds the fixed names. prefix: ≤ REDIS_KEYS_PREFIX_MAX printable characters, no spaces or
 * braces (may be empty); queue: 1..REDIS_KEYS_QUEUE_MAX of [A-Za-z0-9._-]. 0 or -EINVAL with
 * reterr naming the bad part. */
int redis_keys_init(struct redis_keys *k, const char *prefix, const char *queue,
		    struct errmsg *reterr);
/* `<base>out:<job>` and `<base>result:<job>` into out. job: a valid job id (≤ 64 bytes). */
void redis_keys_out(const struct redis_keys *k, const char *job, char out[REDIS_KEYS_NAME_MAX]);
void redis_keys_result(const struct redis_keys *k, const char *job,
		       char out[REDIS_KEYS_NAME_MAX]);

#endif
