/*
 * kmod: loads the kernel modules named in a list file, in the given order, with finit_module(2).
 * images/ writes that list in dependency order (modules.dep), so no resolution happens here.
 * It must not guess, search or decompress: what is not listed is not loaded.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#define KMOD_LINE_MAX 256

static int kmod_load_one(const char *path, struct errmsg *reterr)
{
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errmsg_set(reterr, -errno, "open module '%s'", path);
	if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
		r = errmsg_set(reterr, -errno, "finit_module '%s': %s", path, errno_name(errno));
	fd_close(fd);
	return r;
}

int kmod_load_list(const char *list, struct errmsg *reterr)
{
	char dir[PATH_MAX], line[KMOD_LINE_MAX], path[PATH_MAX + KMOD_LINE_MAX];
	const char *slash;
	FILE *f;
	int r = 0;

	slash = strrchr(list, '/');
	if (!slash || (size_t)(slash - list) >= sizeof(dir))
		return errmsg_set(reterr, -EINVAL, "module list '%s': not an absolute path", list);
	memcpy(dir, list, (size_t)(slash - list));
	dir[slash - list] = '\0';
	f = fopen(list, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;	/* a kernel with everything built in ships no list */
		return errmsg_set(reterr, -errno, "open module list '%s'", list);
	}
	while (fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, "\r\n");

		line[n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, line);
		r = kmod_load_one(path, reterr);
		if (r < 0)
			break;
	}
	fclose(f);
	return r;
}
