/*
 * registry: the worker registry and consumer hygiene. Each worker keeps a hash
 * `<base>worker:<id>` (id, host, version, capacity, running, pool, accel, lease_s, started_ms,
 * seen_ms,
 * templates, budget) alive with a TTL of three publish periods and its id in the sorted set `<base>workers` (score:
 * last seen, ms), which `corral workers` reads. A script deletes consumers of the group that
 * have been idle for prune_ms with nothing pending (deleting one with pending entries would make
 * them unclaimable). Fire and forget: a missed publish only shortens the record's life.
 */
#ifndef CORRALD_REGISTRY_H
#define CORRALD_REGISTRY_H

#include <stdint.h>

#include "redis_keys.h"
#include "redis_conn.h"

struct registry_record {
	const char *id;
	const char *host;
	const char *version;
	unsigned capacity;
	unsigned running;
	const char *pool;		/* wpool_state(), "draining " before it once draining */
	const char *templates;		/* wpool_templates(): "default@0,python@3" */
	const char *budget;		/* wpool_budget_state(): "mem=512/18000 cpu=2/8" */
	const char *accel;		/* "kvm" | "tcg" */
	unsigned lease_s;
	uint64_t started_ms;
	uint64_t seen_ms;
	unsigned ttl_ms;
};

void registry_scripts_load(struct rconn *rc);
int registry_publish(struct rconn *rc, const struct redis_keys *k, const struct registry_record *r);
/* Deletes consumers other than `me` idle ≥ prune_ms with nothing pending. */
int registry_prune(struct rconn *rc, const struct redis_keys *k, const char *me, uint64_t prune_ms);

#endif
