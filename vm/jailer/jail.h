/*
 * jail: the pieces of corral-jail. main.c parses the arguments into struct jail and runs the
 * ordered step table; each step lives in the file named after its concern (cgroup.c, mounts.c,
 * privs.c, seccomp.c). Every step returns 0 or a negative errno and writes one line of detail;
 * main.c turns a failure into "corral-jail: step X: <ERRNO>: <detail>" and exits. Nothing here
 * may link libwire or know about jobs: the jailer only knows paths, ids and numbers.
 */
#ifndef CORRAL_JAIL_H
#define CORRAL_JAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define JAIL_BINDS_MAX 32
#define JAIL_DETAIL_MAX 512
#define JAIL_CGROUP_NAME_MAX 64
#define JAIL_CGROUP_DIRS_MAX 4		/* v2: 1; v1: memory, pids, cpu */
#define JAIL_ROOT_DEFAULT "/run/corral-jail"
#define JAIL_TMPFS_SIZE "4m"		/* the root tmpfs holds only mount points and symlinks */

struct jail_bind {
	const char *src;
	const char *dst;		/* inside the new root; = src when not given */
	bool rw;
	bool dev;			/* a device node (/dev/null...): keeps dev, no exec */
};

struct jail {
	uid_t uid;
	gid_t gid;
	const char *root;		/* mount point of the new root tmpfs (private mount ns) */
	struct jail_bind binds[JAIL_BINDS_MAX];
	size_t nbinds;
	const char *chown_dirs[JAIL_BINDS_MAX];
	size_t nchown;
	bool net;			/* keep the host network namespace (a job with egress) */
	bool keep_fd3;			/* fd 3 goes to QEMU (a clone's migration stream) */
	int mem_fd;			/* a sealed memfd with a clone's template RAM, kept open for
					 * QEMU's mem-path=/proc/self/fd/N; -1 = none (mem.c) */
	/* cgroup */
	const char *cgroup;		/* group name under corral/, NULL = no cgroup */
	uint64_t mem_max;		/* bytes, 0 = no limit */
	uint64_t pids_max;		/* 0 = no limit */
	uint64_t cpu_quota_us, cpu_period_us;	/* quota 0 = no limit */
	char cg_dirs[JAIL_CGROUP_DIRS_MAX][384];
	size_t ncg_dirs;
	/* rlimits (0 = leave as inherited); RLIMIT_CORE is always 0 */
	uint64_t rl_nofile, rl_nproc;
	bool seccomp;
	char *const *argv;		/* what to exec, argv[0] absolute */
};

/* cgroup.c */
int jail_cgroup_create(struct jail *j, char *detail);
int jail_cgroup_join(struct jail *j, char *detail);
/* Removes the groups created by jail_cgroup_create (after the jailed process is gone). */
void jail_cgroup_remove(struct jail *j);

/* mounts.c: in a fresh mount namespace, builds the root tmpfs, binds, pivots into it. */
int jail_mount_private(struct jail *j, char *detail);
int jail_mount_root(struct jail *j, char *detail);
int jail_mount_binds(struct jail *j, char *detail);
int jail_pivot(struct jail *j, char *detail);

/* mem.c: checks --mem-fd is a memfd sealed against writes and mounts the pid-only /proc QEMU
 * reopens it through. */
int jail_mem_fd_check(struct jail *j, char *detail);
int jail_mount_proc(struct jail *j, char *detail);

/* privs.c */
int jail_chown(struct jail *j, char *detail);
int jail_rlimits(struct jail *j, char *detail);
int jail_drop_bounding(struct jail *j, char *detail);
int jail_setids(struct jail *j, char *detail);
int jail_drop_caps(struct jail *j, char *detail);
int jail_no_new_privs(struct jail *j, char *detail);

/* seccomp.c: the allowlist compiled from qemu.seccomp. */
int jail_seccomp(struct jail *j, char *detail);
/* Prints the compiled allowlist, one name a line (for review and tests). */
void jail_seccomp_print(void);

#endif
