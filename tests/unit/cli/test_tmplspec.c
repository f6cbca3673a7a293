/*
 * Unit tests for the pure half of `corral template` (producer-cli/tmplspec.c): create flags →
 * struct wire_template, the messages that name the flag and the field, number/size parsing, and
 * the renderings (text escapes control bytes; JSON is valid even for non-UTF-8 strings).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "jobspec.h"
#include "tmplspec.h"

#define ERR_MAX 4096

static char errbuf[ERR_MAX];

/* Runs create parsing on a NULL-terminated argv with stderr captured into errbuf. */
static int parse(struct tmplspec *spec, char **argv)
{
	char path[] = "/tmp/corral-tmplspec.XXXXXX";
	struct cli cli;
	int fd, saved, argc = 0, r;
	ssize_t n;

	while (argv[argc])
		argc++;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	fflush(stderr);
	saved = dup(2);
	assert_int_equal(dup2(fd, 2), 2);
	cli_init(&cli, "template create");
	r = tmplspec_parse_create(&cli, argc, argv, spec);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, errbuf, sizeof(errbuf) - 1, 0);
	errbuf[n > 0 ? n : 0] = '\0';
	close(fd);
	return r;
}

static void test_create_flags(void **state)
{
	char *argv[] = { "create", "--vcpus", "2", "--memory", "1G", "--disk", "512M", "--pids",
			 "1024", "--timeout", "2.5", "--env", "A=1", "--env", "B=x=y", "--image",
			 "python-data", "py3.11", "--warmup", "", "--allow", "pypi.org", "--allow",
			 "*.pythonhosted.org:443", "--replace", "--redis", "unix:///tmp/x.sock",
			 NULL };
	char *plain[] = { "create", "t", NULL };
	struct tmplspec spec;

	(void)state;
	assert_int_equal(parse(&spec, argv), 0);
	assert_string_equal(spec.t->name, "py3.11");
	assert_int_equal(spec.t->vcpus, 2);
	assert_int_equal(spec.t->memory_mib, 1024);
	assert_int_equal(spec.t->disk_mib, 512);
	assert_int_equal(spec.t->pids_max, 1024);
	assert_int_equal(spec.t->timeout_ms, 2500);
	assert_int_equal(spec.t->envc, 2);
	assert_string_equal(spec.t->env[1], "B=x=y");
	assert_null(spec.t->env[2]);
	assert_string_equal(spec.t->image, "python-data");
	assert_string_equal(spec.t->warmup, "");
	assert_true(spec.t->network);
	assert_int_equal(spec.t->nallow, 2);
	assert_string_equal(spec.t->allow[1], "*.pythonhosted.org:443");
	assert_true(spec.replace);
	tmplspec_free(&spec);
	assert_null(spec.t);

	assert_int_equal(parse(&spec, plain), 0);
	assert_string_equal(spec.t->name, "t");
	assert_false(spec.replace);
	assert_false(spec.t->network);
	assert_int_equal(spec.t->memory_mib, 256);
	assert_string_equal(spec.t->warmup, "python3 -c pass");
	tmplspec_free(&spec);
}

struct bad {
	char *argv[8];
	const char *msg;	/* must appear in stderr */
};

static void test_create_errors(void **state)
{
	static char big_name[80];
	const struct bad cases[] = {
		{ { "create", "t", "--vcpus", "9" }, "invalid template: vcpus: 9 exceeds 8 (--vcpus)" },
		{ { "create", "t", "--vcpus", "0" }, "vcpus: 0 is below 1 (--vcpus)" },
		{ { "create", "t", "--vcpus", "x" }, "--vcpus: 'x' is not a whole number" },
		{ { "create", "t", "--vcpus", "-1" }, "--vcpus: '-1' is not a whole number" },
		{ { "create", "t", "--memory", "100" },
		  "memory_mib: 100 is below 128 (--memory)" },
		{ { "create", "t", "--memory", "1T" }, "--memory: '1T' is not a size in MiB" },
		{ { "create", "t", "--memory", "17G" },
		  "memory_mib: 17408 exceeds 16384 (--memory)" },
		{ { "create", "t", "--disk", "70000" }, "disk_mib: 70000 exceeds 65536 (--disk)" },
		{ { "create", "t", "--pids", "10" }, "pids_max: 10 is below 16 (--pids)" },
		{ { "create", "t", "--timeout", "0" }, "--timeout: '0' is not a number of seconds" },
		{ { "create", "t", "--timeout", "90000" }, "--timeout: '90000' is not a number" },
		{ { "create", "t", "--env", "NOEQ" }, "--env: expected KEY=VALUE, got 'NOEQ'" },
		{ { "create", "t", "--env", "A=1", "--env", "A=2" },
		  "env[1]: duplicate key (--env)" },
		{ { "create", "t", "--allow", "Foo.org" },
		  "allow[0]: 'Foo.org': upper-case letter (patterns are lower-case) (--allow)" },
		{ { "create", "t", "--allow", "*.a.org:0" }, "port must be 1..65535 (--allow)" },
		{ { "create", "t", "--image", "Base" },
		  "image: 'Base' has a character outside [a-z0-9_-] (--image)" },
		{ { "create", "t", "--image", "" }, "image: empty (--image)" },
		{ { "create", "t", "--warmup" }, "--warmup: needs a value" },
		{ { "create", "a/b" },
		  "name: 'a/b' has a character outside [A-Za-z0-9._-] (NAME)" },
		{ { "create", big_name }, "name: 70 bytes, longer than 64 (NAME)" },
		{ { "create", "--vcpus", "2" }, "no NAME given" },
		{ { "create", "a", "b" }, "one NAME only" },
		{ { "create", "a", "--network", "allow" }, "unknown option '--network'" },
		{ { "create", "a", "--redis", "ftp://x" }, "redis" },
	};
	struct tmplspec spec;

	(void)state;
	memset(big_name, 'n', 70);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = parse(&spec, (char **)cases[i].argv);

		tmplspec_free(&spec);
		if (r >= 0)
			fail_msg("case %zu (%s) parsed", i, cases[i].msg);
		if (!strstr(errbuf, cases[i].msg))
			fail_msg("case %zu: stderr '%s' lacks '%s'", i, errbuf, cases[i].msg);
	}
}

static void test_env_allow_counts(void **state)
{
	char *argv[2 + 2 * 65 + 1];
	char items[65][16];
	struct tmplspec spec;
	int n = 0;

	(void)state;
	argv[n++] = "create";
	argv[n++] = "t";
	for (int i = 0; i < 65; i++) {
		snprintf(items[i], sizeof(items[i]), "K%d=v", i);
		argv[n++] = "--env";
		argv[n++] = items[i];
	}
	argv[n] = NULL;
	assert_true(parse(&spec, argv) < 0);
	assert_non_null(strstr(errbuf, "env: more than 64 items (--env)"));
	tmplspec_free(&spec);
	argv[2 + 2 * 64] = NULL;	/* 64 is the limit */
	assert_int_equal(parse(&spec, argv), 0);
	assert_int_equal(spec.t->envc, 64);
	tmplspec_free(&spec);
}

static void test_numbers(void **state)
{
	uint32_t v = 7;

	(void)state;
	assert_int_equal(tmplspec_parse_u32("4294967295", &v), 0);
	assert_int_equal(v, 4294967295u);
	assert_int_equal(tmplspec_parse_u32("4294967296", &v), -EINVAL);
	assert_int_equal(tmplspec_parse_u32("99999999999", &v), -EINVAL);
	assert_int_equal(tmplspec_parse_u32("", &v), -EINVAL);
	assert_int_equal(tmplspec_parse_u32("+1", &v), -EINVAL);
	assert_int_equal(tmplspec_parse_u32("1 ", &v), -EINVAL);
	assert_int_equal(tmplspec_parse_u32("0x10", &v), -EINVAL);
	assert_int_equal(tmplspec_parse_mib("512", &v), 0);
	assert_int_equal(v, 512);
	assert_int_equal(tmplspec_parse_mib("512MiB", &v), 0);
	assert_int_equal(v, 512);
	assert_int_equal(tmplspec_parse_mib("16G", &v), 0);
	assert_int_equal(v, 16384);
	assert_int_equal(tmplspec_parse_mib("2GiB", &v), 0);
	assert_int_equal(v, 2048);
	assert_int_equal(tmplspec_parse_mib("4194304G", &v), -EINVAL);	/* 2^32 MiB */
	assert_int_equal(tmplspec_parse_mib("1k", &v), -EINVAL);
	assert_int_equal(tmplspec_parse_mib("G", &v), -EINVAL);
	assert_int_equal(tmplspec_parse_mib("1.5G", &v), -EINVAL);
}

static struct wire_template *sample(void)
{
	struct wire_template *t = wire_template_new("py");
	char **env = calloc(3, sizeof(*env)), **allow = calloc(2, sizeof(*allow));

	assert_non_null(t);
	env[0] = strdup("A=\x1b[31mred\"q\\");
	env[1] = strdup("B=caf\xc3\xa9 \xff\xfe");
	allow[0] = strdup("*.pypi.org");
	t->env = env;
	t->envc = 2;
	t->allow = allow;
	t->nallow = 1;
	t->network = true;
	t->version = 3;
	t->created_ms = 1767225600123ull;
	return t;
}

static void test_json(void **state)
{
	struct wire_template *t = sample();
	json_error_t jerr;
	json_t *j;
	struct buf out;

	(void)state;
	buf_init(&out, 0);
	assert_int_equal(tmplspec_json(&out, t, false), 0);
	j = json_loadb((const char *)out.data, out.len, 0, &jerr);
	if (!j)
		fail_msg("invalid JSON (%s): %.*s", jerr.text, (int)out.len, (char *)out.data);
	assert_string_equal(json_string_value(json_object_get(j, "name")), "py");
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 3);
	assert_false(json_is_true(json_object_get(j, "builtin")));
	assert_int_equal(json_integer_value(json_object_get(j, "memory_mib")), 256);
	assert_int_equal(json_integer_value(json_object_get(j, "timeout_ms")), 60000);
	assert_int_equal(json_integer_value(json_object_get(j, "created_ms")), 1767225600123ll);
	assert_string_equal(json_string_value(json_object_get(j, "network")), "allow");
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "env"), 0)),
			    "A=\x1b[31mred\"q\\");
	/* invalid UTF-8 becomes U+FFFD, valid UTF-8 stays */
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "env"), 1)),
			    "B=caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "allow"), 0)),
			    "*.pypi.org");
	assert_string_equal(json_string_value(json_object_get(j, "warmup")), "python3 -c pass");
	json_decref(j);
	buf_reset(&out);
	wire_template_free(t);
	t = wire_template_new("default");
	assert_int_equal(tmplspec_json(&out, t, true), 0);
	j = json_loadb((const char *)out.data, out.len, 0, &jerr);
	assert_non_null(j);
	assert_true(json_is_true(json_object_get(j, "builtin")));
	assert_int_equal(json_array_size(json_object_get(j, "allow")), 0);
	json_decref(j);
	buf_free(&out);
	wire_template_free(t);
}

static void test_text(void **state)
{
	struct wire_template *t = sample();
	struct buf out;
	char *s;

	(void)state;
	buf_init(&out, 0);
	assert_int_equal(tmplspec_show_text(&out, t, false), 0);
	assert_int_equal(buf_append(&out, "", 1), 0);
	s = (char *)out.data;
	assert_null(strchr(s, '\x1b'));		/* no terminal escapes get through */
	assert_non_null(strstr(s, "env         A=\\x1b[31mred\"q\\\\\n"));
	assert_non_null(strstr(s, "            B=caf\\xc3\\xa9 \\xff\\xfe\n"));
	assert_non_null(strstr(s, "memory      256 MiB\n"));
	assert_non_null(strstr(s, "network     allow\nallow       *.pypi.org\n"));
	assert_non_null(strstr(s, "created_ms  1767225600123 (2026-01-01T00:00:00Z)\n"));
	buf_reset(&out);
	assert_int_equal(tmplspec_list_header(&out), 0);
	assert_int_equal(tmplspec_list_row(&out, t, false), 0);
	assert_int_equal(tmplspec_list_invalid(&out, "bad\x1b", 4, "vcpus: 9 exceeds 8"), 0);
	assert_int_equal(buf_append(&out, "", 1), 0);
	s = (char *)out.data;
	assert_non_null(strstr(s, "NAME "));
	assert_non_null(strstr(s, "\npy "));
	assert_non_null(strstr(s, " 3 base "));
	assert_non_null(strstr(s, " allow\n"));
	assert_non_null(strstr(s, "bad\\x1b"));
	assert_non_null(strstr(s, "invalid record: vcpus: 9 exceeds 8\n"));
	assert_null(strchr(s, '\x1b'));
	buf_free(&out);
	wire_template_free(t);
}

/* run/submit --template NAME: the name is checked before anything is sent */
static void test_job_template_flag(void **state)
{
	char *ok[] = { "run", "--template", "py3.11_x-y", "--", "true", NULL };
	char *slash[] = { "run", "--template", "a/b", "--", "true", NULL };
	char *empty[] = { "submit", "--template", "", "--", "true", NULL };
	char *space[] = { "submit", "--template", "a b", "--", "true", NULL };
	struct wire_job *job = NULL;
	struct cli cli;

	(void)state;
	cli_init(&cli, "run");
	assert_int_equal(jobspec_parse(&cli, 5, ok, &job), 0);
	assert_string_equal(job->template_name, "py3.11_x-y");
	assert_int_equal(job->timeout_ms, 0);	/* the template's */
	job = wire_job_free(job);
	assert_int_equal(jobspec_parse(&cli, 5, slash, &job), -EINVAL);
	cli_init(&cli, "submit");
	assert_int_equal(jobspec_parse(&cli, 5, empty, &job), -EINVAL);
	assert_int_equal(jobspec_parse(&cli, 5, space, &job), -EINVAL);
	assert_null(job);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_flags),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_env_allow_counts),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_job_template_flag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
