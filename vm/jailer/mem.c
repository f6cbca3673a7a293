/*
 * mem: a warm-pool clone's guest RAM. Every clone of a template maps the same saved RAM
 * copy-on-write (MAP_PRIVATE), but QEMU 7.2 opens a memory-backend-file O_RDWR whatever `share`
 * says (its readonly=on makes the guest RAM a ROM), so a bound file would let a compromised QEMU
 * write() into the RAM every later clone starts from. Instead vm/host hands over a memfd sealed
 * with F_SEAL_WRITE|SHRINK|GROW|SEAL (template.c) as fd N and QEMU opens /proc/self/fd/N: the
 * open succeeds, private copy-on-write mappings work, and every write path into the shared pages
 * (write, pwrite, a shared writable mmap, fallocate punching holes, ftruncate, new seals) fails
 * with EPERM in the kernel, whoever holds the fd. The jailer refuses an fd without those seals,
 * so a bug in vm/host cannot quietly hand out a writable template.
 *
 * A memfd cannot be bind-mounted (it lives on no mount of ours), hence /proc: mounted only for
 * such clones, inside the jail's own pid namespace (QEMU is alone there) with subset=pid (no
 * /proc/sys, /proc/kcore, sysrq-trigger or any other global file) and hidepid=invisible, nosuid,
 * nodev, noexec.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jail.h"

#define JAIL_MEM_SEALS (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

int jail_mem_fd_check(struct jail *j, char *detail)
{
	int seals;

	if (j->mem_fd < 0)
		return 0;
	seals = fcntl(j->mem_fd, F_GET_SEALS);
	if (seals < 0) {
		int e = errno;

		snprintf(detail, JAIL_DETAIL_MAX, "--mem-fd %d is not an open memfd", j->mem_fd);
		return -(e == EINVAL ? EBADF : e);
	}
	if ((seals & JAIL_MEM_SEALS) != JAIL_MEM_SEALS) {
		snprintf(detail, JAIL_DETAIL_MAX,
			 "--mem-fd %d lacks seals (has 0x%x, needs write|shrink|grow|seal 0x%x)",
			 j->mem_fd, (unsigned)seals, (unsigned)JAIL_MEM_SEALS);
		return -EPERM;
	}
	/* Kept across the exec: QEMU opens it by path. */
	if (fcntl(j->mem_fd, F_SETFD, 0) < 0) {
		snprintf(detail, JAIL_DETAIL_MAX, "clear FD_CLOEXEC on --mem-fd %d", j->mem_fd);
		return -errno;
	}
	return 0;
}

int jail_mount_proc(struct jail *j, char *detail)
{
	char target[4096];

	if (j->mem_fd < 0)
		return 0;
	snprintf(target, sizeof(target), "%s/proc", j->root);
	if (mkdir(target, 0555) < 0 && errno != EEXIST) {
		snprintf(detail, JAIL_DETAIL_MAX, "mkdir %.400s", target);
		return -errno;
	}
	if (mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "hidepid=invisible,subset=pid") < 0) {
		snprintf(detail, JAIL_DETAIL_MAX, "mount proc (subset=pid) on %.400s", target);
		return -errno;
	}
	return 0;
}
