/*
 * jail: formats corral-jail's flags for one VM (see jail.h and vm/jailer/main.c). The VM sees,
 * inside its private root, /usr read-only, /dev/{null,zero,urandom}, the kernel, initramfs and
 * root image read-only at the paths QEMU's argv uses, and its own run dir read-write (chowned to
 * its uid); nothing else. Pure string work: no I/O.
 */
#include "jail.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jb {
	char **v;
	size_t n;
	int err;
};

__attribute__((format(printf, 2, 3))) static void add(struct jb *b, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (b->err)
		return;
	if (b->n + 1 >= QEMU_PREFIX_MAX) {
		b->err = -E2BIG;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		b->err = -ENOMEM;
	else
		b->v[b->n++] = s;
	va_end(ap);
}

unsigned jail_uid(unsigned long pid, unsigned n)
{
	return JAIL_UID_BASE + (unsigned)((pid * 64u + n) % JAIL_UID_RANGE);
}

/* Every file QEMU opens by path, with how. Add per-VM files here. */
static void jail_binds(struct jb *b, const struct qemu_argv_cfg *c)
{
	static const char *const devs[] = { "/dev/null", "/dev/zero", "/dev/urandom" };

	add(b, "--bind-ro");
	add(b, "/usr");
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		add(b, "--bind-dev");
		add(b, "%s", devs[i]);
	}
	add(b, "--bind-ro");
	add(b, "%s", c->kernel);
	add(b, "--bind-ro");
	add(b, "%s", c->initrd);
	add(b, "--bind-ro");
	add(b, "%s", c->rootfs);
	add(b, "--chown");
	add(b, "%s", c->paths->dir);
	add(b, "--bind-rw");
	add(b, "%s", c->paths->dir);
	/* A clone's RAM: the sealed memfd (--mem-fd, vm/jailer/mem.c) when there is one, nothing
	 * to bind. Else a clone's RAM file (unjailed runtimes only make no memfd; kept for a
	 * caller passing a path): QEMU 7.2 opens it O_RDWR even with share=off. A template's own
	 * RAM file lives in its VM dir, bound above. */
	if (c->mem_fd) {
		add(b, "--mem-fd");
		add(b, "%d", QEMU_MEM_FD);
	} else if (c->mem_path && !c->mem_share) {
		add(b, "--bind-rw");
		add(b, "%s", c->mem_path);
	}
}

static const char *relative_path(const struct qemu_argv_cfg *c)
{
	const char *const paths[] = { c->qemu, c->kernel, c->initrd, c->rootfs, c->paths->dir };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (!paths[i] || paths[i][0] != '/' || strchr(paths[i], ':'))
			return paths[i] ? paths[i] : "(null)";
	return NULL;
}

int jail_prefix_build(const struct jail_cfg *j, const struct qemu_argv_cfg *c, char ***ret,
		      struct errmsg *reterr)
{
	struct jb b = { 0 };
	const char *bad = relative_path(c);
	const char *name = strrchr(c->paths->dir, '/');
	unsigned uid = jail_uid(j->pid, j->vm_n);
	unsigned long long mem = ((unsigned long long)c->mem_mib + JAIL_MEM_OVERHEAD_MIB) << 20;

	if (bad)
		return errmsg_set(reterr, -EINVAL, "jail: '%s' must be an absolute path without ':'",
				  bad);
	b.v = calloc(QEMU_PREFIX_MAX + 1, sizeof(char *));
	if (!b.v)
		return -ENOMEM;
	for (size_t i = 0; j->outer && j->outer[i]; i++)
		add(&b, "%s", j->outer[i]);
	add(&b, "%s", j->jail);
	add(&b, "--uid");
	add(&b, "%u", uid);
	add(&b, "--gid");
	add(&b, "%u", uid);
	add(&b, "--cgroup");
	add(&b, "%s", name + 1);
	add(&b, "--mem-max");
	add(&b, "%llu", mem);
	add(&b, "--pids-max");
	add(&b, "%u", JAIL_PIDS_MAX);
	add(&b, "--cpu-max");
	add(&b, "%u", c->vcpus * 100000u + 50000u);	/* vCPUs + the main loop */
	add(&b, "--rlimit-nofile");
	add(&b, "%u", JAIL_NOFILE_MAX);
	if (j->keep_fd3)
		add(&b, "--keep-fd3");
	jail_binds(&b, c);
	add(&b, "--");
	if (b.err) {
		if (b.err == -E2BIG)
			errmsg_set(reterr, b.err, "jail prefix over %d items", QEMU_PREFIX_MAX);
		jail_prefix_free(b.v);
		return b.err;
	}
	*ret = b.v;
	return 0;
}

char **jail_prefix_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
	return NULL;
}
