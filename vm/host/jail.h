/*
 * jail: the corral-jail command line put in front of QEMU when the runtime has a jailer
 * (vm_config.jail). It turns one VM's QEMU configuration into the jailer's flags: the VM's
 * uid/gid, its cgroup and limits, and the bind list, every file QEMU's argv names. Pure: it
 * formats strings, it must not touch files or processes. jail_binds() is the one place that
 * lists what QEMU may see; add new per-VM files (snapshots, ...) there.
 */
#ifndef CORRAL_VM_JAIL_H
#define CORRAL_VM_JAIL_H

#include "errmsg.h"
#include "qemu_argv.h"

#define JAIL_UID_BASE 200000u		/* VM uids/gids: JAIL_UID_BASE + [0, JAIL_UID_RANGE) */
#define JAIL_UID_RANGE 65536u
#define JAIL_PIDS_MAX 256u		/* QEMU threads (TCG vCPUs, RCU, I/O pool) */
#define JAIL_NOFILE_MAX 1024u
#define JAIL_MEM_OVERHEAD_MIB 320u	/* TCG cache (QEMU_TCG_TB_MIB) + QEMU itself, over guest RAM */

struct jail_cfg {
	const char *jail;		/* absolute path of corral-jail */
	const char *const *outer;	/* an exec_prefix to keep in front (debug wrappers), or NULL */
	unsigned long pid;		/* of the runtime's process, for the VM's uid */
	unsigned vm_n;
	bool keep_fd3;			/* an fd passed to QEMU as fd 3 */
};

/* The uid (= gid) of VM number n of process pid: spread over the range so two workers on a
 * host rarely share one; sharing is not a break (every VM has its own namespaces). */
unsigned jail_uid(unsigned long pid, unsigned n);
/* Builds the NULL-terminated prefix into *ret (free with jail_prefix_free). 0, -E2BIG (over
 * QEMU_PREFIX_MAX), -EINVAL (a path QEMU needs is not absolute), -ENOMEM. */
int jail_prefix_build(const struct jail_cfg *j, const struct qemu_argv_cfg *c, char ***ret,
		      struct errmsg *reterr);
char **jail_prefix_free(char **v);

#endif
