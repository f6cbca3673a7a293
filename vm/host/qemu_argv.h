/*
 * qemu_argv: the per-VM file layout (<run_dir>/vm-<pid>-<n>/...) and the QEMU command line built
 * from it. Pure code: no I/O, no clock, so every byte of the argv is unit-tested. It knows QEMU's
 * option syntax (keyval values escape ',' as ',,') and the unix socket path limit; it must not
 * know about processes, sockets or the guest protocol.
 */
#ifndef CORRAL_QEMU_ARGV_H
#define CORRAL_QEMU_ARGV_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "errmsg.h"

#define VM_SOCK_PATH_MAX 107		/* sun_path is 108 bytes including the NUL */
#define QEMU_ARGV_MAX 128		/* items, prefix included */
#define QEMU_MEM_FD 4			/* a clone's sealed RAM memfd in QEMU (qemu_proc.c) */
#define QEMU_PREFIX_MAX 64		/* items of an exec wrapper prefix (e.g. corral-jail ...) */
#define QEMU_CMDLINE_MAX 2047		/* x86 kernel command line, COMMAND_LINE_SIZE - 1 */
#define QEMU_MEM_MIB_MAX (64u * 1024u)
#define QEMU_VCPUS_MAX 64u
/* The TCG translation cache in MiB (QEMU 7.2 default: 1 GiB). Measurements in qemu_argv.c. */
#define QEMU_TCG_TB_MIB 128u
/* cryptomgr.notests: the crypto self-tests are the guest kernel's most expensive init step under
 * TCG (236 ms); skipping them cut the median guest start from 1880 to 1550 ms (images/README.md). */
#define QEMU_KERNEL_CMDLINE "console=ttyS0 quiet panic=-1 reboot=t cryptomgr.notests"

struct vm_paths {
	char dir[PATH_MAX];
	char agent_sock[VM_SOCK_PATH_MAX + 1];
	char qmp_sock[VM_SOCK_PATH_MAX + 1];
	char console_log[PATH_MAX];	/* guest ttyS0 */
	char qemu_log[PATH_MAX];	/* QEMU's own stdout/stderr */
};

/* Fills p for VM number n of process pid under run_dir. 0, or -ENAMETOOLONG with reterr naming
 * the path and the limit (a socket path must fit in 107 bytes). */
int vm_paths_make(struct vm_paths *p, const char *run_dir, unsigned long pid, unsigned n,
		  struct errmsg *reterr);

struct qemu_argv_cfg {
	const char *qemu;		/* binary, as exec'd (absolute path) */
	const char *const *prefix;	/* NULL-terminated exec wrapper put before qemu, or NULL */
	const char *accel;		/* "kvm" or "tcg" */
	unsigned tb_mib;		/* TCG translation cache in MiB; 0 = QEMU's default */
	unsigned mem_mib;
	unsigned vcpus;
	const char *kernel;
	const char *initrd;
	const char *rootfs;
	unsigned tsc_khz;		/* > 0: tsc_early_khz= for the guest kernel (TCG) */
	const char *append_extra;	/* appended to the kernel command line, or NULL */
	bool sandbox;			/* -sandbox on,... (seccomp in QEMU) */
	const struct vm_paths *paths;
	/* Template snapshots (template.c, clone.c); all optional. */
	const char *mem_path;		/* guest RAM in this file (memory-backend-file), or NULL */
	bool mem_share;			/* share=on (the template writes its RAM to the file) or
					 * share=off (a clone maps it copy-on-write) */
	bool mem_fd;			/* the RAM is the sealed memfd at fd QEMU_MEM_FD (a jailed
					 * clone): mem-path=/proc/self/fd/QEMU_MEM_FD, not mem_path */
	bool incoming_defer;		/* -incoming defer: the state comes by QMP migrate-incoming */
};

struct qemu_argv {
	char **argv;			/* NULL-terminated, owned */
	size_t argc;
};

/* Builds the argv. 0, -EINVAL (bad accel, zero/over-limit memory or vcpus, control bytes in
 * append_extra), -E2BIG (kernel command line or argv too long), -ENOMEM. *out is written only on
 * success; free it with qemu_argv_free(). */
int qemu_argv_build(const struct qemu_argv_cfg *c, struct qemu_argv *out, struct errmsg *reterr);
void qemu_argv_free(struct qemu_argv *a);
/* One line for logs: the argv joined by spaces into out (size n), cut if needed. Returns out. */
char *qemu_argv_join(const struct qemu_argv *a, char *out, size_t n);

#endif
