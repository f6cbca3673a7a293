/*
 * port: finds the virtio-serial port the host named (/sys/class/virtio-ports/<dev>/name holds
 * the name, /dev/<dev> is the node) and opens it nonblocking and close-on-exec. The port is set
 * up for SIGIO: virtio_console signals its owner when the host side connects or disconnects,
 * which is how the loop learns of a new host without spinning on POLLHUP.
 * It must not read or write frames.
 */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define PORT_SYS_DIR "/sys/class/virtio-ports"

/* Writes the /dev path of the port called name into out. 0 or -ENOENT. */
static int port_find(const char *name, char *out, size_t n)
{
	struct dirent *de;
	DIR *d;
	int r = -ENOENT;

	d = opendir(PORT_SYS_DIR);
	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		char path[512], got[128];
		ssize_t len;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), PORT_SYS_DIR "/%s/name", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, got, sizeof(got) - 1);
		fd_close(fd);
		if (len <= 0)
			continue;
		got[len] = '\0';
		got[strcspn(got, "\n")] = '\0';
		if (strcmp(got, name) == 0) {
			snprintf(out, n, "/dev/%s", de->d_name);
			r = 0;
			break;
		}
	}
	closedir(d);
	return r;
}

int port_open(const char *name, unsigned timeout_ms, struct errmsg *reterr)
{
	uint64_t deadline = time_mono_ms() + timeout_ms;
	const struct timespec nap = { 0, 2 * 1000 * 1000 };
	char dev[300];
	int fd, fl;

	while (port_find(name, dev, sizeof(dev)) < 0 || access(dev, F_OK) < 0) {
		if (time_mono_ms() >= deadline)
			return errmsg_set(reterr, -ENODEV, "virtio port '%s' not found in %u ms",
					  name, timeout_ms);
		nanosleep(&nap, NULL);
	}
	fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errmsg_set(reterr, -errno, "open '%s'", dev);
	fl = fcntl(fd, F_GETFL);
	if (fcntl(fd, F_SETOWN, getpid()) < 0 || fl < 0 || fcntl(fd, F_SETFL, fl | O_ASYNC) < 0) {
		int r = -errno;

		fd_close(fd);
		return errmsg_set(reterr, r, "SIGIO on '%s'", dev);
	}
	return fd;
}
