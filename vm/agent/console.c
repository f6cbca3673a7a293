/*
 * console: the agent's last words. Makes sure fds 0-2 are open before anything else allocates an
 * fd, and on a fatal boot error prints one clear line on /dev/console and powers the VM off, so a
 * broken image ends QEMU instead of hanging it (PID 1 must never simply exit: that panics).
 * It must not allocate or depend on anything the boot may have failed to set up.
 */
#include "agent.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/reboot.h>
#include <unistd.h>

void console_setup(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int nfd;

		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		nfd = open("/dev/console", O_RDWR | O_NOCTTY);
		if (nfd < 0)
			nfd = open("/dev/null", O_RDWR);
		if (nfd >= 0 && nfd != fd) {
			dup2(nfd, fd);
			close(nfd);
		}
	}
}

void agent_fatal(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n, fd;

	n = snprintf(line, sizeof(line), "corral-agent: FATAL: ");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		fd = STDERR_FILENO;
	(void)!write(fd, line, (size_t)n);
	if (getpid() != 1)
		exit(1);
	sync();
	reboot(RB_POWER_OFF);
	/* No ACPI power-off on this machine: with -no-reboot a reset ends QEMU as well. */
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}
