/*
 * vm_int: the structures shared by the vm/host modules (vm.c, boot.c, accel.c, vmdir.c). Not a
 * public header: callers use vm.h. Nothing here may leak jansson or msgpack types.
 */
#ifndef CORRAL_VM_INT_H
#define CORRAL_VM_INT_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "channel.h"
#include "qemu_argv.h"
#include "qmp.h"
#include "vm.h"

#define VM_EXECS_MAX 64			/* processes running at once in one VM */
#define VM_CONSOLE_TAIL_MAX 600		/* console.log bytes kept in a boot failure reason */
#define VM_QEMU_FILE_MAX (16u << 20)	/* console.log and qemu.log (RLIMIT_FSIZE of QEMU) */
#define VM_WHY_MAX 1024			/* failure reason handed to failed() */
#define VM_EOF_GRACE_MS 250		/* after an EOF, wait this long for QEMU's exit status */
#define VM_CONNECT_RETRY_MAX_MS 20	/* QEMU creates the sockets ~30 ms after exec */
#define VM_DEFAULT_MEM_MIB 256u
#define VM_DEFAULT_BOOT_TIMEOUT_MS 15000u
#define VM_DEFAULT_BOOT_ATTEMPTS 3u
#define VM_BOOT_ATTEMPTS_MAX 20u
#define VM_ACCEL_PROBE_MS 5000u
#define VM_RESTORE_TIMEOUT_MS 5000u	/* a clone is READY in ~35 ms; then boot cold */		/* a real guest under KVM is READY in well under 1 s */

struct channel;
struct qmp;
struct qemu_proc;

struct vm_runtime {
	struct ev_loop *loop;
	char *images_dir;
	char *run_dir;
	char *qemu;			/* absolute path */
	char *kernel, *initrd, *rootfs;
	char *append_extra;
	char **prefix;			/* exec wrapper argv, NULL-terminated, or NULL */
	char *jail;			/* corral-jail, absolute, or NULL (jail.h) */
	char accel[8];			/* "kvm" or "tcg" */
	unsigned tsc_khz;		/* host TSC for TCG guests (tsc.c), 0 = unknown */
	unsigned mem_mib, vcpus, boot_timeout_ms, boot_attempts;
	unsigned next_vm;
	bool probing;
	char *snap_dir;			/* template snapshots: <snap_dir>/<name>-<key>/ */
};

/* How one VM starts: a plain cold boot (all zero), a template being built (mem_path, share), or
 * a clone restored from a snapshot (mem_path, state_path). A clone whose restore fails drops
 * state_path and boots cold (boot.c). */
struct vm_spec {
	char mem_path[PATH_MAX];	/* "" = anonymous RAM */
	bool mem_share;
	int mem_fd;			/* > 0: a clone maps this sealed memfd (tpl_memfd.c), not
					 * mem_path; 0 = none (fd 0 is never ours). Used at spawn
					 * only: the template owns it */
	bool mem_in_dir;		/* a template: RAM in <vm dir>/mem (mem_path set at boot) */
	char state_path[PATH_MAX];	/* device state to restore, "" = cold boot */
	char rootfs[PATH_MAX];		/* root disk, "" = the runtime's base.ext4 (vm_start_image) */
	unsigned mem_mib, vcpus;	/* 0 = the runtime's */
};

enum vm_state { VM_BOOTING, VM_READY, VM_FAILED };

struct vm_exec {
	uint32_t id;
	bool started;
};

struct vm {
	struct vm_runtime *rt;
	const struct vm_events *ev;
	void *ud;
	unsigned id;
	enum vm_state state;
	struct vm_paths paths;
	bool dir_made;
	struct vm_spec spec;
	bool restoring;			/* this attempt restores spec.state_path */
	bool resumed;			/* QEMU said RESUME: the restored guest runs */
	bool restored;			/* ready from a snapshot (not a cold boot) */
	bool clone_fell_back;		/* a restore failed and this VM booted cold */
	/* boot */
	unsigned attempt;
	uint64_t t_start_ms, t_attempt_ms, boot_ms;
	ev_timer watchdog;
	ev_timer connect;
	ev_timer handoff;		/* vm_post_ready() */
	unsigned connect_delay_ms;
	/* the parts */
	struct qemu_proc *proc;
	struct channel *chan;
	struct qmp *qmp;
	char last_qmp_event[160];
	/* a failure waiting for QEMU's exit status (VM_EOF_GRACE_MS) */
	ev_timer grace;
	int grace_err;
	char grace_why[VM_WHY_MAX];
	/* execs */
	uint32_t next_exec;
	struct vm_exec execs[VM_EXECS_MAX];
	unsigned nexecs;
	const char *exit_limit;		/* during the exited() callback: the EXIT's limit, else NULL */
	/* reentrancy: the owner may vm_destroy() from inside a callback */
	unsigned busy;
	bool destroyed;
};

/* boot.c: attempts and the watchdog. boot_init() once, before anything else touches vm. */
void boot_init(struct vm *vm);
int boot_attempt_start(struct vm *vm, struct errmsg *reterr);
/* Queues an INIT frame: the host's wall clock and 32 fresh random bytes for the guest RNG. */
int vm_send_init(struct vm *vm, struct errmsg *reterr);
/* The agent said READY: finish the boot (INIT frame, ready() callback). */
void boot_ready(struct vm *vm, const char *agent_version);
/* Something broke: during boot, ends this attempt and retries or fails; after, fails the VM. */
void vm_lost(struct vm *vm, int err, const char *why);
/* Like vm_lost, but first waits VM_EOF_GRACE_MS for QEMU's exit status, the better reason. */
void vm_lost_soon(struct vm *vm, int err, const char *why);
/* Kills QEMU, closes the sockets, stops the timers. Keeps the run dir. */
void vm_teardown(struct vm *vm);

/* runtime.c: <images_dir>/<image>.ext4 into out (NULL or "" = base); -EINVAL for a bad name,
 * -ENOENT naming the file when it is missing. */
int vm_image_rootfs(struct vm_runtime *rt, const char *image, char *out, size_t n,
		    struct errmsg *reterr);
/* boot.c: the VM's root disk (its spec's, else the runtime's base.ext4). */
const char *vm_rootfs(const struct vm *vm);

/* tpl_memfd.c: a sealed (write|shrink|grow|seal) sparse copy of the RAM file in a memfd named
 * name; the fd (close-on-exec), or negative errno. *bytes = data bytes copied. */
int tpl_memfd_make(const char *mem_path, const char *name, size_t *bytes, struct errmsg *reterr);

/* vm.c: starts a VM per spec (NULL = cold boot). */
int vm_start_spec(struct vm_runtime *rt, const struct vm_spec *spec, const struct vm_events *ev,
		  void *ud, struct vm **ret, struct errmsg *reterr);

/* clone.c: the QMP steps of a restore (x-ignore-shared, migrate-incoming fd:3). */
void clone_qmp_ready(struct vm *vm);
void clone_qmp_event(struct vm *vm, const char *name);

/* jail_vm.c: qemu_argv_build() with corral-jail in front when the runtime has a jailer. */
int vm_jail_argv_build(struct vm *vm, struct qemu_argv_cfg *c, struct qemu_argv *out,
		       struct errmsg *reterr);

/* vm.c: frame dispatch and callbacks into the owner. */
extern const struct channel_ops vm_channel_ops;
extern const struct qmp_ops vm_qmp_ops;
/* Tears down, enters VM_FAILED, calls failed(). */
void vm_fail(struct vm *vm, int err, const char *why);
/* Brackets every call into the owner: vm_leave() is true when the VM was destroyed (it may be
 * freed: return at once). */
void vm_enter(struct vm *vm);
bool vm_leave(struct vm *vm);

/* vmdir.c: the per-VM directory. */
int vm_dir_make(struct vm *vm, struct errmsg *reterr);
/* Unlinks the files QEMU made (sockets, logs); the directory stays. */
void vm_dir_clean(const struct vm_paths *p);
void vm_dir_remove(struct vm *vm);
/* Removes vm-<pid>-<n> directories of processes that no longer exist. */
void vm_dir_sweep(const char *run_dir);
/* The last bytes of a log file, control bytes as spaces, into out (size n). Returns out. */
char *vm_file_tail(const char *path, char *out, size_t n);

/* tsc.c: the host TSC frequency in kHz (a TCG guest's TSC runs at it). 0, -ENOTSUP (no
 * constant TSC) or -EAGAIN (preempted while measuring). Takes ~100 ms. */
int host_tsc_khz(unsigned *ret_khz);

/* accel.c: picks "kvm" or "tcg" for rt (runs a private loop for the probe). */
int accel_decide(struct vm_runtime *rt, const char *want, struct errmsg *reterr);

#endif
