/*
 * corral-agent main: wires the modules. As PID 1 (the VM's /init): console, signal set-up, boot
 * (modules, overlay root), find the port, serve frames forever; any boot failure prints one line
 * on the console and powers the VM off. Outside a VM (`corral-agent --fd N`, for tests on the
 * host, as root) it skips the boot and serves frames on fd N, a stream socket, until EOF.
 * It must not return or exit as PID 1.
 */
#include "agent.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define LOG_MOD "main"
#include "log.h"
#include "util.h"

/* The agent shrugs off job-control and termination signals; SIGCHLD and SIGIO go to a signalfd. */
static void agent_signals(void)
{
	static const int ignored[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE,
				       SIGTSTP, SIGTTIN, SIGTTOU, SIGALRM, SIGWINCH };
	sigset_t mask;

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		signal(ignored[i], SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGIO);
	sigprocmask(SIG_BLOCK, &mask, NULL);
}

static int agent_test_mode(int argc, char **argv)
{
	char *end;
	long fd;

	if (argc != 3 || strcmp(argv[1], "--fd") != 0) {
		fprintf(stderr, "usage: corral-agent --fd N   (outside a VM; as PID 1 it boots)\n");
		return 2;
	}
	fd = strtol(argv[2], &end, 10);
	if (*end || fd < 0 || fd > 1024 || fd_set_nonblock((int)fd, 1) < 0) {
		fprintf(stderr, "corral-agent: bad fd '%s'\n", argv[2]);
		return 2;
	}
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	agent_signals();
	return loop_run((int)fd, true) < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct errmsg em = { "" };
	uint64_t t0;
	int fd, r;

	console_setup();
	log_init("corral-agent");
	if (getpid() != 1)
		return agent_test_mode(argc, argv);
	agent_signals();
	t0 = time_mono_ms();
	r = boot_run(&em);
	if (r < 0)
		agent_fatal("boot: %s (%s)", em.msg, errno_name(r));
	limits_init(boot_rw_fd());	/* never fails: without cgroups, rlimits only */
	fd = port_open(AGENT_PORT_NAME, AGENT_DEV_WAIT_MS, &em);
	if (fd < 0)
		agent_fatal("port: %s (%s)", em.msg, errno_name(fd));
	log_info("agent.up", "boot_ms=%llu uptime_ms=%llu",
		 (unsigned long long)(time_mono_ms() - t0), (unsigned long long)time_mono_ms());
	r = loop_run(fd, false);
	agent_fatal("loop ended: %s", errno_name(r));
}
