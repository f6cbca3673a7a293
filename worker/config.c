/*
 * config: corrald's flags with getopt_long, over defaults from the environment and the --config
 * file (config_file.c, same key names). It validates every value (ranges, lengths, characters)
 * and reports the first bad flag in one line, never a credential. It must not open anything but
 * the --config file: whether the images exist is vm/host's to say, a @credential file repo.c's.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_file.h"
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
       OPT_METRICS_PORT, OPT_IMAGE };

enum { OPT_TEMPLATE = 600, OPT_MEM_BUDGET, OPT_CPU_BUDGET };

enum { OPT_EGRESS_ALLOW_ADDR = 700, OPT_EGRESS_RESOLVE, OPT_EGRESS_MAX_BYTES, OPT_EGRESS_IDLE };

enum { OPT_CONFIG = 500, OPT_REPO_ALLOW, OPT_REPO_CRED, OPT_REPO_CACHE, OPT_REPO_CACHE_MAX,
       OPT_REPO_MAX_BYTES, OPT_REPO_TIMEOUT };

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
	{ "image", required_argument, NULL, OPT_IMAGE },
	{ "template", required_argument, NULL, OPT_TEMPLATE },
	{ "mem-budget", required_argument, NULL, OPT_MEM_BUDGET },
	{ "cpu-budget", required_argument, NULL, OPT_CPU_BUDGET },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "repo-allow", required_argument, NULL, OPT_REPO_ALLOW },
	{ "repo-cred", required_argument, NULL, OPT_REPO_CRED },
	{ "repo-cache", required_argument, NULL, OPT_REPO_CACHE },
	{ "repo-cache-max", required_argument, NULL, OPT_REPO_CACHE_MAX },
	{ "repo-max-bytes", required_argument, NULL, OPT_REPO_MAX_BYTES },
	{ "repo-timeout", required_argument, NULL, OPT_REPO_TIMEOUT },
	{ "egress-allow-addr", required_argument, NULL, OPT_EGRESS_ALLOW_ADDR },
	{ "egress-resolve", required_argument, NULL, OPT_EGRESS_RESOLVE },
	{ "egress-max-bytes", required_argument, NULL, OPT_EGRESS_MAX_BYTES },
	{ "egress-idle-timeout", required_argument, NULL, OPT_EGRESS_IDLE },
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
		"  --image NAME          an image (<images>/NAME.ext4) that gets its own warm pool\n"
		"                        (repeatable, at most %u; default: base); jobs naming\n"
		"                        another image present there boot it cold\n"
		"  --template NAME       a template (corral template create) that gets a warm\n"
		"                        pool (repeatable, at most %u; default: default); jobs\n"
		"                        of other templates boot cold with their settings\n"
		"  --mem-budget MIB      memory all VMs may use together (default 75%% of MemTotal)\n"
		"  --cpu-budget N        vCPUs all VMs may use together (default 4 x CPUs)\n"
		"  --metrics-port N      Prometheus metrics on 127.0.0.1:N (default 0 = off)\n"
		"  --config FILE         INI file: keys are these flags' long names; section\n"
		"                        [credentials] holds host = user:secret or host = @/path;\n"
		"                        flags given here override it\n"
		"  --repo-allow PATTERN  repo URLs allowed besides https://*: fnmatch(3) over the\n"
		"                        whole URL, e.g. 'git://10.0.0.5:*' (repeatable)\n"
		"  --repo-cred HOST=USER:SECRET|HOST=@FILE\n"
		"                        credentials for fetches from HOST (repeatable; FILE holds\n"
		"                        USER:SECRET and is read when needed)\n"
		"  --repo-cache DIR      repo mirrors (default <run-dir>/repos)\n"
		"  --repo-cache-max B    mirror bytes before LRU eviction (default 2G; K/M/G ok)\n"
		"  --repo-max-bytes B    largest checkout (default 64M)\n"
		"  --repo-timeout S      fetch time limit, 1..%u (default %u)\n"
		"  --egress-max-bytes B  network bytes per job through the egress proxy, both\n"
		"                        ways (default 1G; K/M/G ok)\n"
		"  --egress-idle-timeout S  close an egress stream idle this long (default 300)\n"
		"  --egress-allow-addr CIDR  let the egress proxy connect to these non-public\n"
		"                        addresses (repeatable; tests only)\n"
		"  --egress-resolve NAME=IP  fixed DNS answer for the egress proxy (repeatable;\n"
		"                        tests)\n"
		"  --help, --version\n",
		CORRAL_DEFAULT_REDIS, CORRAL_DEFAULT_IMAGES, CORRAL_DEFAULT_RUN_DIR,
		CONFIG_CONCURRENCY_MAX, REDIS_KEYS_DEFAULT_PREFIX, REDIS_KEYS_DEFAULT_QUEUE,
		CONFIG_RESULT_TTL_DEFAULT, CONFIG_DRAIN_DEFAULT_S, CONFIG_LEASE_DEFAULT_S,
		CONFIG_PRUNE_DEFAULT_S, CONFIG_POOL_MAX, CONFIG_POOL_MIN_DEFAULT, CONFIG_POOL_MAX,
		CONFIG_POOL_MAX_DEFAULT, CONFIG_SERVE_IMAGES_MAX, CONFIG_SERVE_TEMPLATES_MAX,
		CONFIG_REPO_TIMEOUT_MAX_S,
		CONFIG_REPO_TIMEOUT_DEFAULT_S);
}

/* --image NAME: [a-z0-9_-]{1,32}, no duplicates, at most CONFIG_SERVE_IMAGES_MAX. */
static int add_image(struct config *cfg, const char *arg, struct errmsg *reterr)
{
	size_t n = strlen(arg);

	if (n == 0 || n > CONFIG_IMAGE_NAME_MAX || strspn(arg, "abcdefghijklmnopqrstuvwxyz"
							 "0123456789_-") != n)
		return errmsg_set(reterr, -EINVAL, "--image: 1 to %d characters of [a-z0-9_-]",
				  CONFIG_IMAGE_NAME_MAX);
	for (unsigned i = 0; i < cfg->nserve_images; i++)
		if (strcmp(cfg->serve_images[i], arg) == 0)
			return errmsg_set(reterr, -EINVAL, "--image %s: given twice", arg);
	if (cfg->nserve_images >= CONFIG_SERVE_IMAGES_MAX)
		return errmsg_set(reterr, -EINVAL, "--image: more than %d images",
				  CONFIG_SERVE_IMAGES_MAX);
	memcpy(cfg->serve_images[cfg->nserve_images++], arg, n + 1);
	return 0;
}

/* --template NAME: [A-Za-z0-9._-]{1,64}, no duplicates, at most CONFIG_SERVE_TEMPLATES_MAX. */
static int add_template(struct config *cfg, const char *arg, struct errmsg *reterr)
{
	size_t n = strlen(arg);

	if (n == 0 || n > CONFIG_TEMPLATE_NAME_MAX ||
	    strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
		return errmsg_set(reterr, -EINVAL, "--template: 1 to %d characters of [A-Za-z0-9._-]",
				  CONFIG_TEMPLATE_NAME_MAX);
	for (unsigned i = 0; i < cfg->nserve_templates; i++)
		if (strcmp(cfg->serve_templates[i], arg) == 0)
			return errmsg_set(reterr, -EINVAL, "--template %s: given twice", arg);
	if (cfg->nserve_templates >= CONFIG_SERVE_TEMPLATES_MAX)
		return errmsg_set(reterr, -EINVAL, "--template: more than %d templates",
				  CONFIG_SERVE_TEMPLATES_MAX);
	memcpy(cfg->serve_templates[cfg->nserve_templates++], arg, n + 1);
	return 0;
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

/* A byte count: digits with an optional K, M or G (binary) suffix. */
static int parse_bytes(const char *flag, const char *s, unsigned long long min,
		       unsigned long long max, unsigned long long *out, struct errmsg *reterr)
{
	unsigned long long v, mul = 1;
	char *end;

	errno = 0;
	if (!*s || *s < '0' || *s > '9')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno)
		goto bad;
	if (*end == 'k' || *end == 'K')
		mul = 1ull << 10;
	else if (*end == 'm' || *end == 'M')
		mul = 1ull << 20;
	else if (*end == 'g' || *end == 'G')
		mul = 1ull << 30;
	else if (*end)
		goto bad;
	if (*end && end[1])
		goto bad;
	if (v > max / mul || v * mul < min || v * mul > max)
		return errmsg_set(reterr, -EINVAL, "--%s: '%.32s' is out of range %llu..%llu bytes",
				  flag, s, min, max);
	*out = v * mul;
	return 0;
bad:
	return errmsg_set(reterr, -EINVAL, "--%s: '%.32s' is not a byte count (e.g. 512M)", flag,
			  s);
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
	cfg->repo_cache_max = CONFIG_REPO_CACHE_MAX_DEFAULT;
	cfg->repo_max_bytes = CONFIG_REPO_MAX_BYTES_DEFAULT;
	cfg->repo_timeout_s = CONFIG_REPO_TIMEOUT_DEFAULT_S;
	env = getenv("CORRAL_LOG_LEVEL");
	if (env)
		(void)parse_level(env, &cfg->log_level);
}

/* ---- repo lists ---- */

static void strv_free(char ***v, size_t *n, bool secret)
{
	for (size_t i = 0; i < *n; i++) {
		if (secret)
			explicit_bzero((*v)[i], strlen((*v)[i]));
		free((*v)[i]);
	}
	free(*v);
	*v = NULL;
	*n = 0;
}

/* Appends a copy of s; at most max items. */
static int strv_add(char ***v, size_t *n, size_t max, const char *s)
{
	char **nv;
	char *copy;

	if (*n >= max)
		return -E2BIG;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv) {
		free(copy);
		return -ENOMEM;
	}
	nv[(*n)++] = copy;
	*v = nv;
	return 0;
}

void config_cred_host(const char *cred, char *out, size_t n)
{
	size_t len = strcspn(cred, "=");

	if (n == 0)
		return;
	if (len >= n)
		len = n - 1;
	memcpy(out, cred, len);
	out[len] = '\0';
}

static bool host_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']';
}

/* HOST=USER:SECRET or HOST=@/abs/file. Errors never quote the value. */
static int check_cred(const char *s, struct errmsg *reterr)
{
	size_t hlen = strcspn(s, "="), len = strlen(s);
	const char *v = s + hlen + 1, *colon;

	if (len > CONFIG_REPO_CRED_MAX)
		return errmsg_set(reterr, -EINVAL, "--repo-cred: longer than %d bytes",
				  CONFIG_REPO_CRED_MAX);
	if (hlen == 0 || hlen > CONFIG_REPO_HOST_MAX || s[hlen] != '=')
		return errmsg_set(reterr, -EINVAL,
				  "--repo-cred: expected HOST=USER:SECRET or HOST=@/path "
				  "(value not shown)");
	for (size_t i = 0; i < hlen; i++)
		if (!host_char_ok(s[i]))
			return errmsg_set(reterr, -EINVAL,
					  "--repo-cred: the host holds a character other than "
					  "[A-Za-z0-9.:_[]-] (value not shown)");
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return errmsg_set(reterr, -EINVAL,
					  "--repo-cred %.*s: control character in the value", (int)hlen,
					  s);
	if (*v == '@') {
		if (v[1] != '/')
			return errmsg_set(reterr, -EINVAL,
					  "--repo-cred %.*s: @FILE must be an absolute path", (int)hlen,
					  s);
		return 0;
	}
	colon = strchr(v, ':');
	if (!colon || colon == v || !colon[1])
		return errmsg_set(reterr, -EINVAL,
				  "--repo-cred %.*s: expected USER:SECRET after '=' (value not shown)",
				  (int)hlen, s);
	return 0;
}

/* Adds a credential; one for the same host is replaced (the later one wins). */
static int add_cred(struct config *cfg, const char *s, struct errmsg *reterr)
{
	size_t hlen = strcspn(s, "=");
	int r = check_cred(s, reterr);

	if (r < 0)
		return r;
	for (size_t i = 0; i < cfg->nrepo_creds; i++) {
		char *old = cfg->repo_creds[i];

		if (strncmp(old, s, hlen + 1) == 0) {
			char *copy = strdup(s);

			if (!copy)
				return -ENOMEM;
			explicit_bzero(old, strlen(old));
			free(old);
			cfg->repo_creds[i] = copy;
			return 0;
		}
	}
	r = strv_add(&cfg->repo_creds, &cfg->nrepo_creds, CONFIG_REPO_CREDS_MAX, s);
	if (r == -E2BIG)
		return errmsg_set(reterr, -EINVAL, "--repo-cred: more than %d hosts",
				  CONFIG_REPO_CREDS_MAX);
	return r;
}

static int add_allow(struct config *cfg, const char *s, struct errmsg *reterr)
{
	size_t len = strlen(s);
	int r;

	if (len == 0 || len > CONFIG_REPO_PATTERN_MAX)
		return errmsg_set(reterr, -EINVAL, "--repo-allow: 1 to %d bytes",
				  CONFIG_REPO_PATTERN_MAX);
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return errmsg_set(reterr, -EINVAL,
					  "--repo-allow: '%.64s' holds a space or control character",
					  s);
	r = strv_add(&cfg->repo_allow, &cfg->nrepo_allow, CONFIG_REPO_ALLOW_MAX, s);
	if (r == -E2BIG)
		return errmsg_set(reterr, -EINVAL, "--repo-allow: more than %d patterns",
				  CONFIG_REPO_ALLOW_MAX);
	return r;
}

void config_free(struct config *cfg)
{
	strv_free(&cfg->repo_allow, &cfg->nrepo_allow, false);
	strv_free(&cfg->repo_creds, &cfg->nrepo_creds, true);
}

static int parse_one(int opt, const char *arg, struct config *cfg, struct errmsg *reterr)
{
	switch (opt) {
	case 'r':
		if (strlen(arg) >= sizeof(cfg->redis_text))
			return errmsg_set(reterr, -EINVAL, "--redis: longer than %zu bytes",
					  sizeof(cfg->redis_text) - 1);
		memcpy(cfg->redis_text, arg, strlen(arg) + 1);
		cfg->redis_set = true;
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
	case OPT_IMAGE:
		cfg->images_given = true;
		return add_image(cfg, arg, reterr);
	case OPT_TEMPLATE:
		return add_template(cfg, arg, reterr);
	case OPT_MEM_BUDGET:
		return parse_uint("mem-budget", arg, 64, CONFIG_MEM_BUDGET_MAX_MIB,
				  &cfg->mem_budget_mib, reterr);
	case OPT_CPU_BUDGET:
		return parse_uint("cpu-budget", arg, 1, CONFIG_CPU_BUDGET_MAX, &cfg->cpu_budget,
				  reterr);
	case OPT_REPO_ALLOW:
		return add_allow(cfg, arg, reterr);
	case OPT_REPO_CRED:
		return add_cred(cfg, arg, reterr);
	case OPT_REPO_CACHE:
		return copy_str("repo-cache", arg, cfg->repo_cache, sizeof(cfg->repo_cache), reterr);
	case OPT_REPO_CACHE_MAX:
		return parse_bytes("repo-cache-max", arg, 1ull << 20, CONFIG_REPO_CACHE_MAX_LIMIT,
				   &cfg->repo_cache_max, reterr);
	case OPT_REPO_MAX_BYTES:
		return parse_bytes("repo-max-bytes", arg, 1, CONFIG_REPO_MAX_BYTES_LIMIT,
				   &cfg->repo_max_bytes, reterr);
	case OPT_REPO_TIMEOUT:
		return parse_uint("repo-timeout", arg, 1, CONFIG_REPO_TIMEOUT_MAX_S,
				  &cfg->repo_timeout_s, reterr);
	case OPT_EGRESS_ALLOW_ADDR:
		return egress_cfg_add(&cfg->egress, "egress-allow-addr", arg, reterr);
	case OPT_EGRESS_RESOLVE:
		return egress_cfg_add(&cfg->egress, "egress-resolve", arg, reterr);
	case OPT_EGRESS_IDLE:
		return parse_uint("egress-idle-timeout", arg, 1, EGRESS_IDLE_MAX_S,
				  &cfg->egress.idle_s, reterr);
	case OPT_EGRESS_MAX_BYTES: {
		unsigned long long b = 0;
		int r = parse_bytes("egress-max-bytes", arg, 1, EGRESS_MAX_BYTES_LIMIT, &b, reterr);

		cfg->egress.max_bytes = b;
		return r;
	}
	default:
		return -EINVAL;
	}
}

/* ---- the --config file ---- */

struct file_ctx {
	struct config *cfg;
	bool inline_secret;		/* a credential with its secret in the file */
};

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static int file_pair(void *ud, const char *section, const char *name, const char *value,
		     struct errmsg *reterr)
{
	struct file_ctx *c = ud;
	char cred[CONFIG_REPO_CRED_MAX + 1];
	size_t nlen = strlen(name), vlen = strlen(value);
	bool on = false;
	int r;

	if (strcmp(section, "credentials") == 0) {
		if (nlen + vlen + 1 > CONFIG_REPO_CRED_MAX)
			return errmsg_set(reterr, -EINVAL, "credentials: longer than %d bytes",
					  CONFIG_REPO_CRED_MAX);
		memcpy(cred, name, nlen);
		cred[nlen] = '=';
		memcpy(cred + nlen + 1, value, vlen + 1);
		if (value[0] != '@')
			c->inline_secret = true;
		r = add_cred(c->cfg, cred, reterr);
		explicit_bzero(cred, sizeof(cred));
		return r;
	}
	if (section[0] && strcmp(section, "corrald") != 0)
		return errmsg_set(reterr, -EINVAL,
				  "unknown section [%.64s] (expected none, [corrald] or "
				  "[credentials])",
				  section);
	for (const struct option *o = options; o->name; o++) {
		if (strcmp(o->name, name) != 0)
			continue;
		if (o->val == 'h' || o->val == 'V' || o->val == OPT_CONFIG)
			break;
		if (o->has_arg == no_argument) {
			if (parse_bool(value, &on) < 0)
				return errmsg_set(reterr, -EINVAL, "%s: expected true or false",
						  name);
			if (o->val == OPT_NO_POOL)
				c->cfg->pool_off = on;
			return 0;
		}
		if (o->val == OPT_REPO_CRED) {
			const char *eq = strchr(value, '=');

			if (!eq || eq[1] != '@')
				c->inline_secret = true;
		}
		return parse_one(o->val, value, c->cfg, reterr);
	}
	return errmsg_set(reterr, -EINVAL, "unknown key '%.64s' (keys are corrald's long flags)",
			  name);
}

static int load_file(struct config *cfg, struct errmsg *reterr)
{
	struct file_ctx c = { .cfg = cfg };
	mode_t mode = 0;
	int r;

	r = config_file_load(cfg->config_file, file_pair, &c, &mode, reterr);
	if (r < 0)
		return r;
	if (c.inline_secret && (mode & 0004))
		return errmsg_set(reterr, -EPERM,
				  "--config %.200s: holds credentials but others may read it "
				  "(chmod o-r, or use host = @/path)",
				  cfg->config_file);
	return 0;
}

/* Pass 1: --help, --version, bad flags and --config (the file comes before the other flags). */
static int first_pass(int argc, char **argv, struct config *cfg, struct errmsg *reterr)
{
	int opt;

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
		case OPT_CONFIG:
			if (copy_str("config", optarg, cfg->config_file, sizeof(cfg->config_file),
				     reterr) < 0)
				return -EINVAL;
			break;
		default:
			break;
		}
	}
	if (optind < argc)
		return errmsg_set(reterr, -EINVAL, "unexpected argument '%.64s' (see --help)",
				  argv[optind]);
	return 0;
}

int config_parse(int argc, char **argv, struct config *cfg, struct errmsg *reterr)
{
	struct redis_keys k;
	int opt, r;

	set_defaults(cfg);
	r = first_pass(argc, argv, cfg, reterr);
	if (r != 0)
		return r;
	if (cfg->config_file[0]) {
		r = load_file(cfg, reterr);
		if (r < 0)
			return r;
	}
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hV", options, NULL)) != -1) {
		if (opt == OPT_CONFIG)
			continue;
		if (opt == OPT_REPO_ALLOW && !cfg->allow_from_flags) {
			/* the command line's list replaces the file's */
			strv_free(&cfg->repo_allow, &cfg->nrepo_allow, false);
			cfg->allow_from_flags = true;
		}
		if (opt == OPT_IMAGE && !cfg->images_from_flags) {
			cfg->nserve_images = 0;	/* the command line's list replaces the file's */
			cfg->images_from_flags = true;
		}
		if (opt == OPT_TEMPLATE && !cfg->templates_from_flags) {
			cfg->nserve_templates = 0;	/* same for --template */
			cfg->templates_from_flags = true;
		}
		r = parse_one(opt, optarg, cfg, reterr);
		if (r < 0)
			return r;
	}
	/* served templates: the --template list, plus each --image X as a template X; neither
	 * given: just the built-in `default` (image base) */
	if (cfg->images_given) {
		for (unsigned i = 0; i < cfg->nserve_images; i++) {
			bool dup = false;

			for (unsigned t = 0; t < cfg->nserve_templates; t++)
				dup |= strcmp(cfg->serve_templates[t], cfg->serve_images[i]) == 0;
			if (!dup) {
				r = add_template(cfg, cfg->serve_images[i], reterr);
				if (r < 0)
					return r;
			}
		}
	}
	if (cfg->nserve_templates == 0)
		(void)add_template(cfg, "default", NULL);
	if (cfg->nserve_images == 0)
		(void)add_image(cfg, "base", NULL);
	if (cfg->pool_min > cfg->pool_max)
		return errmsg_set(reterr, -EINVAL, "--pool-min %u is above --pool-max %u",
				  cfg->pool_min, cfg->pool_max);
	if (!cfg->repo_cache[0] &&
	    snprintf(cfg->repo_cache, sizeof(cfg->repo_cache), "%s/repos", cfg->run_dir) >=
		    (int)sizeof(cfg->repo_cache))
		return errmsg_set(reterr, -EINVAL, "--run-dir: too long for <run-dir>/repos");
	if (!cfg->redis_set) {
		const char *env = getenv("CORRAL_REDIS");

		snprintf(cfg->redis_text, sizeof(cfg->redis_text), "%s",
			 env && *env ? env : CORRAL_DEFAULT_REDIS);
	}
	r = redis_addr_resolve(cfg->redis_set ? cfg->redis_text : NULL, &cfg->redis, reterr);
	if (r < 0)
		return r;
	return redis_keys_init(&k, cfg->prefix, cfg->queue, reterr);
}
