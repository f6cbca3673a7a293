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

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jobspec.h"
#include "outcome.h"
#include "xfer.h"

static char tdir[64];

static void mkfile(const char *name, size_t size, mode_t mode, char *path, size_t n)
{
	FILE *f;

	snprintf(path, n, "%s/%s", tdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < size; i++)
		fputc((int)(i % 251), f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static int tdir_setup(void **state)
{
	strcpy(tdir, "/tmp/corral-cli.XXXXXX");
	return mkdtemp(tdir) ? 0 : -1;
}

static int tdir_teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_put_get_flags(void **state)
{
	char a[128], b[128], big[128], put1[160], put2[160], put3[160], get1[160], get2[160];
	struct wire_job *job = NULL;
	struct cli cli;
	struct errmsg e;
	struct buf enc;

	mkfile("a.txt", 10, 0644, a, sizeof(a));
	mkfile("run.sh", 3, 0755, b, sizeof(b));
	snprintf(put1, sizeof(put1), "%s:/tmp/in/a.txt", a);
	snprintf(put2, sizeof(put2), "%s:bin/", b);		/* relative + dir: keeps the name */
	snprintf(get1, sizeof(get1), "out/*.txt:%s/res", tdir);
	snprintf(get2, sizeof(get2), "/tmp/one.bin:%s/one", tdir);
	{
		char *argv[] = { "run", "--put", put1, "--put", put2, "--get", get1, "--get", get2,
				 "--get", get1, "--artefacts-max", "1M", "--repo",
				 "https://example.org/x.git", "--ref", "v1.2", "--depth", "1",
				 "--subdir", "src", "--image", "python-data", "--", "sh", "run.sh",
				 NULL };

		cli_init(&cli, "run");
		assert_int_equal(jobspec_parse(&cli, 25, argv, &job), 0);
	}
	assert_int_equal(job->nfiles, 2);
	assert_string_equal(job->files[0].path, "/tmp/in/a.txt");
	assert_int_equal(job->files[0].mode, 0644);
	assert_int_equal(job->files[0].len, 10);
	assert_int_equal(job->files[0].data[9], 9);
	assert_string_equal(job->files[1].path, "/home/corral/bin/run.sh");
	assert_int_equal(job->files[1].mode, 0755);
	assert_int_equal(job->noutputs, 2);		/* the repeated --get is one output */
	assert_string_equal(job->outputs[0], "/home/corral/out/*.txt");
	assert_string_equal(job->outputs[1], "/tmp/one.bin");
	assert_null(job->outputs[2]);
	assert_int_equal(cli.ngets, 3);
	assert_true(cli.gets[0].local_dir);		/* a glob: LOCAL is a directory */
	assert_false(cli.gets[1].local_dir);
	assert_true(xfer_matches(&cli.gets[0], "/home/corral/out/x.txt"));
	assert_false(xfer_matches(&cli.gets[0], "/home/corral/out/.hidden.txt"));
	assert_false(xfer_matches(&cli.gets[0], "/home/corral/out/sub/x.txt"));
	assert_true(xfer_matches(&cli.gets[1], "/tmp/one.bin"));
	assert_false(xfer_matches(&cli.gets[1], "/tmp/one.bin2"));
	assert_int_equal(job->artefacts_max, 1024 * 1024);
	assert_string_equal(job->repo->url, "https://example.org/x.git");
	assert_string_equal(job->repo->ref, "v1.2");
	assert_int_equal(job->repo->depth, 1);
	assert_string_equal(job->repo->subdir, "src");
	assert_string_equal(job->image, "python-data");
	buf_init(&enc, 0);
	assert_int_equal(wire_job_encode(job, &enc, &e), 0);	/* what the CLI builds is valid */
	buf_free(&enc);
	job = wire_job_free(job);
	cli_free(&cli);

	/* --repo alone: defaults */
	{
		char *argv[] = { "submit", "--repo", "https://e/x.git", "--", "make", NULL };

		cli_init(&cli, "submit");
		assert_int_equal(jobspec_parse(&cli, 5, argv, &job), 0);
		assert_string_equal(job->repo->ref, "HEAD");
		assert_string_equal(job->repo->subdir, "repo");
		job = wire_job_free(job);
		cli_free(&cli);
	}
	/* submit accepts --get REMOTE without LOCAL (collect only); run needs LOCAL */
	{
		char *argv[] = { "submit", "--get", "/tmp/x", "--", "true", NULL };

		cli_init(&cli, "submit");
		assert_int_equal(jobspec_parse(&cli, 5, argv, &job), 0);
		assert_null(cli.gets[0].local);
		job = wire_job_free(job);
		cli_free(&cli);
		argv[0] = "run";
		cli_init(&cli, "run");
		assert_int_equal(jobspec_parse(&cli, 5, argv, &job), -EINVAL);
		cli_free(&cli);
	}
	/* the 768 KiB total */
	mkfile("big", 500 * 1024, 0600, big, sizeof(big));
	snprintf(put1, sizeof(put1), "%s:/tmp/b1", big);
	snprintf(put2, sizeof(put2), "%s:/tmp/b2", big);
	{
		char *argv[] = { "run", "--put", put1, "--put", put2, "--", "true", NULL };

		cli_init(&cli, "run");
		assert_int_equal(jobspec_parse(&cli, 7, argv, &job), -EFBIG);
		assert_null(job);
		cli_free(&cli);
	}
	(void)put3;
}

static void test_put_get_errors(void **state)
{
	static const char *const bad[][3] = {
		{ "--put", "/nonexistent/file:/tmp/x", NULL },	/* missing local file */
		{ "--put", "nocolon", NULL },
		{ "--put", ":/tmp/x", NULL },
		{ "--put", "/etc/hostname:", NULL },
		{ "--put", "/tmp:/tmp/x", NULL },		/* a directory */
		{ "--put", "/etc/hostname:/tmp/../etc/x", NULL },
		{ "--put", "/etc/hostname:.", NULL },
		{ "--get", "/tmp/x", NULL },			/* run: LOCAL needed */
		{ "--get", "/tmp/../x:y", NULL },
		{ "--get", ":y", NULL },
		{ "--ref", "main", NULL },			/* needs --repo */
		{ "--repo", "", NULL },
		{ "--ref", "a..b", NULL },
		{ "--subdir", "/abs", NULL },
		{ "--depth", "-1", NULL },
		{ "--depth", "x", NULL },
		{ "--image", "Base", NULL },
		{ "--image", "", NULL },
		{ "--artefacts-max", "33M", NULL },
		{ "--artefacts-max", "lots", NULL },
	};
	struct wire_job *job = NULL;
	struct cli cli;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { "run", (char *)bad[i][0], (char *)bad[i][1], "--", "true", NULL };

		cli_init(&cli, "run");
		if (jobspec_parse(&cli, 5, argv, &job) >= 0)
			fail_msg("accepted %s %s", bad[i][0], bad[i][1]);
		assert_null(job);
		cli_free(&cli);
	}
}

static void test_save_artefacts(void **state)
{
	char g1[160], g2[160], g3[160], path[200], got[32];
	struct wire_artefact arts[3] = {
		{ .path = "/home/corral/out/a.txt", .size = 3, .mode = 0755,
		  .data = (uint8_t *)"abc", .len = 3 },
		{ .path = "/home/corral/out/b.txt", .size = 10, .mode = 04755,
		  .data = (uint8_t *)"0123", .len = 4, .truncated = true },
		{ .path = "/tmp/one", .size = 2, .mode = 0600, .data = (uint8_t *)"hi", .len = 2 },
	};
	struct wire_result res = { .state = WIRE_STATE_SUCCEEDED, .artefacts = arts,
				   .nartefacts = 3 };
	struct wire_job *job = NULL;
	struct stat st;
	struct cli cli;
	FILE *warn = tmpfile();
	char wbuf[512] = "";
	int fd;

	snprintf(g1, sizeof(g1), "out/*.txt:%s/got", tdir);
	snprintf(g2, sizeof(g2), "/tmp/one:%s/one.local", tdir);
	snprintf(g3, sizeof(g3), "/tmp/missing:%s/dir/", tdir);
	{
		char *argv[] = { "run", "--get", g1, "--get", g2, "--get", g3, "--", "true", NULL };

		cli_init(&cli, "run");
		assert_int_equal(jobspec_parse(&cli, 9, argv, &job), 0);
	}
	assert_int_equal(xfer_save(&cli, &res, warn), 0);
	snprintf(path, sizeof(path), "%s/got/a.txt", tdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	snprintf(path, sizeof(path), "%s/got/b.txt", tdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 4);
	assert_int_equal(st.st_mode & 07777, 0755);	/* set-uid bit dropped */
	snprintf(path, sizeof(path), "%s/one.local", tdir);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, got, sizeof(got)), 2);
	close(fd);
	assert_memory_equal(got, "hi", 2);
	rewind(warn);
	assert_true(fread(wbuf, 1, sizeof(wbuf) - 1, warn) > 0);
	assert_non_null(strstr(wbuf, "b.txt truncated: saved 4 of 10 bytes"));
	assert_non_null(strstr(wbuf, "--get /tmp/missing matched no file"));
	fclose(warn);
	wire_job_free(job);
	cli_free(&cli);
}

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
	assert_int_equal(job->timeout_ms, 0);	/* the template's */
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
		cmocka_unit_test_setup_teardown(test_put_get_flags, tdir_setup, tdir_teardown),
		cmocka_unit_test(test_put_get_errors),
		cmocka_unit_test_setup_teardown(test_save_artefacts, tdir_setup, tdir_teardown),
	};

	unsetenv("CORRAL_REDIS");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
