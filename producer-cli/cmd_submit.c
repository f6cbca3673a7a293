/*
 * corral submit: queues a job and prints its id; it does not wait for it.
 */
#include <stdio.h>

#include <hiredis/hiredis.h>

#include "jobspec.h"
#include "verbs.h"

static void usage(void)
{
	printf("Usage: corral submit [OPTIONS] -- CMD [ARGS...]\n"
	       "Queues CMD to run in a fresh microVM and prints the job id. Exit 125 when the job\n"
	       "is invalid (nothing queued). --get REMOTE only collects artefacts: read them with\n"
	       "corral result --json.\n\n" JOBSPEC_USAGE
		       CLI_COMMON_USAGE);
}

int cmd_submit(int argc, char **argv)
{
	char entry[JOBSPEC_ENTRY_ID_MAX + 1], id[WIRE_ID_MAX + 1];
	struct wire_job *job = NULL;
	redisContext *ctx = NULL;
	struct cli cli;
	int r, rc;

	cli_init(&cli, "submit");
	r = jobspec_parse(&cli, argc, argv, &job);
	if (r == CLI_OPT_HELP) {
		usage();
		return 0;
	}
	if (r < 0) {	/* bad flag, missing --put file, files over the cap: nothing queued */
		cli_free(&cli);
		return CLI_EXIT_CORRAL;
	}
	rc = 1;
	ctx = cli_connect(&cli, false);
	if (!ctx)
		goto out;
	r = jobspec_submit(&cli, ctx, job, entry, id);
	if (r < 0)
		goto out;
	if (r == 1)
		fprintf(stderr, "corral submit: idempotency key %s: job %s was submitted before\n",
			cli.idem_key, id);
	printf("%s\n", id);
	rc = 0;
out:
	if (ctx)
		redisFree(ctx);
	wire_job_free(job);
	cli_free(&cli);
	return rc;
}
