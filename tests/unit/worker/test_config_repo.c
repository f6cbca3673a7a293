/*
 * Unit tests for corrald's repo flags (worker/config.c) and its --config INI file
 * (worker/config_file.c, inih): values, limits, precedence (flags over the file), the
 * [credentials] section, and that no error message ever shows a secret. The INI files are
 * written to a temp dir; nothing else touches the system.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "config_file.h"

#define ARGV(...) ((char *[]){ "corrald", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "corrald", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(cfg, err, ...) config_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), cfg, err)

static struct config cfg;
static char dir[] = "/tmp/corral-cfgtest.XXXXXX";
static char path[256];

static int setup(void **state)
{
	(void)state;
	unsetenv("CORRAL_REDIS");
	unsetenv("CORRAL_IMAGES");
	unsetenv("CORRAL_RUN_DIR");
	unsetenv("CORRAL_LOG_LEVEL");
	memset(&cfg, 0, sizeof(cfg));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	config_free(&cfg);
	if (path[0])
		unlink(path);
	path[0] = '\0';
	return 0;
}

/* Writes an INI file with the given mode; path gets its name. */
static void ini(const char *text, mode_t mode)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/corrald.ini", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

/* template / mem-budget / cpu-budget lines in the file; --template on the command line replaces
 * the file's list. */
static void test_file_templates(void **state)
{
	struct errmsg err = { "" };

	(void)state;
	ini("template = big\ntemplate = Py.3\nmem-budget = 2048\ncpu-budget = 6\n", 0644);
	assert_int_equal(PARSE(&cfg, &err, "--config", path), 0);
	assert_int_equal(cfg.nserve_templates, 2);
	assert_string_equal(cfg.serve_templates[0], "big");
	assert_string_equal(cfg.serve_templates[1], "Py.3");
	assert_int_equal(cfg.mem_budget_mib, 2048);
	assert_int_equal(cfg.cpu_budget, 6);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, &err, "--config", path, "--template", "small"), 0);
	assert_int_equal(cfg.nserve_templates, 1);
	assert_string_equal(cfg.serve_templates[0], "small");
	assert_int_equal(cfg.mem_budget_mib, 2048);
	config_free(&cfg);
	ini("template = no/slash\n", 0644);
	assert_int_equal(PARSE(&cfg, &err, "--config", path), -EINVAL);
	assert_non_null(strstr(err.msg, "--template"));
}

static void test_repo_defaults(void **state)
{
	struct errmsg err = { "" };

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--run-dir", "/r"), 0);
	assert_int_equal(cfg.nrepo_allow, 0);
	assert_int_equal(cfg.nrepo_creds, 0);
	assert_string_equal(cfg.repo_cache, "/r/repos");
	assert_int_equal(cfg.repo_cache_max, 2ull << 30);
	assert_int_equal(cfg.repo_max_bytes, 64ull << 20);
	assert_int_equal(cfg.repo_timeout_s, 120);
	assert_string_equal(cfg.config_file, "");
}

static void test_repo_flags(void **state)
{
	struct errmsg err = { "" };
	char host[64];

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--repo-allow", "git://127.0.0.1:*", "--repo-allow",
			       "file:///srv/git/*", "--repo-cred", "git.example.com=bot:tok;en",
			       "--repo-cred", "h2:8443=@/etc/corral/h2.cred", "--repo-cache", "/c",
			       "--repo-cache-max", "512M", "--repo-max-bytes", "1K",
			       "--repo-timeout", "30"),
			 0);
	assert_int_equal(cfg.nrepo_allow, 2);
	assert_string_equal(cfg.repo_allow[0], "git://127.0.0.1:*");
	assert_string_equal(cfg.repo_allow[1], "file:///srv/git/*");
	assert_int_equal(cfg.nrepo_creds, 2);
	assert_string_equal(cfg.repo_creds[0], "git.example.com=bot:tok;en");
	assert_string_equal(cfg.repo_creds[1], "h2:8443=@/etc/corral/h2.cred");
	config_cred_host(cfg.repo_creds[0], host, sizeof(host));
	assert_string_equal(host, "git.example.com");
	config_cred_host(cfg.repo_creds[1], host, 3);
	assert_string_equal(host, "h2");
	assert_string_equal(cfg.repo_cache, "/c");
	assert_int_equal(cfg.repo_cache_max, 512ull << 20);
	assert_int_equal(cfg.repo_max_bytes, 1024);
	assert_int_equal(cfg.repo_timeout_s, 30);
	config_free(&cfg);
	assert_null(cfg.repo_allow);
	assert_int_equal(cfg.nrepo_creds, 0);

	/* the same host twice: the later one wins */
	assert_int_equal(PARSE(&cfg, &err, "--repo-cred", "h=a:1", "--repo-cred", "h=b:2",
			       "--repo-cred", "hh=c:3"),
			 0);
	assert_int_equal(cfg.nrepo_creds, 2);
	assert_string_equal(cfg.repo_creds[0], "h=b:2");
	assert_string_equal(cfg.repo_creds[1], "hh=c:3");
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, &err, "--repo-max-bytes", "2g"), -EINVAL);	/* > 1 GiB */
	assert_non_null(strstr(err.msg, "--repo-max-bytes"));
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, &err, "--repo-max-bytes", "1G"), 0);
	assert_int_equal(cfg.repo_max_bytes, 1ull << 30);
}

static void test_repo_errors(void **state)
{
	static const char *const bad_creds[] = {
		"host", "host=", "host=user", "host=:s3cr3t", "host=user:", "=u:s3cr3t",
		"h o=u:s3cr3t", "host=@relative", "host=u:s3cr3t\n",
	};
	static const char *const bad_bytes[] = { "", "12X", "0", "-1", "1KB", "99999999999999G" };
	struct errmsg err = { "" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad_creds) / sizeof(bad_creds[0]); i++) {
		err.msg[0] = '\0';
		assert_int_equal(PARSE(&cfg, &err, "--repo-cred", (char *)bad_creds[i]), -EINVAL);
		assert_non_null(strstr(err.msg, "--repo-cred"));
		assert_null(strstr(err.msg, "s3cr3t"));	/* never shown */
		config_free(&cfg);
	}
	for (size_t i = 0; i < sizeof(bad_bytes) / sizeof(bad_bytes[0]); i++) {
		assert_int_equal(PARSE(&cfg, &err, "--repo-cache-max", (char *)bad_bytes[i]),
				 -EINVAL);
		config_free(&cfg);
	}
	assert_int_equal(PARSE(&cfg, &err, "--repo-cache-max", "1K"), -EINVAL);	/* < 1 MiB */
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, &err, "--repo-allow", ""), -EINVAL);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, &err, "--repo-allow", "git://a b"), -EINVAL);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, &err, "--repo-timeout", "0"), -EINVAL);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, &err, "--repo-timeout", "3601"), -EINVAL);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, &err, "--repo-cache", ""), -EINVAL);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, &err, "--config"), -EINVAL);
	assert_non_null(strstr(err.msg, "needs a value"));
}

static void test_file(void **state)
{
	struct errmsg err = { "" };

	(void)state;
	ini("# corrald settings\n"
	    "concurrency = 3\n"
	    "repo-allow = git://10.0.0.5:*\n"
	    "repo-allow = file:///srv/git/*\n"
	    "repo-max-bytes = 8M\n"
	    "no-pool = yes\n"
	    "repo-cred = h3:9418=u3:p;3\n"
	    "[corrald]\n"
	    "log-level = warn\n"
	    "redis = unix:///run/r.sock\n"
	    "\n"
	    "[credentials]\n"
	    "git.example.com = bot:s3;cr#t\n"
	    "other.example = @/etc/corral/other.cred\n",
	    0600);
	assert_int_equal(PARSE(&cfg, &err, "--config", path), 0);
	assert_string_equal(cfg.config_file, path);
	assert_int_equal(cfg.concurrency, 3);
	assert_int_equal(cfg.nrepo_allow, 2);
	assert_string_equal(cfg.repo_allow[1], "file:///srv/git/*");
	assert_int_equal(cfg.repo_max_bytes, 8ull << 20);
	assert_true(cfg.pool_off);
	assert_int_equal(cfg.log_level, LOG_WARN);
	assert_true(cfg.redis.is_unix);
	assert_string_equal(cfg.redis.path, "/run/r.sock");
	assert_int_equal(cfg.nrepo_creds, 3);
	assert_string_equal(cfg.repo_creds[0], "h3:9418=u3:p;3");	/* no inline comments */
	assert_string_equal(cfg.repo_creds[1], "git.example.com=bot:s3;cr#t");
	assert_string_equal(cfg.repo_creds[2], "other.example=@/etc/corral/other.cred");
	config_free(&cfg);

	/* flags override the file: scalars, the whole allow list, one host's credential */
	assert_int_equal(PARSE(&cfg, &err, "--concurrency", "5", "--config", path, "--repo-allow",
			       "git://127.0.0.1:*", "--repo-cred", "git.example.com=x:y",
			       "--redis", "redis://10.1.1.1:7000", "--pool-min", "0"),
			 0);
	assert_int_equal(cfg.concurrency, 5);
	assert_int_equal(cfg.nrepo_allow, 1);
	assert_string_equal(cfg.repo_allow[0], "git://127.0.0.1:*");
	assert_int_equal(cfg.nrepo_creds, 3);
	assert_string_equal(cfg.repo_creds[1], "git.example.com=x:y");
	assert_false(cfg.redis.is_unix);
	assert_int_equal(cfg.redis.port, 7000);
	assert_int_equal(cfg.repo_max_bytes, 8ull << 20);	/* kept from the file */
	assert_int_equal(cfg.log_level, LOG_WARN);
}

static void test_file_errors(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
		{ "concurrency = 2\nbogus = 1\n", "line 2: unknown key 'bogus'" },
		{ "[nope]\nconcurrency = 2\n", "line 2: unknown section [nope]" },
		{ "help = 1\n", "line 1: unknown key 'help'" },
		{ "config = /x\n", "line 1: unknown key 'config'" },
		{ "concurrency = 0\n", "line 1: --concurrency: 0 is out of range" },
		{ "no-pool = maybe\n", "line 1: no-pool: expected true or false" },
		{ "just a line\n", "line 1: not a [section] or a key = value line" },
		{ "[credentials]\nh = nocolons3cr3t\n", "line 2: --repo-cred h: expected USER:SECRET" },
		{ "repo-cred = h=u:s3cr3t\n[credentials]\nh = @rel\n", "line 3: --repo-cred h: @FILE" },
	};
	struct errmsg err = { "" };
	char *big;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ini(cases[i].text, 0600);
		err.msg[0] = '\0';
		assert_true(PARSE(&cfg, &err, "--config", path) < 0);
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: '%s' not in '%s'", i, cases[i].msg, err.msg);
		assert_null(strstr(err.msg, "s3cr3t"));
		config_free(&cfg);
	}

	/* inline secrets in a file others may read: refused; @files there: fine */
	ini("[credentials]\nh = u:s3cr3t\n", 0644);
	assert_int_equal(PARSE(&cfg, &err, "--config", path), -EPERM);
	assert_non_null(strstr(err.msg, "others may read it"));
	config_free(&cfg);
	ini("repo-cred = h=u:s3cr3t\n", 0604);
	assert_int_equal(PARSE(&cfg, &err, "--config", path), -EPERM);
	config_free(&cfg);
	ini("[credentials]\nh = @/etc/h.cred\n", 0644);
	assert_int_equal(PARSE(&cfg, &err, "--config", path), 0);
	config_free(&cfg);
	ini("[credentials]\nh = u:s3cr3t\n", 0640);	/* a service group may read it */
	assert_int_equal(PARSE(&cfg, &err, "--config", path), 0);
	config_free(&cfg);

	/* a line over the limit, a file over the limit, a missing file, a directory */
	big = malloc(CONFIG_FILE_MAX + 2);
	assert_non_null(big);
	memcpy(big, "repo-allow = ", 13);
	memset(big + 13, 'a', CONFIG_FILE_LINE_MAX);
	big[13 + CONFIG_FILE_LINE_MAX] = '\0';
	ini(big, 0600);
	assert_int_equal(PARSE(&cfg, &err, "--config", path), -EINVAL);
	assert_non_null(strstr(err.msg, "line 1: longer than"));
	config_free(&cfg);
	/* a comment of exactly the limit is read whole (a cut would leave a bad line behind) */
	memset(big, '#', CONFIG_FILE_LINE_MAX);
	memcpy(big + CONFIG_FILE_LINE_MAX, "\nconcurrency = 2\n", 18);
	ini(big, 0600);
	assert_int_equal(PARSE(&cfg, &err, "--config", path), 0);
	assert_int_equal(cfg.concurrency, 2);
	config_free(&cfg);
	memset(big, '#', CONFIG_FILE_MAX + 1);
	big[CONFIG_FILE_MAX + 1] = '\0';
	ini(big, 0600);
	assert_int_equal(PARSE(&cfg, &err, "--config", path), -EFBIG);
	config_free(&cfg);
	/* a long (but allowed) line is parsed whole, not cut at inih's 200-byte default */
	memcpy(big, "repo-allow = git://h/", 21);
	memset(big + 21, 'b', 1000);
	big[1021] = '\0';
	ini(big, 0600);
	assert_int_equal(PARSE(&cfg, &err, "--config", path), 0);
	assert_int_equal(cfg.nrepo_allow, 1);
	assert_int_equal(strlen(cfg.repo_allow[0]), 1008);
	config_free(&cfg);
	free(big);
	assert_int_equal(PARSE(&cfg, &err, "--config", "/nonexistent/corrald.ini"), -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/corrald.ini"));
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, &err, "--config", dir), -EINVAL);
	assert_non_null(strstr(err.msg, "not a regular file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_repo_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repo_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repo_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_templates, setup, teardown),
	};
	int r;

	if (!mkdtemp(dir))
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return r;
}
