/*
 * mounts: the jailed process's filesystem. In a fresh mount namespace (already unshared by
 * main.c) it makes every mount private, puts a small tmpfs on the root mount point, recreates
 * the merged-/usr symlinks (bin, lib, lib64, sbin), bind-mounts exactly the listed files and
 * directories at the same paths (read-only unless --bind-rw; nosuid, nodev except device nodes),
 * then pivot_roots into it, detaches the old root and makes the tmpfs read-only. Nothing of the
 * host is visible afterwards except the binds. It must never mount over a host path: everything
 * happens below the private tmpfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jail.h"

static int fail(char *detail, const char *what, const char *path)
{
	int r = -errno;

	snprintf(detail, JAIL_DETAIL_MAX, "%s %.400s", what, path);
	return r ? r : -EINVAL;
}

int jail_mount_private(struct jail *j, char *detail)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail(detail, "make-rprivate", "/");
	return 0;
}

int jail_mount_root(struct jail *j, char *detail)
{
	static const char *const links[][2] = {
		{ "bin", "usr/bin" }, { "sbin", "usr/sbin" }, { "lib", "usr/lib" },
		{ "lib64", "usr/lib64" },
	};
	char path[PATH_MAX];

	if (mkdir(j->root, 0700) < 0 && errno != EEXIST)
		return fail(detail, "mkdir", j->root);
	if (mount("corral-jail", j->root, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0755,size=" JAIL_TMPFS_SIZE) < 0)
		return fail(detail, "mount tmpfs on", j->root);
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", j->root, links[i][0]);
		if (symlink(links[i][1], path) < 0)
			return fail(detail, "symlink", path);
	}
	return 0;
}

/* mkdir -p of every component of rel (relative to the new root) except the last. */
static int make_parents(const char *root, const char *dst, char *detail)
{
	char path[PATH_MAX];
	size_t rootlen = strlen(root);

	if (snprintf(path, sizeof(path), "%s%s", root, dst) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return fail(detail, "path", dst);
	}
	for (char *p = path + rootlen + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return fail(detail, "mkdir", path);
		*p = '/';
	}
	return 0;
}

static int bind_one(struct jail *j, const struct jail_bind *b, char *detail)
{
	char target[PATH_MAX];
	struct stat st;
	unsigned long flags = MS_BIND | MS_REMOUNT | MS_NOSUID;
	int r, fd;

	if (b->dst[0] != '/' || strstr(b->dst, "/../") || strstr(b->dst, "/./")) {
		errno = EINVAL;
		return fail(detail, "destination must be absolute and normalised:", b->dst);
	}
	if (stat(b->src, &st) < 0)
		return fail(detail, "stat", b->src);
	if ((r = make_parents(j->root, b->dst, detail)) < 0)
		return r;
	snprintf(target, sizeof(target), "%s%s", j->root, b->dst);
	if (S_ISDIR(st.st_mode)) {
		if (mkdir(target, 0755) < 0 && errno != EEXIST)
			return fail(detail, "mkdir", target);
	} else {
		fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return fail(detail, "create", target);
		close(fd);
	}
	if (mount(b->src, target, NULL, MS_BIND | MS_REC, NULL) < 0)
		return fail(detail, "bind", b->src);
	if (!b->rw)
		flags |= MS_RDONLY;
	if (b->dev)
		flags |= MS_NOEXEC;
	else if (!S_ISCHR(st.st_mode))
		flags |= MS_NODEV;
	if (mount(NULL, target, NULL, flags, NULL) < 0)
		return fail(detail, "remount (ro/nosuid/nodev)", target);
	return 0;
}

int jail_mount_binds(struct jail *j, char *detail)
{
	for (size_t i = 0; i < j->nbinds; i++) {
		int r = bind_one(j, &j->binds[i], detail);

		if (r < 0)
			return r;
	}
	return 0;
}

int jail_pivot(struct jail *j, char *detail)
{
	if (chdir(j->root) < 0)
		return fail(detail, "chdir", j->root);
	/* pivot_root(".", "."): the old root ends up stacked under the new one, then detached. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return fail(detail, "pivot_root", j->root);
	if (umount2(".", MNT_DETACH) < 0)
		return fail(detail, "detach old root", "/");
	if (chdir("/") < 0)
		return fail(detail, "chdir", "/");
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV |
		  MS_NOEXEC, NULL) < 0)
		return fail(detail, "remount read-only", "/");
	return 0;
}
