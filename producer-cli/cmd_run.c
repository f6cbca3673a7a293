/*
 * corral run: submits a job, streams its stdout/stderr as they are produced, and exits with the
 * job's exit code (outcome.h). It subscribes to the job's channel before XADDing the job, so no
 * message can slip past. Ctrl-C detaches: the job keeps running (`corral logs ID` follows it).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "follow.h"
#include "jobspec.h"
#include "outcome.h"
#include "verbs.h"
#include "xfer.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void usage(void)
{
	printf("Usage: corral run [OPTIONS] -- CMD [ARGS...]\n"
	       "Runs CMD in a fresh microVM, streams its output, exits with its exit code:\n"
	       "the job's code; 128+N when killed by signal N; 124 when it timed out; 125 when\n"
	       "Corral could not run it (the reason goes to stderr). Ctrl-C detaches.\n\n" JOBSPEC_USAGE
		       CLI_COMMON_USAGE);
}

static int finish(struct cli *cli, struct follow *f, const char *id)
{
	struct wire_result res;
	char note[512];
	int r, rc;

	r = result_fetch(cli, follow_cmd(f), id, &res);
	if (r < 0)
		return CLI_EXIT_CORRAL;
	if (r == 0) {
		/* the final event came, the record did not (expired at once?): use the event */
		memset(&res, 0, sizeof(res));
		snprintf(res.id, sizeof(res.id), "%s", id);
		res.state = f->final_state;
		snprintf(res.reason, sizeof(res.reason), "%s", f->final_reason);
	}
	if (outcome_note(&res, note, sizeof(note)))
		fprintf(stderr, "corral: %s\n", note);
	rc = outcome_exit_code(&res);
	if (cli->ngets && res.state != WIRE_STATE_DEAD && res.state != WIRE_STATE_CANCELLED &&
	    xfer_save(cli, &res, stderr) < 0 && rc == 0)
		rc = CLI_EXIT_CORRAL;	/* the job worked; saving its files did not */
	wire_result_clear(&res);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct sigaction sa;
	char entry[JOBSPEC_ENTRY_ID_MAX + 1], id[WIRE_ID_MAX + 1];
	struct wire_job *job = NULL;
	struct follow f = { 0 };
	struct cli cli;
	int r, rc;

	cli_init(&cli, "run");
	r = jobspec_parse(&cli, argc, argv, &job);
	if (r == CLI_OPT_HELP) {
		usage();
		return 0;
	}
	if (r < 0) {
		cli_free(&cli);
		return CLI_EXIT_CORRAL;
	}
	rc = CLI_EXIT_CORRAL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;	/* no SA_RESTART: poll() returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	if (follow_open(&f, &cli, job->id) < 0)
		goto out;
	f.interrupted = &interrupted;
	r = jobspec_submit(&cli, follow_cmd(&f), job, entry, id);
	if (r < 0)
		goto out;
	if (r == 1) {	/* submitted before under the idempotency key: follow that job */
		fprintf(stderr, "corral: idempotency key %s: following job %s\n", cli.idem_key, id);
		follow_close(&f);
		memset(&f, 0, sizeof(f));
		if (follow_open(&f, &cli, id) < 0)
			goto out;
		f.interrupted = &interrupted;
		snprintf(job->id, sizeof(job->id), "%s", id);
	}
	r = follow_run(&f);
	if (r == -EINTR) {
		fprintf(stderr, "corral: detached; job %s keeps running (corral logs %s)\n", job->id,
			job->id);
		rc = CLI_EXIT_DETACHED;
		goto out;
	}
	if (r < 0)
		goto out;
	rc = finish(&cli, &f, job->id);
out:
	follow_close(&f);
	wire_job_free(job);
	cli_free(&cli);
	return rc;
}
