/*
 * Unit tests for worker/budget.c (the memory/vCPU budget: /proc/meminfo parsing, defaults,
 * charging, how many VMs fit) and worker/latency.c (job latency histograms from timings).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "budget.h"
#include "latency.h"

static void test_meminfo(void **state)
{
	static const char good[] = "MemFree:         1000 kB\nMemTotal:       24576000 kB\n";
	static const char *const bad[] = {
		"", "MemFree: 5 kB\n", "MemTotal: kB\n", "MemTotal:  12 MB\n", "MemTotal: 0 kB\n",
		"MemTotal:  99999999999999999999999 kB\n", "MemTotal:12",
	};
	uint64_t kib = 0;

	(void)state;
	assert_int_equal(budget_parse_meminfo(good, sizeof(good) - 1, &kib), 0);
	assert_int_equal(kib, 24576000);
	/* the length bounds the read: a cut text has no MemTotal */
	assert_int_equal(budget_parse_meminfo(good, 30, &kib), -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(budget_parse_meminfo(bad[i], strlen(bad[i]), &kib), -EINVAL);
}

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(budget_default_mem_mib(24576000), 18000);	/* 75 % of 24000 MiB */
	assert_int_equal(budget_default_mem_mib(100), 1);
	assert_int_equal(budget_default_cpus(2), 8);
	assert_int_equal(budget_default_cpus(0), 4);
}

static void test_fits(void **state)
{
	struct budget b;
	struct budget_vm small = { .mem_mib = 256, .vcpus = 1 }, big = { .mem_mib = 512, .vcpus = 2 };

	(void)state;
	budget_init(&b, 1024, 3);
	assert_true(budget_fits(&b, 0, 0, small));
	assert_int_equal(budget_count(&b, 0, 0, small, 100), 3);	/* vCPUs bind: 3 */
	assert_int_equal(budget_count(&b, 0, 0, big, 100), 1);		/* 2 MiB-wise, 1 CPU-wise */
	assert_int_equal(budget_count(&b, 0, 0, small, 2), 2);		/* capped */
	budget_charge(&b, big);
	assert_false(budget_fits(&b, 0, 0, big));
	assert_true(budget_fits(&b, 0, 0, small));
	assert_true(budget_fits(&b, 256, 0, small));			/* 256 left */
	assert_false(budget_fits(&b, 512, 0, small));			/* pools hold the rest */
	assert_int_equal(budget_count(&b, 256, 0, small, 100), 1);
	assert_false(budget_fits(&b, 0, 1, small));			/* no vCPU left */
	budget_charge(&b, small);
	assert_int_equal(budget_count(&b, 0, 0, small, 100), 0);
	budget_uncharge(&b, big);
	budget_uncharge(&b, small);
	assert_int_equal(b.job_mem_mib, 0);
	assert_int_equal(b.job_cpus, 0);
	budget_uncharge(&b, big);					/* clamped, not wrapped */
	assert_int_equal(b.job_mem_mib, 0);
	assert_int_equal(budget_count(&b, 0, 0, small, 100), 3);
	/* a budget smaller than one VM never fits it */
	budget_init(&b, 200, 8);
	assert_false(budget_fits(&b, 0, 0, small));
	assert_int_equal(budget_count(&b, 5000, 50, small, 10), 0);	/* over-held: 0, no wrap */
}

static void test_latency(void **state)
{
	static struct latency l;
	struct wire_timings t = { .queued_ms = 1000, .claimed_ms = 1004, .vm_ms = 1040,
				  .started_ms = 1100, .first_output_ms = 1400, .exited_ms = 3000,
				  .written_ms = 3010 };
	static char out[16384];
	size_t n;

	(void)state;
	memset(&l, 0, sizeof(l));
	latency_observe(&l, &t);
	assert_int_equal(l.h[0].b[0], 1);	/* queued 4 ms: ≤ 5 ms */
	assert_int_equal(l.h[1].b[3], 1);	/* vm 36 ms: ≤ 50 ms */
	assert_int_equal(l.h[5].b[8], 1);	/* total 2010 ms: ≤ 2.5 s */
	t = (struct wire_timings){ .queued_ms = 1000, .claimed_ms = 2000, .written_ms = 100000 };
	latency_observe(&l, &t);	/* no VM: only queued and total; total above 60 s */
	assert_int_equal(l.h[1].count, 1);
	assert_int_equal(l.h[5].b[LATENCY_BUCKETS], 1);
	assert_int_equal(l.h[5].count, 2);
	n = latency_render(&l, out, sizeof(out));
	assert_true(n > 0 && n < sizeof(out));
	assert_non_null(strstr(out, "# TYPE corral_job_latency_seconds histogram\n"));
	assert_non_null(strstr(out, "corral_job_latency_seconds_bucket{phase=\"queued\",le=\"0.005\"} 1\n"));
	assert_non_null(strstr(out, "corral_job_latency_seconds_bucket{phase=\"total\",le=\"60\"} 1\n"));
	assert_non_null(strstr(out, "corral_job_latency_seconds_bucket{phase=\"total\",le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(out, "corral_job_latency_seconds_count{phase=\"first_output\"} 1\n"));
	/* a small buffer is cut cleanly */
	n = latency_render(&l, out, 100);
	assert_true(n < 100);
	assert_int_equal(strlen(out), n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_fits),
		cmocka_unit_test(test_latency),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
