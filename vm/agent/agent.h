/*
 * corral-agent: the guest's PID 1. Internal interfaces between its small modules: boot (mounts,
 * modules, overlay root), port (find the virtio-serial port), chan (framed I/O on the port with
 * bounded buffers), spawn (start one user process), loop (poll over everything, reap children) and
 * sysinit (clock and RNG from INIT). Nothing here is used outside vm/agent; nothing here talks to
 * Redis or knows about jobs.
 */
#ifndef CORRAL_AGENT_H
#define CORRAL_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <glob.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "errmsg.h"
#include "wire.h"

#define AGENT_PORT_NAME "corral.agent"
#define AGENT_MODULES_LIST "/lib/modules/corral.list"	/* in the initramfs, one file a line */
#define AGENT_ROOT_DEV "/dev/vda"
#define AGENT_DEV_WAIT_MS 20000		/* for /dev/vda and the port (slow on a busy TCG host) */
#define AGENT_USER_HOME_DEFAULT "/"
#define AGENT_PATH_DEFAULT "PATH=/usr/local/bin:/usr/bin:/bin"

#define AGENT_EXEC_MAX 64		/* concurrent execs */
#define AGENT_INBUF_MAX (WIRE_FRAME_HEADER + WIRE_FRAME_MAX)
#define AGENT_OUTQ_HIGH (1024 * 1024)	/* stop reading pipes and the port above this */
#define AGENT_OUTQ_MAX (4 * 1024 * 1024)	/* frames beyond this are dropped (logged) */
#define AGENT_HUP_RECHECK_MS 50		/* port re-check period while no host is connected */
#define AGENT_GET_CHUNKS_PER_TURN 4	/* FILE frames a get queues between two polls */

/* ---- console.c: messages on /dev/console, fatal exit ---- */
/* Makes sure fds 0, 1, 2 are open (the console, else /dev/null), so no later fd lands there. */
void console_setup(void);
/* Prints "corral-agent: FATAL: ..." on the console and powers the VM off. Never returns.
 * When the agent is not PID 1 (test mode) it exits with status 1 instead. */
void agent_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* ---- kmod.c ---- */
/* Loads every module named in list (paths relative to the list's directory), in order, with
 * finit_module. Modules already present are fine. 0 or -errno; reterr names the module. */
int kmod_load_list(const char *list, struct errmsg *reterr);

/* ---- boot.c ---- */
/* As PID 1 in the initramfs: mounts /proc /sys /dev, loads modules, mounts AGENT_ROOT_DEV
 * read-only under a tmpfs overlay and makes that the root, then mounts /proc (hidepid=2),
 * /sys, /dev, /dev/shm inside it. 0 or -errno with reterr. */
int boot_run(struct errmsg *reterr);
/* Waits up to timeout_ms for path to exist. 0 or -ETIMEDOUT. */
int boot_wait_path(const char *path, unsigned timeout_ms);
/* The writable layer's tmpfs root (an O_PATH fd, kept after the switch hides it), or -1. The
 * caller may take it over. */
int boot_rw_fd(void);

/* ---- port.c ---- */
/* Finds the virtio-serial port called name and opens it (read/write, nonblocking, cloexec,
 * O_ASYNC with SIGIO to us so host connects wake the loop). Fd or -errno. */
int port_open(const char *name, unsigned timeout_ms, struct errmsg *reterr);

/* ---- chan.c: framed I/O on the port ---- */
struct chan {
	int fd;
	bool is_stream;		/* test mode: a socket, EOF is final */
	bool hup;		/* no host connected right now */
	bool need_ready;	/* send READY at the next connect */
	bool ready_at_head;	/* the head of out is an unsent READY */
	bool eof;		/* stream closed for good (test mode only) */
	size_t head_left;	/* bytes of the head frame of out still to write (0 = at a boundary) */
	struct buf in;
	size_t in_off;		/* bytes at the front of in already taken as frames */
	struct buf out;
	uint64_t frames_dropped;
};

void chan_init(struct chan *c, int fd, bool is_stream);
void chan_free(struct chan *c);
/* Queues one frame. 0, or -EMSGSIZE when the queue is full (frame dropped, counted). */
int chan_send(struct chan *c, const struct wire_frame *f);
/* Queues an ERROR frame about exec id (0 = none); err may be ±errno. Returns chan_send()'s. */
int chan_send_error(struct chan *c, uint32_t id, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Writes as much of the queue as the port takes. 0 or -errno (other than EAGAIN). */
int chan_flush(struct chan *c);
/* Reads what is available into the input buffer. 1 if bytes came, 0 if none, -EPIPE on hangup
 * (the chan is then in the hup state), other -errno on error. */
int chan_fill(struct chan *c);
/* Takes the next whole frame from the input. 1 and *ret (caller frees) when one was there,
 * 0 when more bytes are needed. Garbage is answered with an ERROR frame and skipped: this never
 * fails. */
int chan_next(struct chan *c, struct wire_frame **ret);
/* Checks without blocking whether a host is connected again; leaves the hup state if so. */
void chan_recheck(struct chan *c);
/* Marks the chan hung up: drops a torn frame and unread input, arms READY. */
void chan_set_hup(struct chan *c);

/* ---- limits.c, limits_calc.c: per-exec limits (schemas/agent-frame.md LIMITS) ---- */
#define LIMITS_CGROUP_ROOT "/sys/fs/cgroup"
#define LIMITS_CGROUP_DIR LIMITS_CGROUP_ROOT "/corral"	/* parent of every exec's cgroup */
#define LIMITS_DISK_SLACK_MIN (64 * 1024)	/* "full": free ≤ max(this, 1 % of the layer) */
#define LIMITS_NPROC_SLACK 32		/* RLIMIT_NPROC above pids_max when the cgroup enforces
					 * it, so the exact (and counted) cgroup limit fires first */
#define LIMITS_PENDING_MAX (2 * AGENT_EXEC_MAX)	/* cgroups waiting for their last process */
#define LIMITS_NAME_MAX 32
#define LIMITS_WATCH_MS 500		/* memory pressure check period of a memory-limited exec */
#define LIMITS_THRASH_PCT 50		/* "full" memory stall share of the time that counts... */
#define LIMITS_THRASH_MS 3000		/* ...when it lasts this long at the limit: killed */

struct limits_req {
	uint64_t mem_max;	/* bytes, 0 = none */
	uint64_t disk_max;	/* bytes, 0 = leave the writable layer's size alone */
	uint32_t pids_max;	/* 0 = none */
};

/* One exec's cgroup. */
struct limits_exec {
	char name[LIMITS_NAME_MAX];	/* "" = no cgroup (rlimits only) */
	int procs_fd;			/* its cgroup.procs, for the child to join; -1 after fork */
	int dir_fd;			/* the cgroup's directory, for clone3 CLONE_INTO_CGROUP
					 * (spawn.c); -1 after fork */
	bool mem_limited;		/* memory.max set: watched for thrashing */
	uint64_t watch_ms;		/* last pressure check (monotonic), 0 = none yet */
	uint64_t stall_us;		/* memory.pressure "full" total at that check */
	uint64_t thrash_ms;		/* how long it has been thrashing */
	bool thrash_killed;		/* the agent killed it for thrashing at its limit */
};

/* What an exec left behind, read at its exit. */
struct limits_counters {
	uint64_t oom_kill;		/* memory.events oom_kill */
	bool thrash_killed;		/* killed by the agent, thrashing at memory.max */
	uint64_t pids_max_hits;		/* pids.events max */
	bool disk_known;		/* the writable layer could be measured */
	uint64_t disk_free, disk_total;	/* bytes */
};

/* As PID 1 after boot_run(): oom_score_adj -1000 for the agent, cgroup2 on /sys/fs/cgroup
 * (mounted when it is not), controllers memory and pids enabled below LIMITS_CGROUP_DIR.
 * rw_fd: the writable layer's root (O_PATH; limits owns it now), -1 = none. When cgroups cannot
 * be used, execs get rlimits only and one line says so (ev=limits.no_cgroup). Never fails. */
void limits_init(int rw_fd);
bool limits_have_cgroup(void);
/* Before the fork of exec id: a fresh cgroup with req's limits (memory.max, memory.swap.max 0,
 * pids.max), and the writable layer resized to disk_max. Fills *ret (ret->name "" when running
 * without a cgroup: logged). 0; never fails the exec. */
int limits_exec_begin(uint32_t id, const struct limits_req *req, struct limits_exec *ret);
/* The child's side, between fork and exec, still root: joins the cgroup. 0 or -errno. */
int limits_exec_join(const struct limits_exec *le);
/* RLIMIT_NPROC for the exec's user (0 = leave it): pids_max, plus LIMITS_NPROC_SLACK when the
 * cgroup enforces pids_max exactly. */
uint32_t limits_nproc(const struct limits_exec *le, uint32_t pids_max);
/* After fork (parent): closes procs_fd. */
void limits_exec_started(struct limits_exec *le);
/* The exec is over (reaped, pipes closed): reads the counters, removes its cgroup (later, from
 * limits_sweep(), while processes remain) and returns the limit it hit: "", "memory", "pids",
 * "disk" (static). */
const char *limits_exec_end(struct limits_exec *le);
/* SIGKILL to every process of the exec, also those that left its process group (cgroup.kill).
 * 0, or -errno (-ENOENT: no cgroup). */
int limits_exec_kill(const struct limits_exec *le);
/* Retries removing the cgroups of ended execs (call after reaping). */
void limits_sweep(void);
/* Every LIMITS_WATCH_MS while a memory-limited exec runs: at its limit without swap the kernel
 * may reclaim and re-read the exec's code pages for minutes instead of OOM-killing (it keeps
 * "making progress"). Processes stalled on memory (PSI "full") ≥ LIMITS_THRASH_PCT % of the time
 * for LIMITS_THRASH_MS after memory.max was hit: the agent kills the exec's cgroup and reports
 * "memory", like an OOM kill. true when it killed. */
bool limits_exec_watch(struct limits_exec *le, uint64_t now_ms);
/* Pure: "full ... total=N" of a PSI file → N (µs). 0 or -ENOENT/-EINVAL. */
int limits_parse_psi_full(const char *text, uint64_t *ret);
/* Pure: one watch step. Adds dt_ms to *thrash_ms when the stall share of dt_ms is at least
 * LIMITS_THRASH_PCT %, else resets it; true once it reaches LIMITS_THRASH_MS. */
bool limits_thrash_step(uint64_t stall_us, uint64_t dt_ms, uint64_t *thrash_ms);
/* Pure (limits_calc.c). Finds "key N" in a cgroup events file: 0 and *ret, -ENOENT, -EINVAL. */
int limits_parse_event(const char *text, const char *key, uint64_t *ret);
bool limits_disk_full(uint64_t free_bytes, uint64_t total_bytes);
/* "memory" (an OOM kill) before "pids" (a refused fork) before "disk" (layer full), else "". */
const char *limits_verdict(const struct limits_counters *c);

/* ---- spawn.c ---- */
struct spawn_req {
	char *const *argv;
	char *const *env;	/* may be NULL */
	size_t envc;
	const char *cwd;	/* NULL: the user's home */
	uid_t uid;
	gid_t gid;
	const struct limits_exec *limits;	/* NULL: no cgroup */
	uint32_t nproc;		/* RLIMIT_NPROC, 0 = unchanged */
};

struct spawn_result {
	pid_t pid;
	int out_fd;		/* read ends, nonblocking, cloexec */
	int err_fd;
};

/* Starts the process in its own session with stdin /dev/null, stdout/stderr pipes, the given
 * unprivileged uid/gid, no capabilities and no_new_privs. Refuses uid or gid 0 (-EPERM).
 * 0 and *ret, or -errno (the errno of the failed step in the child, e.g. -ENOENT from execve)
 * with reterr naming the step. */
int spawn_start(const struct spawn_req *req, struct spawn_result *ret, struct errmsg *reterr);
/* Looks up uid's home directory in /etc/passwd into out. 0 or -ENOENT. */
int spawn_home_of(uid_t uid, char *out, size_t n);

/* ---- put.c: PUT/PUTEND (schemas/agent-frame.md) ---- */
struct put_state {
	int root_fd;		/* paths are resolved below this directory ("/" in the VM) */
	int err;		/* first error of the batch (-errno), 0 = none */
	char msg[WIRE_REASON_MAX + 1];
	uint64_t count, bytes;
	int file_fd;		/* the file created last in this batch, for appends */
	char file_path[WIRE_PATH_MAX + 1];
};

void put_init(struct put_state *ps, int root_fd);
void put_free(struct put_state *ps);
/* Applies one PUT (skipped after the batch's first error). 0 or -errno (also kept in ps). */
int put_frame(struct put_state *ps, const struct wire_frame *f);
/* Ends the batch: fills reply with PUTOK {id, count, bytes} or ERROR {id, err, message naming
 * the path}, then starts a fresh batch. */
void put_end(struct put_state *ps, uint32_t id, struct wire_frame *reply);

/* ---- get.c: GET → FILE…, GETEND ---- */
struct get_seen;

struct get_op {
	bool active;
	uint32_t id;
	uint32_t uid, gid;
	uint64_t max, used;	/* data bytes allowed / sent */
	char **patterns;
	size_t npatterns, pi;	/* next pattern to expand */
	glob_t gl;
	bool globbed;		/* gl holds the current pattern's matches */
	size_t gi;		/* next match */
	int fd;			/* the file being sent, -1 between files */
	const char *path;	/* its path (in gl) */
	uint64_t size, off;
	uint32_t mode;
	uint64_t count;		/* files reported */
	bool truncated;
	struct get_seen *seen;	/* (dev, ino) of reported files, ≤ WIRE_ARTEFACTS_COUNT_MAX */
	size_t nseen;
};

/* Starts a get (one at a time: -EBUSY; uid/gid 0: -EPERM). */
int get_start(struct get_op *g, const struct wire_frame *f, struct errmsg *reterr);
bool get_active(const struct get_op *g);
/* Queues the next FILE frame (or the GETEND, which ends the get). Call while the output queue
 * has room. 0. */
int get_step(struct get_op *g, struct chan *c);
void get_free(struct get_op *g);

/* ---- proxy.c, proxy_req.c: the egress HTTP proxy on 127.0.0.1:3128 (net_* frames) ---- */
#define PROXY_PORT 3128
#define PROXY_PORT_ENV "CORRAL_AGENT_PROXY_PORT"	/* test mode (--fd): listen here; unset = off */
#define PROXY_STREAMS_MAX 64		/* client connections at once (= the host's per-job cap) */
#define PROXY_HEAD_MAX 8192		/* the first request head */
#define PROXY_HEAD_TIMEOUT_MS 30000	/* a client that sends no complete head is answered 408 */

struct proxy;
struct pollfd;

struct proxy_target {
	uint8_t kind;				/* enum wire_net_kind */
	char host[WIRE_NET_HOST_MAX + 1];	/* lower-cased */
	uint16_t port;
};

/* Listens on 127.0.0.1:port (after bringing lo up when lo_up). 0 or -errno with reterr. */
int proxy_new(unsigned port, bool lo_up, struct proxy **ret, struct errmsg *reterr);
void proxy_free(struct proxy *p);
/* Fills pfd (room for 1 + PROXY_STREAMS_MAX) with the listener and the clients; clients are
 * read only when room (the channel's output queue is below AGENT_OUTQ_HIGH). Returns the count
 * (0 when p is NULL). */
size_t proxy_pollfds(struct proxy *p, struct pollfd *pfd, bool room);
/* Handles poll results for the slots proxy_pollfds() filled, and head timeouts. */
void proxy_events(struct proxy *p, struct chan *c, const struct pollfd *pfd, size_t n);
/* True while a client is connected (loop.c then wakes at least once a second). */
bool proxy_busy(const struct proxy *p);
/* A NET_OK, NET_DATA, NET_ACK or NET_CLOSE frame from the host (p may be NULL: refused). */
void proxy_frame(struct proxy *p, struct chan *c, const struct wire_frame *f);
/* Offset just past the "\r\n\r\n" ending a request head in p[0..n), or 0. */
size_t proxy_req_head_end(const uint8_t *p, size_t n);
/* Parses a complete request head: 0 and *r, or -EINVAL with *why (a static string for the 400
 * answer). */
int proxy_req_parse(const uint8_t *head, size_t n, struct proxy_target *r, const char **why);

/* ---- sysinit.c ---- */
/* Sets CLOCK_REALTIME to time_ns (if non-zero) and mixes seed into the kernel RNG, crediting it.
 * 0 or -errno with reterr. */
int sysinit_apply(uint64_t time_ns, const uint8_t *seed, size_t seed_len, struct errmsg *reterr);

/* ---- loop.c ---- */
/* Serves frames on fd until the stream ends (test mode) — as PID 1 it never returns.
 * Signals SIGCHLD and SIGIO must already be blocked. 0 or -errno on a fatal setup error. */
int loop_run(int port_fd, bool is_stream);

#endif
