/*
 * privs: identity and privilege steps of corral-jail. Ownership of the VM's socket directory,
 * rlimits, the capability bounding set, the switch to the VM's dedicated uid/gid (no
 * supplementary groups), clearing every remaining capability set (effective, permitted,
 * inheritable, ambient) and no_new_privs. Each step checks its own result: a jailer that thinks
 * it dropped something it did not is worse than none. It must not exec or mount.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jail.h"

int jail_chown(struct jail *j, char *detail)
{
	for (size_t i = 0; i < j->nchown; i++) {
		if (chown(j->chown_dirs[i], j->uid, j->gid) < 0) {
			int r = -errno;

			snprintf(detail, JAIL_DETAIL_MAX, "chown %s to %u:%u", j->chown_dirs[i],
				 (unsigned)j->uid, (unsigned)j->gid);
			return r;
		}
	}
	return 0;
}

static int set_rl(int res, const char *name, uint64_t v, char *detail)
{
	struct rlimit rl = { (rlim_t)v, (rlim_t)v };

	if (setrlimit(res, &rl) < 0) {
		int r = -errno;

		snprintf(detail, JAIL_DETAIL_MAX, "setrlimit %s=%llu", name, (unsigned long long)v);
		return r;
	}
	return 0;
}

int jail_rlimits(struct jail *j, char *detail)
{
	int r;

	if ((r = set_rl(RLIMIT_CORE, "core", 0, detail)) < 0)
		return r;
	if (j->rl_nofile && (r = set_rl(RLIMIT_NOFILE, "nofile", j->rl_nofile, detail)) < 0)
		return r;
	if (j->rl_nproc && (r = set_rl(RLIMIT_NPROC, "nproc", j->rl_nproc, detail)) < 0)
		return r;
	return 0;
}

int jail_drop_bounding(struct jail *j, char *detail)
{
	/* /proc is not in the jail: try every bit, EINVAL past the kernel's last capability. */
	for (int c = 0; c < 64; c++) {
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) {
			int r = -errno;

			snprintf(detail, JAIL_DETAIL_MAX, "PR_CAPBSET_DROP %d", c);
			return r;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		int r = -errno;

		snprintf(detail, JAIL_DETAIL_MAX, "PR_CAP_AMBIENT_CLEAR_ALL");
		return r;
	}
	return 0;
}

int jail_setids(struct jail *j, char *detail)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (j->uid == 0 || j->gid == 0) {
		snprintf(detail, JAIL_DETAIL_MAX, "uid and gid must not be 0");
		return -EINVAL;
	}
	if (setgroups(0, NULL) < 0 || setresgid(j->gid, j->gid, j->gid) < 0 ||
	    setresuid(j->uid, j->uid, j->uid) < 0) {
		int r = -errno;

		snprintf(detail, JAIL_DETAIL_MAX, "setgroups/setresgid/setresuid %u:%u",
			 (unsigned)j->uid, (unsigned)j->gid);
		return r;
	}
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != j->uid ||
	    eu != j->uid || su != j->uid || rg != j->gid || eg != j->gid || sg != j->gid ||
	    getgroups(0, NULL) != 0) {
		snprintf(detail, JAIL_DETAIL_MAX, "ids did not change as asked");
		return -EPERM;
	}
	/* Back to root must be impossible now. */
	if (setuid(0) == 0) {
		snprintf(detail, JAIL_DETAIL_MAX, "setuid(0) still works");
		return -EPERM;
	}
	return 0;
}

int jail_drop_caps(struct jail *j, char *detail)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) < 0) {
		int r = -errno;

		snprintf(detail, JAIL_DETAIL_MAX, "capset(all zero)");
		return r;
	}
	if (syscall(SYS_capget, &h, d) < 0 || d[0].effective || d[0].permitted ||
	    d[0].inheritable || d[1].effective || d[1].permitted || d[1].inheritable) {
		snprintf(detail, JAIL_DETAIL_MAX, "capabilities left after capset");
		return -EPERM;
	}
	return 0;
}

int jail_no_new_privs(struct jail *j, char *detail)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		int r = -errno;

		snprintf(detail, JAIL_DETAIL_MAX, "PR_SET_NO_NEW_PRIVS");
		return r ? r : -EPERM;
	}
	return 0;
}
