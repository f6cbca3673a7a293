/*
 * vm: the host-side microVM runtime. Boots QEMU `microvm` guests from the built artefacts, talks to
 * the guest agent over virtio-serial (libwire frames) and to QEMU over QMP (jansson), all on the
 * caller's libev loop: nothing here blocks the loop after vm_runtime_new().
 *
 * It knows nothing of Redis or jobs. Callers get events through the callbacks they register.
 * Ownership: vm_start() gives the caller a struct vm that it must vm_destroy(); after
 * vm_destroy() no callback fires for that VM. Callbacks may call vm_destroy() on their own VM.
 */
#ifndef CORRAL_VM_H
#define CORRAL_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"

struct ev_loop;
struct vm_runtime;
struct vm;

struct vm_config {
	const char *images_dir;	/* holds vmlinux, initramfs.cpio.gz, base.ext4 (images/README.md);
				 * NULL: CORRAL_DEFAULT_IMAGES */
	const char *run_dir;	/* per-VM sockets and logs go in <run_dir>/vm-<pid>-<n>/ (created,
				 * removed by vm_destroy); NULL: CORRAL_DEFAULT_RUN_DIR. Socket paths
				 * must fit in 107 bytes: keep it short. */
	const char *qemu_path;	/* NULL: "qemu-system-x86_64" from PATH */
	const char *accel;	/* "auto" (probe), "kvm" or "tcg"; NULL = "auto" */
	unsigned mem_mib;	/* 0: 256 */
	unsigned vcpus;		/* 0: 1 */
	unsigned boot_timeout_ms;	/* watchdog per boot attempt; 0: 15000 */
	unsigned boot_attempts;		/* 0: 3 (cold boots hang ~3.6 % of the time); at most 20 */
	const char *jail;		/* corral-jail binary (needs root): every QEMU runs jailed
					 * (vm/jailer, vm/host/jail.c); NULL = unjailed */
	/* Added by vm/host (all optional, zero = off): */
	const char *append_extra;	/* appended to the guest kernel command line (debugging, tests) */
	const char *const *exec_prefix;	/* NULL-terminated wrapper argv put before QEMU's, e.g. a
					 * jailer; [0] is resolved in PATH like qemu_path */
};

/* Creates the runtime and decides the accelerator: with "auto" it boots a real guest under KVM
 * and keeps KVM only if the agent says READY in time, else TCG; the decision is logged loudly
 * (ev=vm.accel). Blocks (runs its own loop) for the probe: call before the main loop starts.
 * Any loop works; on libev's default loop QEMU is reaped through ev_child (libev reaps every
 * child there), elsewhere through a pidfd. Creates run_dir if missing and removes vm-* dirs left
 * by dead processes. vm_runtime_free() only after every VM is destroyed.
 * 0 or negative errno (missing artefacts: -ENOENT naming the file). */
int vm_runtime_new(struct ev_loop *loop, const struct vm_config *cfg, struct vm_runtime **ret,
		   struct errmsg *reterr);
struct vm_runtime *vm_runtime_free(struct vm_runtime *rt);
/* "kvm" or "tcg". */
const char *vm_runtime_accel(const struct vm_runtime *rt);

struct vm_events {
	/* The agent is up and accepts execs. */
	void (*ready)(struct vm *vm, void *ud);
	void (*started)(struct vm *vm, uint32_t exec_id, int pid, void *ud);
	/* A chunk of the process's stdout (fd 1) or stderr (fd 2), as soon as the guest read it. */
	void (*output)(struct vm *vm, uint32_t exec_id, int fd, const uint8_t *data, size_t len,
		       void *ud);
	/* The process ended: exit_code ≥ 0, or exit_code == -1 and sig > 0. */
	void (*exited)(struct vm *vm, uint32_t exec_id, int exit_code, int sig, void *ud);
	/* The agent could not start the process (e.g. ENOENT for argv[0]). */
	void (*exec_failed)(struct vm *vm, uint32_t exec_id, int err, const char *msg, void *ud);
	/* The VM is unusable: boot failed after every attempt, QEMU died, the agent hung up or sent
	 * garbage. No further callbacks follow; the caller still calls vm_destroy(). */
	void (*failed)(struct vm *vm, int err, const char *why, void *ud);
};

struct vm_exec_req {
	char *const *argv;	/* NULL-terminated, argv[0] resolved in the guest's PATH */
	char *const *env;	/* NULL-terminated "K=V", may be NULL */
	const char *cwd;	/* NULL: the user's home */
	uint32_t uid, gid;	/* 0 is refused: user code never runs as root; use VM_USER_UID */
};

#define VM_USER_UID 1000u
#define VM_USER_GID 1000u

/* Starts booting a VM (with the boot watchdog and retries). Returns at once; ready() or failed()
 * follows on the loop. 0 or negative errno. */
int vm_start(struct vm_runtime *rt, const struct vm_events *ev, void *ud, struct vm **ret,
	     struct errmsg *reterr);
/* Runs a process in a ready VM. *ret_exec_id identifies it in later callbacks. */
int vm_exec(struct vm *vm, const struct vm_exec_req *req, uint32_t *ret_exec_id,
	    struct errmsg *reterr);
/* Sends a signal to the process group of exec_id. */
int vm_signal(struct vm *vm, uint32_t exec_id, int sig);
/* Kills QEMU (SIGKILL), reaps it, removes the VM's run dir. NULL-safe; returns NULL. */
struct vm *vm_destroy(struct vm *vm);
/* Small integer naming the VM in logs. */
unsigned vm_id(const struct vm *vm);
/* Milliseconds from vm_start() to ready (0 until ready). */
uint64_t vm_boot_ms(const struct vm *vm);
/* Boot attempts so far (1 + retries after hung or crashed boots). */
unsigned vm_boot_attempts(const struct vm *vm);

#endif
