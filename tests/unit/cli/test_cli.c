/*
 * Unit tests for the pure parts of the corral CLI: job flags → wire_job (producer-cli/jobspec.c)
 * and result → exit code and note (producer-cli/outcome.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jobspec.h"
#include "outcome.h"

static void test_seconds_and_sizes(void **state)
{
	uint32_t ms;
	uint64_t b;

	(void)state;
	assert_int_equal(jobspec_parse_seconds("2", &ms), 0);
	assert_int_equal(ms, 2000);
	assert_int_equal(jobspec_parse_seconds("1.5", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(jobspec_parse_seconds("0.0001", &ms), 0);
	assert_int_equal(ms, 1);
	assert_int_equal(jobspec_parse_seconds("86400", &ms), 0);
	assert_int_equal(jobspec_parse_seconds("86400.5", &ms), -EINVAL);
	assert_int_equal(jobspec_parse_seconds("0", &ms), -EINVAL);
	assert_int_equal(jobspec_parse_seconds("-1", &ms), -EINVAL);
	assert_int_equal(jobspec_parse_seconds("2s", &ms), -EINVAL);
	assert_int_equal(jobspec_parse_seconds("nan", &ms), -EINVAL);
	assert_int_equal(jobspec_parse_seconds("", &ms), -EINVAL);
	assert_int_equal(jobspec_parse_size("100", &b), 0);
	assert_int_equal(b, 100);
	assert_int_equal(jobspec_parse_size("64k", &b), 0);
	assert_int_equal(b, 65536);
	assert_int_equal(jobspec_parse_size("2MiB", &b), 0);
	assert_int_equal(b, 2 * 1024 * 1024);
	assert_int_equal(jobspec_parse_size("1G", &b), 0);
	assert_int_equal(jobspec_parse_size("1x", &b), -EINVAL);
	assert_int_equal(jobspec_parse_size("-1", &b), -EINVAL);
	assert_int_equal(jobspec_parse_size("k", &b), -EINVAL);
	assert_int_equal(jobspec_parse_size("99999999999999999999", &b), -EINVAL);
}

static void test_parse_job(void **state)
{
	char *argv[] = { "run", "--timeout", "2.5", "--env", "A=1", "--env", "B=x=y", "--cwd",
			 "/tmp", "--output-max", "1k", "--id", "job-1", "--redis",
			 "unix:///tmp/x.sock", "--", "sh", "-c", "echo $A", NULL };
	struct wire_job *job = NULL;
	struct cli cli;

	(void)state;
	cli_init(&cli, "run");
	assert_int_equal(jobspec_parse(&cli, 19, argv, &job), 0);
	assert_non_null(job);
	assert_string_equal(job->id, "job-1");
	assert_int_equal(job->timeout_ms, 2500);
	assert_int_equal(job->envc, 2);
	assert_string_equal(job->env[0], "A=1");
	assert_string_equal(job->env[1], "B=x=y");
	assert_null(job->env[2]);
	assert_string_equal(job->cwd, "/tmp");
	assert_int_equal(job->output_max, 1024);
	assert_int_equal(job->argc, 3);
	assert_string_equal(job->argv[0], "sh");
	assert_string_equal(job->argv[2], "echo $A");
	assert_null(job->argv[3]);
	assert_true(cli.addr.is_unix);
	assert_string_equal(cli.keys.jobs, "corral:{q}:jobs");
	job = wire_job_free(job);
}

static void test_parse_job_defaults_and_errors(void **state)
{
	char *plain[] = { "submit", "echo", "-n", "hi", NULL };
	char *noenv[] = { "run", "--env", "NOEQUALS", "--", "true", NULL };
	char *nocmd[] = { "run", "--timeout", "3", NULL };
	char *badid[] = { "run", "--id", "a/b", "--", "true", NULL };
	char *help[] = { "run", "--help", NULL };
	struct wire_job *job = NULL;
	struct cli cli;

	(void)state;
	cli_init(&cli, "submit");
	assert_int_equal(jobspec_parse(&cli, 4, plain, &job), 0);
	assert_int_equal(strlen(job->id), 32);	/* random hex id */
	assert_int_equal(job->argc, 3);
	assert_string_equal(job->argv[1], "-n");	/* options after the command are its own */
	assert_int_equal(job->timeout_ms, WIRE_TIMEOUT_MS_DEFAULT);
	assert_null(job->cwd);
	job = wire_job_free(job);
	cli_init(&cli, "run");
	assert_int_equal(jobspec_parse(&cli, 5, noenv, &job), -EINVAL);
	assert_int_equal(jobspec_parse(&cli, 3, nocmd, &job), -EINVAL);
	assert_int_equal(jobspec_parse(&cli, 5, badid, &job), -EINVAL);
	assert_int_equal(jobspec_parse(&cli, 2, help, &job), CLI_OPT_HELP);
	assert_null(job);
}

static void test_idempotency_flags(void **state)
{
	char *ok[] = { "submit", "--idempotency-key", "order:42.a-b", "--idempotency-ttl", "60",
		       "--", "true", NULL };
	char *badkey[] = { "submit", "--idempotency-key", "a b", "--", "true", NULL };
	char *badttl[] = { "submit", "--idempotency-key", "k", "--idempotency-ttl", "0", "--",
			   "true", NULL };
	struct wire_job *job = NULL;
	struct cli cli;

	(void)state;
	cli_init(&cli, "submit");
	assert_string_equal(cli.idem_key, "");
	assert_int_equal(jobspec_parse(&cli, 7, ok, &job), 0);
	assert_string_equal(cli.idem_key, "order:42.a-b");
	assert_int_equal(cli.idem_ttl_s, 60);
	job = wire_job_free(job);
	cli_init(&cli, "submit");
	assert_int_equal(jobspec_parse(&cli, 5, badkey, &job), -EINVAL);
	assert_int_equal(jobspec_parse(&cli, 7, badttl, &job), -EINVAL);
	assert_null(job);
}

static void test_exit_codes(void **state)
{
	struct wire_result r;
	char note[256];

	(void)state;
	memset(&r, 0, sizeof(r));
	strcpy(r.id, "j");
	r.state = WIRE_STATE_SUCCEEDED;
	r.has_exit_code = true;
	assert_int_equal(outcome_exit_code(&r), 0);
	assert_null(outcome_note(&r, note, sizeof(note)));
	r.state = WIRE_STATE_FAILED;
	r.exit_code = 3;
	assert_int_equal(outcome_exit_code(&r), 3);
	assert_null(outcome_note(&r, note, sizeof(note)));
	r.has_exit_code = false;
	r.signal = 9;
	strcpy(r.reason, "killed by signal 9");
	assert_int_equal(outcome_exit_code(&r), 137);
	assert_non_null(outcome_note(&r, note, sizeof(note)));
	r.signal = 0;
	r.truncated = true;
	strcpy(r.reason, "output limit 10 bytes exceeded");
	assert_int_equal(outcome_exit_code(&r), 125);
	assert_string_equal(outcome_note(&r, note, sizeof(note)),
			    "job j failed: output limit 10 bytes exceeded");
	r.truncated = false;
	r.state = WIRE_STATE_TIMED_OUT;
	strcpy(r.reason, "timeout 2000 ms");
	assert_int_equal(outcome_exit_code(&r), 124);
	assert_string_equal(outcome_note(&r, note, sizeof(note)), "job j timed_out: timeout 2000 ms");
	r.state = WIRE_STATE_DEAD;
	assert_int_equal(outcome_exit_code(&r), 125);
	r.state = WIRE_STATE_CANCELLED;
	assert_int_equal(outcome_exit_code(&r), 125);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seconds_and_sizes),
		cmocka_unit_test(test_parse_job),
		cmocka_unit_test(test_parse_job_defaults_and_errors),
		cmocka_unit_test(test_idempotency_flags),
		cmocka_unit_test(test_exit_codes),
	};

	unsetenv("CORRAL_REDIS");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
