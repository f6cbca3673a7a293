/*
 * Unit tests for vm/agent/limits_calc.c: reading cgroup v2 event counters and naming the limit an
 * exec hit, from the counters alone (no cgroup, no VM). A counter that stays 0 must never give a
 * verdict: a job under its limits is not reported as hitting one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent.h"

#define MIB (1024ull * 1024ull)

static void test_parse_event(void **state)
{
	const char *mem = "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n";
	uint64_t v = 99;

	(void)state;
	assert_int_equal(limits_parse_event(mem, "oom_kill", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(limits_parse_event(mem, "oom", &v), 0);	/* not a prefix match */
	assert_int_equal(v, 3);
	assert_int_equal(limits_parse_event(mem, "max", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(limits_parse_event("max 0\n", "max", &v), 0);	/* pids.events */
	assert_int_equal(v, 0);
	assert_int_equal(limits_parse_event("max 18446744073709551615", "max", &v), 0);
	assert_true(v == UINT64_MAX);
	v = 7;
	assert_int_equal(limits_parse_event("max 18446744073709551616", "max", &v), -ERANGE);
	assert_int_equal(limits_parse_event("oom 1\n", "oom_kill", &v), -ENOENT);
	assert_int_equal(limits_parse_event("", "max", &v), -ENOENT);
	assert_int_equal(limits_parse_event("max \n", "max", &v), -EINVAL);
	assert_int_equal(limits_parse_event("max 1x\n", "max", &v), -EINVAL);
	assert_int_equal(limits_parse_event("max -1\n", "max", &v), -EINVAL);
	assert_int_equal(limits_parse_event("maxi 4\nmax 5", "max", &v), 0);	/* last line, no \n */
	assert_int_equal(v, 5);
}

static void test_disk_full(void **state)
{
	(void)state;
	assert_false(limits_disk_full(0, 0));			/* unknown size */
	assert_true(limits_disk_full(0, 256 * MIB));
	assert_true(limits_disk_full(2 * MIB, 256 * MIB));	/* under 1 % */
	assert_false(limits_disk_full(3 * MIB, 256 * MIB));
	assert_false(limits_disk_full(206 * MIB, 256 * MIB));	/* 50 MiB written */
	/* small layers: at least 64 KiB of slack */
	assert_true(limits_disk_full(64 * 1024, 1 * MIB));
	assert_false(limits_disk_full(64 * 1024 + 4096, 1 * MIB));
}

static void test_verdict(void **state)
{
	struct limits_counters c = { 0 };

	(void)state;
	assert_string_equal(limits_verdict(&c), "");
	/* under every limit: a 100 MiB allocation, 100 processes, 50 MiB written of 256 */
	c.disk_known = true;
	c.disk_total = 256 * MIB;
	c.disk_free = 206 * MIB;
	assert_string_equal(limits_verdict(&c), "");
	c.pids_max_hits = 1;
	assert_string_equal(limits_verdict(&c), "pids");
	c.disk_free = 0;
	assert_string_equal(limits_verdict(&c), "pids");	/* pids before disk */
	c.oom_kill = 1;
	assert_string_equal(limits_verdict(&c), "memory");	/* memory before all */
	c.oom_kill = 0;
	c.pids_max_hits = 0;
	assert_string_equal(limits_verdict(&c), "disk");
	c.disk_known = false;					/* unmeasured: never disk */
	assert_string_equal(limits_verdict(&c), "");
	c.disk_known = false;
	c.thrash_killed = true;					/* killed by the agent */
	assert_string_equal(limits_verdict(&c), "memory");
	c.thrash_killed = false;
	/* every verdict is a name EXIT frames may carry */
	c.oom_kill = 5;
	assert_true(wire_limit_valid(limits_verdict(&c), true));
}

static void test_nproc(void **state)
{
	struct limits_exec with = { .name = "exec-1-1", .procs_fd = -1 };
	struct limits_exec without = { .name = "", .procs_fd = -1 };

	(void)state;
	assert_int_equal(limits_nproc(&with, 0), 0);
	assert_int_equal(limits_nproc(&with, 512), 512 + LIMITS_NPROC_SLACK);
	assert_int_equal(limits_nproc(&without, 512), 512);	/* the rlimit is the only cap */
	assert_int_equal(limits_nproc(NULL, 16), 16);
	assert_int_equal(limits_nproc(&with, UINT32_MAX), UINT32_MAX);
}

static void test_psi(void **state)
{
	const char *psi = "some avg10=1.00 avg60=0.50 avg300=0.10 total=123456\n"
			  "full avg10=0.90 avg60=0.40 avg300=0.05 total=98765\n";
	uint64_t v = 0, t = 0;

	(void)state;
	assert_int_equal(limits_parse_psi_full(psi, &v), 0);
	assert_true(v == 98765);
	assert_int_equal(limits_parse_psi_full("some avg10=0 total=5\n", &v), -ENOENT);
	assert_int_equal(limits_parse_psi_full("full avg10=0\nsome total=5\n", &v), -EINVAL);
	assert_int_equal(limits_parse_psi_full("full total=x\n", &v), -EINVAL);
	assert_int_equal(limits_parse_psi_full("xfull total=3\n", &v), -ENOENT);

	/* stalled ≥ 50 % of each 500 ms for 3 s: thrashing; a calm check resets */
	for (int i = 0; i < 5; i++)
		assert_false(limits_thrash_step(400 * 1000, 500, &t));
	assert_true(limits_thrash_step(250 * 1000, 500, &t));	/* exactly 50 % counts */
	assert_true(t >= LIMITS_THRASH_MS);
	assert_false(limits_thrash_step(100 * 1000, 500, &t));	/* 20 %: calm */
	assert_int_equal(t, 0);
	/* a job working normally at its limit (short stalls) is never judged */
	for (int i = 0; i < 100; i++)
		assert_false(limits_thrash_step(200 * 1000, 500, &t));
	assert_false(limits_thrash_step(0, 0, &t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_event),
		cmocka_unit_test(test_disk_full),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_nproc),
		cmocka_unit_test(test_psi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
