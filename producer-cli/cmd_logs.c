/*
 * corral logs: replays a job's output stream, then (unless --no-follow) follows it live until
 * the final event. Exit 0; 1 when --no-follow finds nothing for the job; 2 on usage errors.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "follow.h"
#include "verbs.h"

enum { OPT_NO_FOLLOW = 1 };

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void usage(void)
{
	printf("Usage: corral logs [OPTIONS] ID\n"
	       "Prints the output of job ID so far, then follows it until the job ends.\n\n"
	       "  --no-follow      print what is there now and exit\n" CLI_COMMON_USAGE);
}

int cmd_logs(int argc, char **argv)
{
	static const struct option options[] = {
		{ "no-follow", no_argument, NULL, OPT_NO_FOLLOW },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct follow f = { 0 };
	struct sigaction sa;
	bool follow = true;
	struct cli cli;
	const char *id;
	int opt, r, rc;

	cli_init(&cli, "logs");
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		r = cli_common_opt(&cli, opt, optarg);
		if (r == CLI_OPT_HELP) {
			usage();
			return 0;
		}
		if (r == 1)
			continue;
		if (opt == OPT_NO_FOLLOW) {
			follow = false;
			continue;
		}
		cli_err(&cli, "bad option '%.40s' (see corral logs --help)", argv[optind - 1]);
		return CLI_EXIT_USAGE;
	}
	if (optind != argc - 1) {
		cli_err(&cli, "expected one job id (see corral logs --help)");
		return CLI_EXIT_USAGE;
	}
	id = argv[optind];
	if (!wire_id_valid(id, strlen(id))) {
		cli_err(&cli, "'%.80s' is not a job id", id);
		return CLI_EXIT_USAGE;
	}
	if (cli_finish(&cli) < 0)
		return CLI_EXIT_USAGE;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	rc = CLI_EXIT_CORRAL;
	if (follow_open(&f, &cli, id) < 0)
		goto out;
	f.interrupted = &interrupted;
	f.quiet_attempts = false;
	if (!follow) {
		r = follow_replay(&f);
		if (r == 0)
			rc = f.attempt ? 0 : 1;
		if (rc == 1)
			cli_err(&cli, "no output for job %s (yet)", id);
		goto out;
	}
	r = follow_run(&f);
	if (r == -EINTR)
		rc = CLI_EXIT_DETACHED;
	else if (r == 0)
		rc = 0;
out:
	follow_close(&f);
	return rc;
}
