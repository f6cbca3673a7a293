/*
 * config: corrald's command line and environment, parsed into one struct. Pure: it reads argv and
 * the environment it is given access to, never files or sockets, so it is unit-tested.
 */
#ifndef CORRALD_CONFIG_H
#define CORRALD_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "errmsg.h"
#include "log.h"
#include "redis_addr.h"

#define CONFIG_PATH_MAX 4096
#define CONFIG_ID_MAX 64		/* consumer name: [A-Za-z0-9._-], = WIRE_WORKER_MAX */
#define CONFIG_CONCURRENCY_MAX 256
#define CONFIG_RESULT_TTL_DEFAULT 86400u	/* 1 day */
#define CONFIG_RESULT_TTL_MAX (90u * 86400u)
#define CONFIG_DRAIN_DEFAULT_S 30u
#define CONFIG_DRAIN_MAX_S 86400u
#define CONFIG_LEASE_DEFAULT_S 30u
#define CONFIG_LEASE_MAX_S 3600u
#define CONFIG_PRUNE_DEFAULT_S 3600u
#define CONFIG_PRUNE_MAX_S (30u * 86400u)
#define CONFIG_POOL_MAX 256u		/* = VM_POOL_MAX (vm.h), checked in wpool.c */
#define CONFIG_POOL_MIN_DEFAULT 1u
#define CONFIG_POOL_MAX_DEFAULT 4u
#define CONFIG_POOL_IDLE_MAX_MS 86400000u	/* 0: vm_pool's default (30 s) */
#define CONFIG_POOL_WARMUP_MAX 1023	/* bytes of --pool-warmup's shell command */
#define CONFIG_METRICS_PORT_MAX 65535u

struct config {
	struct redis_addr redis;
	char redis_text[REDIS_ADDR_MAX];	/* as given, for logs */
	char images[CONFIG_PATH_MAX];
	char run_dir[CONFIG_PATH_MAX];
	char id[CONFIG_ID_MAX + 1];
	unsigned concurrency;
	char accel[8];			/* auto | kvm | tcg */
	char jail[8];			/* auto | on | off: QEMU under corral-jail (main.c) */
	char prefix[65];
	char queue[65];
	unsigned result_ttl_s;
	unsigned drain_s;
	unsigned lease_s;		/* a claimed entry's lease, renewed every lease_s / 3 */
	unsigned prune_s;		/* consumers idle this long with nothing pending are deleted */
	enum log_level log_level;
	/* warm VM pool (wpool.c) */
	unsigned pool_min, pool_max;	/* min <= max, max >= 1 */
	unsigned pool_idle_ms;
	bool pool_off;			/* --no-pool: cold boots only */
	bool pool_warmup_set;		/* unset: `python3 -c pass`; "" = no warm-up */
	char pool_warmup[CONFIG_POOL_WARMUP_MAX + 1];
	unsigned metrics_port;		/* Prometheus text on 127.0.0.1; 0 = off */
};

#define CONFIG_HELP 1
#define CONFIG_VERSION 2

/* Parses argv over the defaults (environment: CORRAL_REDIS, CORRAL_IMAGES, CORRAL_RUN_DIR,
 * CORRAL_LOG_LEVEL; hostname; number of CPUs). Returns 0, CONFIG_HELP, CONFIG_VERSION, or
 * -EINVAL with reterr naming the flag and what is wrong. */
int config_parse(int argc, char **argv, struct config *cfg, struct errmsg *reterr);
void config_usage(FILE *f);

#endif
