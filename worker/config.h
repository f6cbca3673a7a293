/*
 * config: corrald's command line, environment and --config INI file (config_file.c), parsed into
 * one struct. It reads argv, the environment and that one file, never sockets or other files
 * (a credential given as @/path is read by repo.c when it is used), so it is unit-tested.
 * Precedence: defaults < environment < the file < flags.
 */
#ifndef CORRALD_CONFIG_H
#define CORRALD_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "egress_cfg.h"
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
#define CONFIG_SERVE_IMAGES_MAX 16	/* --image NAMEs (images with a warm pool) */
#define CONFIG_IMAGE_NAME_MAX 32	/* [a-z0-9_-]{1,32} (= WIRE_IMAGE_MAX) */
#define CONFIG_SERVE_TEMPLATES_MAX 16	/* --template NAMEs (templates with a warm pool) */
#define CONFIG_TEMPLATE_NAME_MAX 64	/* [A-Za-z0-9._-]{1,64} (= WIRE_TEMPLATE_MAX) */
#define CONFIG_MEM_BUDGET_MAX_MIB (64u << 20)	/* = BUDGET_MEM_MAX_MIB */
#define CONFIG_CPU_BUDGET_MAX 65536u		/* = BUDGET_CPU_MAX */
/* repo jobs (worker/repo.h) */
#define CONFIG_REPO_ALLOW_MAX 64	/* --repo-allow patterns */
#define CONFIG_REPO_PATTERN_MAX 2048	/* bytes of one pattern (= WIRE_URL_MAX) */
#define CONFIG_REPO_CREDS_MAX 64	/* --repo-cred entries */
#define CONFIG_REPO_CRED_MAX 4096	/* bytes of one HOST=USER:SECRET / HOST=@FILE */
#define CONFIG_REPO_HOST_MAX 255
#define CONFIG_REPO_CACHE_MAX_DEFAULT (2ull << 30)	/* 2 GiB */
#define CONFIG_REPO_CACHE_MAX_LIMIT (1ull << 40)
#define CONFIG_REPO_MAX_BYTES_DEFAULT (64ull << 20)	/* 64 MiB of checkout */
#define CONFIG_REPO_MAX_BYTES_LIMIT (1ull << 30)
#define CONFIG_REPO_MAX_FILES_DEFAULT 20000u
#define CONFIG_REPO_MAX_FILE_DEFAULT (32ull << 20)
#define CONFIG_REPO_TIMEOUT_DEFAULT_S 120u
#define CONFIG_REPO_TIMEOUT_MAX_S 3600u

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
	/* --image NAME (repeatable): images that get a warm pool, in order; default just "base".
	 * Other images present in the images dir are cold-booted (wpool.c). */
	char serve_images[CONFIG_SERVE_IMAGES_MAX][CONFIG_IMAGE_NAME_MAX + 1];
	unsigned nserve_images;
	/* --template NAME (repeatable): templates (Redis <prefix>templates, or the built-in
	 * `default`) that get a warm pool; default just "default" unless --image is given. An
	 * --image X without a --template X serves a template X = image X with defaults. */
	char serve_templates[CONFIG_SERVE_TEMPLATES_MAX][CONFIG_TEMPLATE_NAME_MAX + 1];
	unsigned nserve_templates;
	unsigned mem_budget_mib;	/* --mem-budget, 0 = 75 % of MemTotal (wpool.c) */
	unsigned cpu_budget;		/* --cpu-budget vCPUs, 0 = 4 × CPUs */
	char config_file[CONFIG_PATH_MAX];	/* --config, "" = none */
	/* repo jobs: filled into struct repo_policy by main.c */
	char **repo_allow;		/* owned, nrepo_allow fnmatch(3) patterns over the URL */
	size_t nrepo_allow;
	char **repo_creds;		/* owned, "HOST=USER:SECRET" | "HOST=@/file"; secrets */
	size_t nrepo_creds;
	char repo_cache[CONFIG_PATH_MAX];	/* default <run_dir>/repos */
	unsigned long long repo_cache_max;	/* bytes */
	unsigned long long repo_max_bytes;	/* checkout bytes */
	unsigned repo_timeout_s;
	struct egress_cfg egress;	/* --egress-* (egress_cfg.h; zeros = defaults) */
	/* internal to config.c */
	bool redis_set;
	bool allow_from_flags;
	bool images_from_flags;
	bool templates_from_flags;
	bool images_given;
};

#define CONFIG_HELP 1
#define CONFIG_VERSION 2

/* Parses argv over the defaults (environment: CORRAL_REDIS, CORRAL_IMAGES, CORRAL_RUN_DIR,
 * CORRAL_LOG_LEVEL; hostname; number of CPUs) and the --config file. Returns 0, CONFIG_HELP,
 * CONFIG_VERSION, or -errno with reterr naming the flag (or file line) and what is wrong, never
 * a credential. cfg owns allocated lists afterwards, also on failure: call config_free().
 *
 * The file's keys are the long flag names (`repo-allow = git://10.0.0.5:*`, `no-pool = true`),
 * before any section or under [corrald]; `[credentials]` holds `host = user:secret` or
 * `host = @/path` (= --repo-cred host=...). A flag given on the command line overrides the
 * file: a scalar replaces it, --repo-allow replaces the file's whole list, --repo-cred replaces
 * the file's entry for that host. Inline secrets in a file readable by others are refused. */
int config_parse(int argc, char **argv, struct config *cfg, struct errmsg *reterr);
/* Frees the lists (credentials wiped first). cfg may be parsed again afterwards. */
void config_free(struct config *cfg);
/* The host part of a --repo-cred entry, for logs (never the secret): copies up to n - 1 bytes. */
void config_cred_host(const char *cred, char *out, size_t n);
void config_usage(FILE *f);

#endif
