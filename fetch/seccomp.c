/*
 * seccomp: corral-fetch's syscall deny-list (libseccomp). libgit2 with its TLS and DNS stacks
 * needs a broad set of ordinary syscalls, so this is a deny-list of what a parser of hostile
 * data never needs and an attacker wants: debugging other processes, namespaces and mounts,
 * kernel keyrings, eBPF, perf, modules, kexec, clocks, swap, reboot, io_uring, userfaultfd.
 * Denied calls fail with EPERM (clone3 with ENOSYS so glibc falls back to clone, whose namespace
 * flags are denied). Foreign architectures (x32, i386) are killed by libseccomp's default.
 */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>

#include "fetch.h"

static const char *const denied[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
	"mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen",
	"fsconfig", "fsmount", "fspick", "mount_setattr", "unshare", "setns",
	"keyctl", "add_key", "request_key", "bpf", "perf_event_open",
	"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
	"reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname",
	"setdomainname", "iopl", "ioperm", "userfaultfd", "io_uring_setup", "io_uring_enter",
	"io_uring_register", "open_by_handle_at", "name_to_handle_at", "lookup_dcookie",
	"personality", "syslog", "vhangup", "nfsservctl", "uselib", "ustat", "sysfs",
	"_sysctl", "fanotify_init", "setuid", "setgid", "setreuid", "setregid", "setresuid",
	"setresgid", "setgroups", "setfsuid", "setfsgid",
};

static const unsigned long ns_flags[] = { CLONE_NEWUSER, CLONE_NEWNS,  CLONE_NEWPID,
					  CLONE_NEWNET,	 CLONE_NEWIPC, CLONE_NEWUTS,
					  CLONE_NEWCGROUP };

int fetch_seccomp(struct errmsg *reterr)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r = 0;

	if (!ctx)
		return errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: jail: seccomp_init failed");
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]) && !r; i++) {
		int nr = seccomp_syscall_resolve_name(denied[i]);

		if (nr == __NR_SCMP_ERROR)
			continue;	/* not on this architecture */
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	for (size_t i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]) && !r; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (!r)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r)
		return errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: jail: seccomp: %s",
				  errno_name(r));
	return 0;
}
