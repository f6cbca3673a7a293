/*
 * Unit tests for worker/config.c (corrald's flags and defaults, the warm pool's included) and lib/redis_keys.c (the key
 * names both corrald and corral use).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "redis_keys.h"

#define ARGV(...) ((char *[]){ "corrald", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "corrald", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(cfg, err, ...) config_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), cfg, err)

static int setup(void **state)
{
	(void)state;
	unsetenv("CORRAL_REDIS");
	unsetenv("CORRAL_IMAGES");
	unsetenv("CORRAL_RUN_DIR");
	unsetenv("CORRAL_LOG_LEVEL");
	return 0;
}

static void test_defaults(void **state)
{
	static struct config cfg;
	struct errmsg err = { "" };
	char *argv[] = { "corrald", NULL };

	(void)state;
	setenv("CORRAL_REDIS", "redis://10.0.0.5:6380", 1);
	setenv("CORRAL_IMAGES", "/img", 1);
	assert_int_equal(config_parse(1, argv, &cfg, &err), 0);
	assert_false(cfg.redis.is_unix);
	assert_string_equal(cfg.redis.host, "10.0.0.5");
	assert_int_equal(cfg.redis.port, 6380);
	assert_string_equal(cfg.images, "/img");
	assert_true(cfg.concurrency >= 1);
	assert_true(cfg.id[0] != '\0');
	assert_string_equal(cfg.accel, "auto");
	assert_string_equal(cfg.prefix, "corral:");
	assert_string_equal(cfg.queue, "q");
	assert_int_equal(cfg.result_ttl_s, 86400);
	assert_int_equal(cfg.log_level, LOG_INFO);
	assert_int_equal(cfg.pool_min, 1);
	assert_int_equal(cfg.pool_max, 4);
	assert_int_equal(cfg.pool_idle_ms, 0);
	assert_false(cfg.pool_off);
	assert_false(cfg.pool_warmup_set);
	assert_int_equal(cfg.metrics_port, 0);
	setup(NULL);
}

static void test_flags(void **state)
{
	static struct config cfg;
	struct errmsg err = { "" };

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--redis", "unix:///tmp/r.sock", "--images", "/i",
			       "--run-dir", "/r", "--id", "w-1", "--concurrency", "4", "--accel",
			       "tcg", "--prefix", "x:", "--queue", "gpu", "--result-ttl", "60",
			       "--drain-timeout", "0", "--log-level", "debug"),
			 0);
	assert_true(cfg.redis.is_unix);
	assert_string_equal(cfg.redis.path, "/tmp/r.sock");
	assert_string_equal(cfg.images, "/i");
	assert_string_equal(cfg.run_dir, "/r");
	assert_string_equal(cfg.id, "w-1");
	assert_int_equal(cfg.concurrency, 4);
	assert_string_equal(cfg.accel, "tcg");
	assert_string_equal(cfg.prefix, "x:");
	assert_string_equal(cfg.queue, "gpu");
	assert_int_equal(cfg.result_ttl_s, 60);
	assert_int_equal(cfg.drain_s, 0);
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	/* parsing twice works (getopt state is reset) */
	assert_int_equal(PARSE(&cfg, &err, "--concurrency", "2"), 0);
	assert_int_equal(cfg.concurrency, 2);
}

static void test_errors(void **state)
{
	static struct config cfg;
	struct errmsg err = { "" };

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--concurrency", "0"), -EINVAL);
	assert_non_null(strstr(err.msg, "--concurrency"));
	assert_int_equal(PARSE(&cfg, &err, "--concurrency", "12x"), -EINVAL);
	assert_non_null(strstr(err.msg, "not a whole number"));
	assert_int_equal(PARSE(&cfg, &err, "--concurrency", "-3"), -EINVAL);
	assert_int_equal(PARSE(&cfg, &err, "--concurrency", "100000"), -EINVAL);
	assert_non_null(strstr(err.msg, "out of range"));
	assert_int_equal(PARSE(&cfg, &err, "--accel", "hvf"), -EINVAL);
	assert_non_null(strstr(err.msg, "--accel"));
	assert_int_equal(PARSE(&cfg, &err, "--id", "a b"), -EINVAL);
	assert_non_null(strstr(err.msg, "--id"));
	assert_int_equal(PARSE(&cfg, &err, "--redis", "http://x"), -EINVAL);
	assert_non_null(strstr(err.msg, "redis"));
	assert_int_equal(PARSE(&cfg, &err, "--prefix", "a{b}"), -EINVAL);
	assert_non_null(strstr(err.msg, "prefix"));
	assert_int_equal(PARSE(&cfg, &err, "--queue", "a:b"), -EINVAL);
	assert_non_null(strstr(err.msg, "queue"));
	assert_int_equal(PARSE(&cfg, &err, "--bogus"), -EINVAL);
	assert_non_null(strstr(err.msg, "--bogus"));
	assert_int_equal(PARSE(&cfg, &err, "--images"), -EINVAL);
	assert_non_null(strstr(err.msg, "needs a value"));
	assert_int_equal(PARSE(&cfg, &err, "stray"), -EINVAL);
	assert_non_null(strstr(err.msg, "stray"));
	assert_int_equal(PARSE(&cfg, &err, "--log-level", "loud"), -EINVAL);
	assert_int_equal(PARSE(&cfg, &err, "--result-ttl", "0"), -EINVAL);
	assert_int_equal(PARSE(&cfg, &err, "--help"), CONFIG_HELP);
	assert_int_equal(PARSE(&cfg, &err, "--version"), CONFIG_VERSION);
}

static void test_pool_flags(void **state)
{
	static struct config cfg;
	static char long_cmd[CONFIG_POOL_WARMUP_MAX + 2];
	struct errmsg err = { "" };

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--pool-min", "2", "--pool-max", "5", "--pool-idle-ms",
			       "3000", "--pool-warmup", "true", "--metrics-port", "9464"),
			 0);
	assert_int_equal(cfg.pool_min, 2);
	assert_int_equal(cfg.pool_max, 5);
	assert_int_equal(cfg.pool_idle_ms, 3000);
	assert_true(cfg.pool_warmup_set);
	assert_string_equal(cfg.pool_warmup, "true");
	assert_int_equal(cfg.metrics_port, 9464);
	assert_false(cfg.pool_off);
	/* edges: min 0, max VM_POOL_MAX, empty warm-up (none), --no-pool, --flag=value */
	assert_int_equal(PARSE(&cfg, &err, "--pool-min=0", "--pool-max", "256", "--pool-warmup", "",
			       "--no-pool", "--metrics-port", "65535"),
			 0);
	assert_int_equal(cfg.pool_min, 0);
	assert_int_equal(cfg.pool_max, 256);
	assert_true(cfg.pool_warmup_set);
	assert_string_equal(cfg.pool_warmup, "");
	assert_true(cfg.pool_off);
	assert_int_equal(cfg.metrics_port, 65535);
	/* min == max is fine; min above the default max needs --pool-max */
	assert_int_equal(PARSE(&cfg, &err, "--pool-min", "4", "--pool-max", "4"), 0);

	assert_int_equal(PARSE(&cfg, &err, "--pool-min", "257"), -EINVAL);
	assert_non_null(strstr(err.msg, "--pool-min"));
	assert_non_null(strstr(err.msg, "out of range"));
	assert_int_equal(PARSE(&cfg, &err, "--pool-max", "0"), -EINVAL);
	assert_non_null(strstr(err.msg, "--pool-max"));
	assert_int_equal(PARSE(&cfg, &err, "--pool-min", "5"), -EINVAL);
	assert_non_null(strstr(err.msg, "--pool-min 5 is above --pool-max 4"));
	assert_int_equal(PARSE(&cfg, &err, "--pool-max", "2", "--pool-min", "3"), -EINVAL);
	assert_non_null(strstr(err.msg, "above --pool-max"));
	assert_int_equal(PARSE(&cfg, &err, "--pool-idle-ms", "86400001"), -EINVAL);
	assert_non_null(strstr(err.msg, "--pool-idle-ms"));
	assert_int_equal(PARSE(&cfg, &err, "--pool-idle-ms", "1s"), -EINVAL);
	assert_non_null(strstr(err.msg, "not a whole number"));
	assert_int_equal(PARSE(&cfg, &err, "--metrics-port", "65536"), -EINVAL);
	assert_non_null(strstr(err.msg, "--metrics-port"));
	assert_int_equal(PARSE(&cfg, &err, "--metrics-port", "-1"), -EINVAL);
	memset(long_cmd, 'x', sizeof(long_cmd) - 1);
	assert_int_equal(PARSE(&cfg, &err, "--pool-warmup", long_cmd), -EINVAL);
	assert_non_null(strstr(err.msg, "--pool-warmup"));
	long_cmd[CONFIG_POOL_WARMUP_MAX] = '\0';	/* exactly the maximum */
	assert_int_equal(PARSE(&cfg, &err, "--pool-warmup", long_cmd), 0);
	assert_int_equal(strlen(cfg.pool_warmup), CONFIG_POOL_WARMUP_MAX);
	assert_int_equal(PARSE(&cfg, &err, "--no-pool=1"), -EINVAL);
	assert_int_equal(PARSE(&cfg, &err, "--pool-min"), -EINVAL);
	assert_non_null(strstr(err.msg, "needs a value"));
	/* a later parse starts from the defaults again */
	assert_int_equal(PARSE(&cfg, &err, "--concurrency", "1"), 0);
	assert_false(cfg.pool_off);
	assert_false(cfg.pool_warmup_set);
	assert_int_equal(cfg.pool_max, 4);
}

/* --image NAME: the images with a warm pool (wpool.c) */
static void test_image_flags(void **state)
{
	static struct config cfg;
	struct errmsg err = { "" };

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--concurrency", "1"), 0);
	assert_int_equal(cfg.nserve_images, 1);
	assert_string_equal(cfg.serve_images[0], "base");
	assert_int_equal(PARSE(&cfg, &err, "--image", "python-data", "--image=build",
			       "--images", "/img"),
			 0);
	assert_int_equal(cfg.nserve_images, 2);
	assert_string_equal(cfg.serve_images[0], "python-data");
	assert_string_equal(cfg.serve_images[1], "build");
	assert_string_equal(cfg.images, "/img");
	assert_int_equal(PARSE(&cfg, &err, "--image", "abcdefghijklmnopqrstuvwxyz_-0123"), 0);
	assert_int_equal(PARSE(&cfg, &err, "--image", "abcdefghijklmnopqrstuvwxyz_-01234"),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "--image"));
	assert_int_equal(PARSE(&cfg, &err, "--image", "../base"), -EINVAL);
	assert_int_equal(PARSE(&cfg, &err, "--image", "Base"), -EINVAL);
	assert_int_equal(PARSE(&cfg, &err, "--image", ""), -EINVAL);
	assert_int_equal(PARSE(&cfg, &err, "--image", "base", "--image", "base"), -EINVAL);
	assert_non_null(strstr(err.msg, "twice"));
	assert_int_equal(PARSE(&cfg, &err, "--image", "a", "--image", "b", "--image", "c",
			       "--image", "d", "--image", "e", "--image", "f", "--image", "g",
			       "--image", "h", "--image", "i", "--image", "j", "--image", "k",
			       "--image", "l", "--image", "m", "--image", "n", "--image", "o",
			       "--image", "p", "--image", "q"),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "more than 16"));
}

/* --template (repeatable), --image as template sugar, --mem-budget / --cpu-budget. */
static void test_template_flags(void **state)
{
	static struct config cfg;
	struct errmsg err = { "" };

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--id", "w"), 0);
	assert_int_equal(cfg.nserve_templates, 1);
	assert_string_equal(cfg.serve_templates[0], "default");
	assert_int_equal(cfg.mem_budget_mib, 0);
	assert_int_equal(cfg.cpu_budget, 0);
	config_free(&cfg);

	assert_int_equal(PARSE(&cfg, &err, "--template", "Py.3_x-1", "--template", "big",
			       "--mem-budget", "512", "--cpu-budget", "3"), 0);
	assert_int_equal(cfg.nserve_templates, 2);
	assert_string_equal(cfg.serve_templates[0], "Py.3_x-1");
	assert_string_equal(cfg.serve_templates[1], "big");
	assert_int_equal(cfg.mem_budget_mib, 512);
	assert_int_equal(cfg.cpu_budget, 3);
	config_free(&cfg);

	/* --image X alone serves template X (not default); with --template both, once each */
	assert_int_equal(PARSE(&cfg, &err, "--image", "python-data"), 0);
	assert_int_equal(cfg.nserve_templates, 1);
	assert_string_equal(cfg.serve_templates[0], "python-data");
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, &err, "--template", "big", "--image", "build", "--template",
			       "build"), 0);
	assert_int_equal(cfg.nserve_templates, 2);
	assert_string_equal(cfg.serve_templates[0], "big");
	assert_string_equal(cfg.serve_templates[1], "build");
	config_free(&cfg);

	assert_int_equal(PARSE(&cfg, &err, "--template", "a b"), -EINVAL);
	assert_non_null(strstr(err.msg, "--template"));
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, &err, "--template", "x", "--template", "x"), -EINVAL);
	assert_non_null(strstr(err.msg, "given twice"));
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, &err, "--template",
			       "a1234567890123456789012345678901234567890123456789012345678901234"),
			 -EINVAL);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, &err, "--mem-budget", "10"), -EINVAL);
	assert_non_null(strstr(err.msg, "--mem-budget"));
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, &err, "--cpu-budget", "0"), -EINVAL);
	assert_non_null(strstr(err.msg, "--cpu-budget"));
	config_free(&cfg);
}

static void test_keys(void **state)
{
	struct redis_keys k;
	struct errmsg err = { "" };
	char name[REDIS_KEYS_NAME_MAX];
	char long_name[REDIS_KEYS_PREFIX_MAX + 2];

	(void)state;
	assert_int_equal(redis_keys_init(&k, "corral:", "q", &err), 0);
	assert_string_equal(k.jobs, "corral:{q}:jobs");
	assert_string_equal(k.dead, "corral:{q}:dead");
	redis_keys_out(&k, "abc", name);
	assert_string_equal(name, "corral:{q}:out:abc");
	redis_keys_result(&k, "abc", name);
	assert_string_equal(name, "corral:{q}:result:abc");
	assert_int_equal(redis_keys_init(&k, "", "t1", &err), 0);
	assert_string_equal(k.jobs, "{t1}:jobs");
	assert_int_equal(redis_keys_init(&k, "a b", "q", &err), -EINVAL);
	assert_int_equal(redis_keys_init(&k, "c:", "", &err), -EINVAL);
	memset(long_name, 'p', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(redis_keys_init(&k, long_name, "q", &err), -EINVAL);
	long_name[REDIS_KEYS_PREFIX_MAX] = '\0';	/* exactly the maximum */
	assert_int_equal(redis_keys_init(&k, long_name, "q", &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults, setup),
		cmocka_unit_test_setup(test_flags, setup),
		cmocka_unit_test_setup(test_errors, setup),
		cmocka_unit_test_setup(test_pool_flags, setup),
		cmocka_unit_test_setup(test_image_flags, setup),
		cmocka_unit_test_setup(test_template_flags, setup),
		cmocka_unit_test(test_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
