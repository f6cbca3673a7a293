/*
 * corral: the command-line client. Dispatches to one verb per file (verbs.h); knows nothing
 * else. `corral --help` lists the verbs, `corral VERB --help` explains one.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "verbs.h"

#ifndef CORRAL_VERSION
#define CORRAL_VERSION "0"
#endif

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *what;
} verbs[] = {
	{ "run", cmd_run, "run a command in a fresh microVM, stream its output, exit with its code" },
	{ "submit", cmd_submit, "queue a command, print the job id" },
	{ "logs", cmd_logs, "replay and follow a job's output" },
	{ "result", cmd_result, "print a job's result record (--json)" },
	{ "cancel", cmd_cancel, "cancel a queued or running job" },
	{ "workers", cmd_workers, "list live workers" },
	{ "queue", cmd_queue, "show queue depth, pending, lag, dead letters" },
	{ "template", cmd_template, "create, list, show, delete VM templates" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: corral VERB [OPTIONS] ...\n"
		   "Runs untrusted code in microVMs through Redis.\n\nVerbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].what);
	fprintf(f, "\n`corral VERB --help` for its options. Redis: --redis ADDR or $CORRAL_REDIS.\n");
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		if (argc > 2 && strcmp(argv[1], "help") == 0)
			for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
				if (!strcmp(argv[2], verbs[i].name)) {
					char *hargv[] = { argv[2], "--help", NULL };

					return verbs[i].fn(2, hargv);
				}
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("corral %s\n", CORRAL_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "corral: unknown verb '%.40s'\n", argv[1]);
	usage(stderr);
	return CLI_EXIT_USAGE;
}
