/*
 * config: corrald's flags with getopt_long, over defaults from the environment. It validates every
 * value (ranges, lengths, characters) and reports the first bad flag in one line. It must not
 * open files or sockets: whether the images exist is vm/host's to say.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redis_keys.h"

#ifndef CORRAL_DEFAULT_IMAGES
#define CORRAL_DEFAULT_IMAGES "/var/lib/corral/images"
#endif
#ifndef CORRAL_DEFAULT_RUN_DIR
#define CORRAL_DEFAULT_RUN_DIR "/run/corral"
#endif
#ifndef CORRAL_VERSION
#define CORRAL_VERSION "0"
#endif

enum { OPT_PREFIX = 256, OPT_QUEUE, OPT_RESULT_TTL, OPT_LOG_LEVEL, OPT_DRAIN, OPT_ACCEL, OPT_LEASE,
       OPT_PRUNE };

enum { OPT_JAIL = 400, OPT_POOL_MIN, OPT_POOL_MAX, OPT_POOL_WARMUP, OPT_POOL_IDLE, OPT_NO_POOL,
       OPT_METRICS_PORT };

static const struct option options[] = {
	{ "jail", required_argument, NULL, OPT_JAIL },
	{ "redis", required_argument, NULL, 'r' },
	{ "images", required_argument, NULL, 'i' },
	{ "run-dir", required_argument, NULL, 'd' },
	{ "id", required_argument, NULL, 'n' },
	{ "concurrency", required_argument, NULL, 'c' },
	{ "accel", required_argument, NULL, OPT_ACCEL },
	{ "prefix", required_argument, NULL, OPT_PREFIX },
	{ "queue", required_argument, NULL, OPT_QUEUE },
	{ "result-ttl", required_argument, NULL, OPT_RESULT_TTL },
	{ "drain-timeout", required_argument, NULL, OPT_DRAIN },
	{ "lease", required_argument, NULL, OPT_LEASE },
	{ "prune-idle", required_argument, NULL, OPT_PRUNE },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "pool-min", required_argument, NULL, OPT_POOL_MIN },
	{ "pool-max", required_argument, NULL, OPT_POOL_MAX },
	{ "pool-warmup", required_argument, NULL, OPT_POOL_WARMUP },
	{ "pool-idle-ms", required_argument, NULL, OPT_POOL_IDLE },
	{ "no-pool", no_argument, NULL, OPT_NO_POOL },
	{ "metrics-port", required_argument, NULL, OPT_METRICS_PORT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

void config_usage(FILE *f)
{
	fprintf(f,
		"Usage: corrald [OPTIONS]\n"
		"Claims jobs from Redis and runs each in a fresh microVM.\n\n"
		"  --redis ADDR          redis://host:port or unix:///path ($CORRAL_REDIS; default %s)\n"
		"  --images DIR          guest artefacts ($CORRAL_IMAGES; default %s)\n"
		"  --run-dir DIR         per-VM sockets and scratch ($CORRAL_RUN_DIR; default %s)\n"
		"  --id NAME             consumer name in the group (default: hostname)\n"
		"  --concurrency N       jobs at once, 1..%d (default: number of CPUs)\n"
		"  --accel auto|kvm|tcg  accelerator (default auto: probe KVM, fall back to TCG)\n"
		"  --jail auto|on|off    run QEMU under corral-jail (auto: on when root and\n"
		"                        corral-jail is next to corrald)\n"
		"  --prefix P            key prefix (default %s)\n"
		"  --queue Q             queue name, the hash tag of its keys (default %s)\n"
		"  --result-ttl S        seconds results and output are kept (default %u)\n"
		"  --drain-timeout S     on SIGTERM, seconds running jobs get to finish (default %u)\n"
		"  --lease S             lease of a claimed job, renewed while it runs; a dead\n"
		"                        worker's jobs are taken over after it (default %u)\n"
		"  --prune-idle S        delete consumers idle this long with nothing pending\n"
		"                        (default %u)\n"
		"  --log-level L         debug|info|warn|error ($CORRAL_LOG_LEVEL; default info)\n"
		"  --pool-min N          warm VMs kept ready, 0..%u (default %u)\n"
		"  --pool-max N          most warm VMs, 1..%u (default %u)\n"
		"  --pool-warmup CMD     shell command run in the pool's template VM before it\n"
		"                        is snapshotted (\"\" = none; default: python3 -c pass)\n"
		"  --pool-idle-ms N      a ready VM idle this long shrinks the pool toward min\n"
		"                        (0 = 30000, the default)\n"
		"  --no-pool             no warm pool: every job boots a VM cold\n"
		"  --metrics-port N      Prometheus metrics on 127.0.0.1:N (default 0 = off)\n"
		"  --help, --version\n",
		CORRAL_DEFAULT_REDIS, CORRAL_DEFAULT_IMAGES, CORRAL_DEFAULT_RUN_DIR,
		CONFIG_CONCURRENCY_MAX, REDIS_KEYS_DEFAULT_PREFIX, REDIS_KEYS_DEFAULT_QUEUE,
		CONFIG_RESULT_TTL_DEFAULT, CONFIG_DRAIN_DEFAULT_S, CONFIG_LEASE_DEFAULT_S,
		CONFIG_PRUNE_DEFAULT_S, CONFIG_POOL_MAX, CONFIG_POOL_MIN_DEFAULT, CONFIG_POOL_MAX,
		CONFIG_POOL_MAX_DEFAULT);
}

static int parse_uint(const char *flag, const char *s, unsigned long min, unsigned long max,
		      unsigned *out, struct errmsg *reterr)
{
	unsigned long v;
	char *end;

	errno = 0;
	if (!*s || *s == '-' || *s == '+')
		goto bad;
	v = strtoul(s, &end, 10);
	if (errno || *end)
		goto bad;
	if (v < min || v > max)
		return errmsg_set(reterr, -EINVAL, "--%s: %lu is out of range %lu..%lu", flag, v,
				  min, max);
	*out = (unsigned)v;
	return 0;
bad:
	return errmsg_set(reterr, -EINVAL, "--%s: '%.32s' is not a whole number", flag, s);
}

static int copy_str(const char *flag, const char *s, char *out, size_t size,
		    struct errmsg *reterr)
{
	size_t n = strlen(s);

	if (n == 0)
		return errmsg_set(reterr, -EINVAL, "--%s: empty", flag);
	if (n >= size)
		return errmsg_set(reterr, -EINVAL, "--%s: longer than %zu bytes", flag, size - 1);
	memcpy(out, s, n + 1);
	return 0;
}

static int id_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static int id_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!id_char_ok(*s))
			return 0;
	return 1;
}

static int parse_level(const char *s, enum log_level *out)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };

	for (int i = 0; i <= LOG_ERROR; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -EINVAL;
}

static void set_defaults(struct config *cfg)
{
	const char *env;
	long ncpu;

	memset(cfg, 0, sizeof(*cfg));
	env = getenv("CORRAL_IMAGES");
	snprintf(cfg->images, sizeof(cfg->images), "%s", env && *env ? env : CORRAL_DEFAULT_IMAGES);
	env = getenv("CORRAL_RUN_DIR");
	snprintf(cfg->run_dir, sizeof(cfg->run_dir), "%s",
		 env && *env ? env : CORRAL_DEFAULT_RUN_DIR);
	/* A hostname may hold characters a consumer name does not: keep the part before them. */
	if (gethostname(cfg->id, sizeof(cfg->id)) < 0)
		cfg->id[0] = '\0';
	cfg->id[sizeof(cfg->id) - 1] = '\0';
	for (char *p = cfg->id; *p; p++)
		if (!id_char_ok(*p)) {
			*p = '\0';
			break;
		}
	if (!cfg->id[0])
		snprintf(cfg->id, sizeof(cfg->id), "corrald");
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cfg->concurrency = ncpu < 1 ? 1 : ncpu > CONFIG_CONCURRENCY_MAX ? CONFIG_CONCURRENCY_MAX
									 : (unsigned)ncpu;
	snprintf(cfg->accel, sizeof(cfg->accel), "auto");
	snprintf(cfg->jail, sizeof(cfg->jail), "auto");
	snprintf(cfg->prefix, sizeof(cfg->prefix), "%s", REDIS_KEYS_DEFAULT_PREFIX);
	snprintf(cfg->queue, sizeof(cfg->queue), "%s", REDIS_KEYS_DEFAULT_QUEUE);
	cfg->result_ttl_s = CONFIG_RESULT_TTL_DEFAULT;
	cfg->drain_s = CONFIG_DRAIN_DEFAULT_S;
	cfg->lease_s = CONFIG_LEASE_DEFAULT_S;
	cfg->prune_s = CONFIG_PRUNE_DEFAULT_S;
	cfg->log_level = LOG_INFO;
	cfg->pool_min = CONFIG_POOL_MIN_DEFAULT;
	cfg->pool_max = CONFIG_POOL_MAX_DEFAULT;
	env = getenv("CORRAL_LOG_LEVEL");
	if (env)
		(void)parse_level(env, &cfg->log_level);
}

static int parse_one(int opt, const char *arg, struct config *cfg, const char **redis_flag,
		     struct errmsg *reterr)
{
	switch (opt) {
	case 'r':
		*redis_flag = arg;
		return 0;
	case 'i':
		return copy_str("images", arg, cfg->images, sizeof(cfg->images), reterr);
	case 'd':
		return copy_str("run-dir", arg, cfg->run_dir, sizeof(cfg->run_dir), reterr);
	case 'n':
		if (strlen(arg) > CONFIG_ID_MAX || !id_ok(arg))
			return errmsg_set(reterr, -EINVAL,
					  "--id: 1 to %d characters of [A-Za-z0-9._-]", CONFIG_ID_MAX);
		return copy_str("id", arg, cfg->id, sizeof(cfg->id), reterr);
	case 'c':
		return parse_uint("concurrency", arg, 1, CONFIG_CONCURRENCY_MAX, &cfg->concurrency,
				  reterr);
	case OPT_JAIL:
		if (strcmp(arg, "auto") && strcmp(arg, "on") && strcmp(arg, "off"))
			return errmsg_set(reterr, -EINVAL, "--jail: expected auto, on or off");
		return copy_str("jail", arg, cfg->jail, sizeof(cfg->jail), reterr);
	case OPT_ACCEL:
		if (strcmp(arg, "auto") && strcmp(arg, "kvm") && strcmp(arg, "tcg"))
			return errmsg_set(reterr, -EINVAL, "--accel: expected auto, kvm or tcg");
		return copy_str("accel", arg, cfg->accel, sizeof(cfg->accel), reterr);
	case OPT_PREFIX:
		return copy_str("prefix", arg, cfg->prefix, sizeof(cfg->prefix), reterr);
	case OPT_QUEUE:
		return copy_str("queue", arg, cfg->queue, sizeof(cfg->queue), reterr);
	case OPT_RESULT_TTL:
		return parse_uint("result-ttl", arg, 1, CONFIG_RESULT_TTL_MAX, &cfg->result_ttl_s,
				  reterr);
	case OPT_DRAIN:
		return parse_uint("drain-timeout", arg, 0, CONFIG_DRAIN_MAX_S, &cfg->drain_s,
				  reterr);
	case OPT_LEASE:
		return parse_uint("lease", arg, 1, CONFIG_LEASE_MAX_S, &cfg->lease_s, reterr);
	case OPT_PRUNE:
		return parse_uint("prune-idle", arg, 1, CONFIG_PRUNE_MAX_S, &cfg->prune_s, reterr);
	case OPT_LOG_LEVEL:
		if (parse_level(arg, &cfg->log_level) < 0)
			return errmsg_set(reterr, -EINVAL,
					  "--log-level: expected debug, info, warn or error");
		return 0;
	case OPT_POOL_MIN:
		return parse_uint("pool-min", arg, 0, CONFIG_POOL_MAX, &cfg->pool_min, reterr);
	case OPT_POOL_MAX:
		return parse_uint("pool-max", arg, 1, CONFIG_POOL_MAX, &cfg->pool_max, reterr);
	case OPT_POOL_IDLE:
		return parse_uint("pool-idle-ms", arg, 0, CONFIG_POOL_IDLE_MAX_MS, &cfg->pool_idle_ms,
				  reterr);
	case OPT_POOL_WARMUP:
		/* "" is allowed (no warm-up), so not copy_str() */
		if (strlen(arg) > CONFIG_POOL_WARMUP_MAX)
			return errmsg_set(reterr, -EINVAL, "--pool-warmup: longer than %d bytes",
					  CONFIG_POOL_WARMUP_MAX);
		memcpy(cfg->pool_warmup, arg, strlen(arg) + 1);
		cfg->pool_warmup_set = true;
		return 0;
	case OPT_NO_POOL:
		cfg->pool_off = true;
		return 0;
	case OPT_METRICS_PORT:
		return parse_uint("metrics-port", arg, 0, CONFIG_METRICS_PORT_MAX, &cfg->metrics_port,
				  reterr);
	default:
		return -EINVAL;
	}
}

int config_parse(int argc, char **argv, struct config *cfg, struct errmsg *reterr)
{
	const char *redis_flag = NULL;
	struct redis_keys k;
	int opt, r;

	set_defaults(cfg);
	optind = 0;	/* glibc: full re-initialisation, so tests can parse twice */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hV", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			return CONFIG_HELP;
		case 'V':
			return CONFIG_VERSION;
		case ':':
			return errmsg_set(reterr, -EINVAL, "%s: needs a value", argv[optind - 1]);
		case '?':
			return errmsg_set(reterr, -EINVAL, "unknown option '%.64s' (see --help)",
					  argv[optind - 1]);
		default:
			r = parse_one(opt, optarg, cfg, &redis_flag, reterr);
			if (r < 0)
				return r;
		}
	}
	if (optind < argc)
		return errmsg_set(reterr, -EINVAL, "unexpected argument '%.64s' (see --help)",
				  argv[optind]);
	if (cfg->pool_min > cfg->pool_max)
		return errmsg_set(reterr, -EINVAL, "--pool-min %u is above --pool-max %u",
				  cfg->pool_min, cfg->pool_max);
	r = redis_addr_resolve(redis_flag, &cfg->redis, reterr);
	if (r < 0)
		return r;
	snprintf(cfg->redis_text, sizeof(cfg->redis_text), "%s",
		 redis_flag ? redis_flag
			    : getenv("CORRAL_REDIS") && *getenv("CORRAL_REDIS") ? getenv("CORRAL_REDIS")
									       : CORRAL_DEFAULT_REDIS);
	return redis_keys_init(&k, cfg->prefix, cfg->queue, reterr);
}
