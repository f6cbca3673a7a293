/*
 * Unit tests for worker/tmpl_resolve.c: a job's effective settings from its template (image,
 * size, limits, timeout: the job's when set), env merging (the job's value wins per key), the
 * built-in templates, the exec memory limit and the VM-level pool name.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tmpl_resolve.h"

static void test_effective(void **state)
{
	struct wire_template *t = wire_template_new("big");
	struct wire_job *j = wire_job_new();
	struct tmpl_eff e;

	(void)state;
	assert_non_null(t);
	assert_non_null(j);
	t->vcpus = 2;
	t->memory_mib = 512;
	t->disk_mib = 64;
	t->pids_max = 100;
	t->timeout_ms = 3000;
	t->network = true;
	snprintf(t->image, sizeof(t->image), "python-data");
	j->timeout_ms = 0;
	j->image[0] = '\0';
	tmpl_effective(t, j, &e);
	assert_string_equal(e.image, "python-data");
	assert_int_equal(e.vcpus, 2);
	assert_int_equal(e.memory_mib, 512);
	assert_int_equal(e.disk_mib, 64);
	assert_int_equal(e.pids_max, 100);
	assert_int_equal(e.timeout_ms, 3000);	/* the job has none: the template's */
	assert_true(e.network);
	j->timeout_ms = 60000;
	snprintf(j->image, sizeof(j->image), "build");
	tmpl_effective(t, j, &e);
	assert_int_equal(e.timeout_ms, 60000);	/* the job's wins */
	assert_string_equal(e.image, "build");
	wire_template_free(t);
	wire_job_free(j);
}

static void test_env(void **state)
{
	char *tenv[] = { "A=t", "B=t", "PATH=/t", NULL };
	char *jenv[] = { "B=j", "C=j", NULL };
	char *jb[] = { "PATHX=1", NULL };
	char **out;
	size_t n;

	(void)state;
	assert_int_equal(tmpl_merge_env(tenv, 3, jenv, 2, &out, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(out[0], "A=t");
	assert_string_equal(out[1], "PATH=/t");
	assert_string_equal(out[2], "B=j");
	assert_string_equal(out[3], "C=j");
	assert_null(out[4]);
	tmpl_env_free(out, n);
	/* a key that is a prefix of another is not the same key */
	assert_int_equal(tmpl_merge_env(tenv, 3, jb, 1, &out, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(out[2], "PATH=/t");
	tmpl_env_free(out, n);
	assert_int_equal(tmpl_merge_env(NULL, 0, NULL, 0, &out, &n), 0);
	assert_null(out);
	assert_int_equal(n, 0);
	assert_int_equal(tmpl_merge_env(tenv, 3, NULL, 0, &out, &n), 0);
	assert_int_equal(n, 3);
	tmpl_env_free(out, n);
	assert_int_equal(tmpl_merge_env(tenv, TMPL_ENV_MAX, jenv, 1, &out, &n), -E2BIG);
}

static void test_builtin(void **state)
{
	struct wire_template *t;

	(void)state;
	t = tmpl_builtin("default", false);
	assert_non_null(t);
	assert_string_equal(t->image, "base");
	assert_int_equal(t->vcpus, 1);
	assert_int_equal(t->memory_mib, 256);
	assert_int_equal(t->timeout_ms, WIRE_TIMEOUT_MS_DEFAULT);
	assert_string_equal(t->warmup, WIRE_TEMPLATE_WARMUP_DEFAULT);
	wire_template_free(t);
	assert_null(tmpl_builtin("python-data", false));	/* no record, not sugar: none */
	t = tmpl_builtin("python-data", true);
	assert_non_null(t);
	assert_string_equal(t->image, "python-data");
	assert_string_equal(t->name, "python-data");
	wire_template_free(t);
}

static void test_limits_names(void **state)
{
	char n[33];

	(void)state;
	assert_int_equal(tmpl_mem_max_bytes(256), (uint64_t)(256 - 48) << 20);
	assert_int_equal(tmpl_mem_max_bytes(512), (uint64_t)(512 - 48) << 20);
	assert_int_equal(tmpl_mem_max_bytes(80), (uint64_t)40 << 20);	/* at least half */
	tmpl_vm_name("default", n);
	assert_string_equal(n, "default");
	tmpl_vm_name("python-data", n);
	assert_string_equal(n, "python-data");
	tmpl_vm_name("Py.3", n);	/* changed: lower-cased, '.' → '-', plus a hash */
	assert_int_equal(strncmp(n, "py-3-", 5), 0);
	assert_int_equal(strlen(n), 13);
	{
		char m[33];

		tmpl_vm_name("py.3", m);	/* differs from "Py.3": different hash */
		assert_string_not_equal(n, m);
	}
	tmpl_vm_name("a123456789012345678901234567890123456789012345678901234567890123", n);
	assert_int_equal(strlen(n), 32);
	assert_int_equal(strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789_-"), 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_effective),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_builtin),
		cmocka_unit_test(test_limits_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
