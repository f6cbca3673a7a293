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
struct wire_frame;

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
	const char *snap_dir;		/* template snapshots; NULL: <run_dir>/snap */
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
	/* The process ended: exit_code ≥ 0, or exit_code == -1 and sig > 0. Inside this callback
	 * vm_exit_limit() names the resource limit the process hit, if any. */
	void (*exited)(struct vm *vm, uint32_t exec_id, int exit_code, int sig, void *ud);
	/* The agent could not start the process (e.g. ENOENT for argv[0]). */
	void (*exec_failed)(struct vm *vm, uint32_t exec_id, int err, const char *msg, void *ud);
	/* The VM is unusable: boot failed after every attempt, QEMU died, the agent hung up or sent
	 * garbage. No further callbacks follow; the caller still calls vm_destroy(). */
	void (*failed)(struct vm *vm, int err, const char *why, void *ud);
	/* Frames the runtime does not handle itself (PUTOK, FILE, GETEND, the egress streams'
	 * NET_OPEN, NET_DATA, NET_ACK, NET_CLOSE) and ERROR frames whose id
	 * is not a running exec (answers to put batches / gets), after READY. f is valid during the
	 * call only. NULL = ignored. */
	void (*frame)(struct vm *vm, const struct wire_frame *f, void *ud);
};

struct vm_exec_req {
	char *const *argv;	/* NULL-terminated, argv[0] resolved in the guest's PATH */
	char *const *env;	/* NULL-terminated "K=V", may be NULL */
	const char *cwd;	/* NULL: the user's home */
	uint32_t uid, gid;	/* 0 is refused: user code never runs as root; use VM_USER_UID */
	/* Limits enforced inside the guest (schemas/agent-frame.md LIMITS); 0 = none. */
	uint64_t mem_max;	/* bytes: the exec's memory (its cgroup's memory.max, swap 0) */
	uint64_t disk_max;	/* bytes: the VM's writable layer (shared by the VM's execs) */
	uint32_t pids_max;	/* processes + threads of the exec */
};

#define VM_USER_UID 1000u
#define VM_USER_GID 1000u

/* Starts booting a VM (with the boot watchdog and retries). Returns at once; ready() or failed()
 * follows on the loop. 0 or negative errno. */
int vm_start(struct vm_runtime *rt, const struct vm_events *ev, void *ud, struct vm **ret,
	     struct errmsg *reterr);
/* Like vm_start(), with root filesystem <images_dir>/<image>.ext4 (NULL or "" = "base"). image is
 * [a-z0-9_-]{1,32} (-EINVAL otherwise); a missing file is -ENOENT with a message naming it. */
int vm_start_image(struct vm_runtime *rt, const char *image, const struct vm_events *ev, void *ud,
		   struct vm **ret, struct errmsg *reterr);
/* A cold boot with its own size (a job whose template is not served warm, issue 4). */
struct vm_start_cfg {
	const char *image;		/* NULL or "" = "base"; [a-z0-9_-]{1,32} */
	unsigned mem_mib, vcpus;	/* 0 = the runtime's */
};
/* Like vm_start_image(), with cfg's memory and vCPUs. Same returns and errors. */
int vm_start_with(struct vm_runtime *rt, const struct vm_start_cfg *cfg,
		  const struct vm_events *ev, void *ud, struct vm **ret, struct errmsg *reterr);
/* Runs a process in a ready VM. *ret_exec_id identifies it in later callbacks. */
int vm_exec(struct vm *vm, const struct vm_exec_req *req, uint32_t *ret_exec_id,
	    struct errmsg *reterr);
/* Sends a signal to the process group of exec_id (SIGKILL: to every process of the exec). */
int vm_signal(struct vm *vm, uint32_t exec_id, int sig);
/* Only inside vm_events.exited(): the limit the process hit according to the agent's EXIT —
 * "" (none), "memory", "pids" or "disk" (wire_limit_valid(s, true)). Outside it: "". Never
 * NULL; borrowed. */
const char *vm_exit_limit(const struct vm *vm);

/* ---- file transfer passthrough (schemas/agent-frame.md: put/putend/get) ----
 * The runtime does not interpret these: answers arrive through vm_events.frame. */
/* Sends a host→guest PUT, PUTEND, GET, NET_OK, NET_DATA, NET_ACK or NET_CLOSE frame to a ready VM. 0 or -errno (-EINVAL for another
 * type, -EAGAIN not ready, -EPIPE failed, -ENOBUFS queue full). */
int vm_send_frame(struct vm *vm, const struct wire_frame *f, struct errmsg *reterr);
/* A fresh id from the VM's exec-id counter (for put/get batches); never 0. */
uint32_t vm_next_id(struct vm *vm);
/* Bytes queued towards the guest not yet written (for flow control when streaming a checkout).
 * The queue holds at most 96 MiB (a 64 MiB checkout fits whole); streamers should wait while it
 * is over VM_SEND_BACKLOG_HINT and send more when it drains. 0 when there is no channel. */
size_t vm_send_backlog(const struct vm *vm);
#define VM_SEND_BACKLOG_HINT (4u * 1024u * 1024u)
/* Sends already-encoded frames (header+payload, e.g. corral-fetch's PUT stream) as they are. The
 * agent validates every frame; the host checks only the framing (wire_frame_split: whole frames,
 * each ≤ WIRE_FRAME_MAX) before queuing, all or nothing. 0 or -errno (-EINVAL bad framing). */
int vm_send_raw(struct vm *vm, const void *frames, size_t len, struct errmsg *reterr);
/* Kills QEMU (SIGKILL), reaps it, removes the VM's run dir. NULL-safe; returns NULL. */
struct vm *vm_destroy(struct vm *vm);
/* Small integer naming the VM in logs. */
unsigned vm_id(const struct vm *vm);
/* Milliseconds from vm_start() to ready (0 until ready). */
uint64_t vm_boot_ms(const struct vm *vm);
/* Boot attempts so far (1 + retries after hung or crashed boots). */
unsigned vm_boot_attempts(const struct vm *vm);

/* True when the VM was restored from a template snapshot; false for a cold boot, including a
 * clone whose restore failed and that booted cold instead (then vm_clone_fell_back() is true). */
bool vm_restored(const struct vm *vm);
bool vm_clone_fell_back(const struct vm *vm);
/* Hands the VM's callbacks to a new owner (a pool giving a VM to a job). */
void vm_set_events(struct vm *vm, const struct vm_events *ev, void *ud);
/* Sends the agent a fresh INIT (host wall clock, 32 new random bytes for the guest RNG). A pool
 * calls it when it hands a clone out: clones share their template's RNG state and clock. */
int vm_reinit(struct vm *vm, struct errmsg *reterr);
/* Calls ready() again from the loop (a pool's VM handed to a new owner behaves like a fresh
 * vm_start() that booted at once). Nothing fires if the VM is destroyed first. */
void vm_post_ready(struct vm *vm);
/* QEMU's pid (for /proc/<pid>/smaps_rollup in benchmarks), or -1. */
int vm_qemu_pid(const struct vm *vm);

/* ---- templates and clones (template.c, clone.c) ----
 * A template snapshot = one booted, warmed-up VM whose RAM is a file and whose device state was
 * saved with x-ignore-shared. Clones map the RAM file copy-on-write and restore the state in
 * ~35 ms instead of a 1.3-1.5 s boot. Snapshots live in <snap_dir>/<name>-<key>/, key = hash of
 * the artefacts' identity, QEMU, accel, memory, vCPUs, warm-up and host boot: a rebuilt image
 * gets a new key, and the old snapshot is removed. */
struct vm_template;

struct vm_template_cfg {
	const char *name;		/* [a-z0-9_-]{1,32} */
	const char *image;		/* root filesystem <images_dir>/<image>.ext4; NULL or "" = "base" */
	const char *const *warmup;	/* argv run as VM_USER_UID before the save; NULL: none */
	unsigned mem_mib, vcpus;	/* 0: the runtime's */
};

/* Reuses the snapshot for cfg if one exists, else starts building it (boot with watchdog and
 * retries, warm-up, save). Returns at once; done(t, err) follows on the loop: err 0 and clones
 * may be made, or negative. Free with vm_template_free() (clones made so far stay valid). */
int vm_template_new(struct vm_runtime *rt, const struct vm_template_cfg *cfg,
		    void (*done)(struct vm_template *t, int err, void *ud), void *ud,
		    struct vm_template **ret, struct errmsg *reterr);
struct vm_template *vm_template_free(struct vm_template *t);
/* Deletes the snapshot (it failed to restore): no more clones; make a new template. */
void vm_template_invalidate(struct vm_template *t);
bool vm_template_ready(const struct vm_template *t);
const char *vm_template_name(const struct vm_template *t);
const char *vm_template_key(const struct vm_template *t);
/* The warm-up argv (NULL-terminated), or NULL. */
char *const *vm_template_warmup(const struct vm_template *t);
/* Like vm_start(), restored from t's snapshot: ready() in tens of ms. If the restore fails the
 * VM boots cold instead (ev=pool.clone_failed fallback=boot); -EAGAIN if t is not ready. */
int vm_clone(struct vm_template *t, const struct vm_events *ev, void *ud, struct vm **ret,
	     struct errmsg *reterr);

/* ---- pools (pool.c): warm clones of one template, handed out ready ---- */
#define VM_POOL_MAX 256
struct vm_pool;

struct vm_pool_cfg {
	struct vm_template_cfg tpl;	/* name, warm-up (run in the template and in each clone
					 * before it counts as ready), memory, vCPUs */
	unsigned min, max;		/* ready VMs kept: target starts at min, grows on misses */
	unsigned idle_ms;		/* a ready VM idle this long shrinks the target; 0: 30000 */
	unsigned inflight;		/* VMs being made at once; 0: 2 */
	/* Limits of the per-clone warm-up exec (0 = none): the ones the pool's jobs will get, so
	 * the job finds the writable layer already at its size (no remount) and the guest's
	 * cgroup code already translated (TCG). */
	uint64_t warmup_mem_max, warmup_disk_max;
	uint32_t warmup_pids_max;
	bool no_template;		/* cold boots only (baselines, tests) */
	/* Optional admission (a host-wide memory/vCPU budget, corrald's budget.c): asked before
	 * the pool starts a VM (a clone, a cold boot or the template's build VM) of the template's
	 * mem_mib/vcpus; false = not now, the pool asks again on its next tick (500 ms).
	 * NULL = always. */
	bool (*admit)(const struct vm_pool *p, void *ud);
	void *admit_ud;
};

struct vm_pool_stats {
	unsigned ready, starting, target, min, max;
	bool template_ready;
	bool template_building;		/* the template's build VM is running */
	uint64_t acquired, misses, grows, shrinks;
	uint64_t clones, clone_fallbacks, boots, failures, template_failures;
	uint64_t clone_ms_last, clone_ms_sum, boot_ms_last, boot_ms_sum, ready_ms_last;
};

/* Starts the pool: builds or reuses the template in the background and fills up to min.
 * Everything happens on rt's loop; nothing blocks it. */
int vm_pool_new(struct vm_runtime *rt, const struct vm_pool_cfg *cfg, struct vm_pool **ret,
		struct errmsg *reterr);
/* Destroys the pool's VMs (not the ones handed out) and the template. NULL-safe. */
struct vm_pool *vm_pool_free(struct vm_pool *p);
/* Takes a ready VM (agent up, warm-up done) and gives it to ev/ud after a fresh INIT (clock,
 * seed). The caller owns it (vm_destroy after the job). -EAGAIN when none is ready: the pool
 * then grows its target (up to max) and the caller may boot or wait. */
int vm_pool_acquire(struct vm_pool *p, const struct vm_events *ev, void *ud, struct vm **ret);
void vm_pool_get_stats(const struct vm_pool *p, struct vm_pool_stats *out);
/* Raises the target by n (at most max), as n misses would (queue lag seen by the caller).
 * Returns by how much it rose. */
unsigned vm_pool_grow(struct vm_pool *p, unsigned n);
/* Gives back room: destroys one ready VM (else one still starting) and lowers the target by one
 * (not below min). 1 when a VM was destroyed, 0 when the pool had none. */
int vm_pool_evict(struct vm_pool *p);
const char *vm_pool_name(const struct vm_pool *p);
size_t vm_pool_ready_pids(const struct vm_pool *p, int *out, size_t n);

#endif
