/*
 * limits: resource limits of each exec inside the guest (schemas/agent-frame.md, LIMITS). At boot
 * it protects the agent from the OOM killer, mounts cgroup v2 and enables the memory and pids
 * controllers for LIMITS_CGROUP_DIR. Per exec it makes a cgroup exec-<id>-<n> with memory.max,
 * memory.swap.max 0 and pids.max, which the child joins before it drops root (spawn.c), resizes
 * the writable layer (the tmpfs under the overlay root) to disk_max, and at the end reads
 * memory.events / pids.events / the layer's free space to name the limit that was hit
 * (limits_calc.c decides). The layer is resized per exec, not at boot: a VM is booted (or cloned
 * from a template) before anyone knows which job it will run. It must never fail an exec: without
 * cgroups, execs run with rlimits only, and that is logged once.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define LOG_MOD "limits"
#include "log.h"
#include "util.h"

#define LIMITS_CONTROLLERS "+memory +pids"
#define LIMITS_EVENTS_MAX 1024		/* bytes read of an events file */

static struct {
	bool cgroup;			/* per-exec cgroups work */
	int rw_fd;			/* the writable layer's root, O_PATH; -1 = none */
	uint64_t disk_size;		/* size the layer was last set to, 0 = boot default */
	uint64_t seq;			/* makes cgroup names unique across reused exec ids */
	char pending[LIMITS_PENDING_MAX][LIMITS_NAME_MAX];	/* "" = free slot */
} lim = { .rw_fd = -1 };

static int write_file(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int r = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n < 0)
		r = -errno;
	else if ((size_t)n != len)
		r = -EIO;
	fd_close(fd);
	return r;
}

static int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	fd_close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static void cg_path(char *out, size_t n, const char *name, const char *file)
{
	snprintf(out, n, "%s/%s%s%s", LIMITS_CGROUP_DIR, name, file ? "/" : "", file ? file : "");
}

/* cgroup2 on LIMITS_CGROUP_ROOT with memory and pids for LIMITS_CGROUP_DIR's children. */
static int limits_cgroup_setup(const char **step)
{
	struct statfs sfs;
	int r;

	*step = "mount cgroup2";
	if (statfs(LIMITS_CGROUP_ROOT, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		if (mount("cgroup2", LIMITS_CGROUP_ROOT, "cgroup2", MS_NOSUID | MS_NOEXEC | MS_NODEV,
			  NULL) < 0)
			return -errno;
	}
	*step = "enable controllers at the root";
	r = write_file(LIMITS_CGROUP_ROOT "/cgroup.subtree_control", LIMITS_CONTROLLERS);
	if (r < 0)
		return r;
	*step = "mkdir " LIMITS_CGROUP_DIR;
	if (mkdir(LIMITS_CGROUP_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	*step = "enable controllers for the execs";
	r = write_file(LIMITS_CGROUP_DIR "/cgroup.subtree_control", LIMITS_CONTROLLERS);
	if (r < 0)
		return r;
	/* cpu: the agent (root cgroup, nice 0) then weighs as much as all execs together, so a
	 * job with hundreds of busy processes cannot starve it. Best effort. */
	r = write_file(LIMITS_CGROUP_ROOT "/cgroup.subtree_control", "+cpu");
	if (r < 0)
		log_warn("limits.no_cpu_controller", "err=%s", errno_name(r));
	return 0;
}

void limits_init(int rw_fd)
{
	const char *step = "";
	int r;

	lim.rw_fd = rw_fd;
	r = write_file("/proc/self/oom_score_adj", "-1000");
	if (r < 0)
		log_warn("limits.oom_adj_failed", "err=%s", errno_name(r));
	r = limits_cgroup_setup(&step);
	lim.cgroup = r >= 0;
	if (r < 0)
		log_warn("limits.no_cgroup", "step=\"%s\" err=%s what=\"execs get rlimits only: no "
			 "memory limit, pids by RLIMIT_NPROC\"", step, errno_name(r));
	else
		log_info("limits.ready", "cgroup=%s", LIMITS_CGROUP_DIR);
}

bool limits_have_cgroup(void)
{
	return lim.cgroup;
}

/* Sets the writable layer's size to bytes (tmpfs remount). A size below what is used fails:
 * logged, the old size stays. */
static void limits_disk(uint64_t bytes)
{
	char target[64], opts[64];

	if (lim.rw_fd < 0 || bytes == 0 || bytes == lim.disk_size)
		return;
	snprintf(target, sizeof(target), "/proc/self/fd/%d", lim.rw_fd);
	snprintf(opts, sizeof(opts), "size=%" PRIu64, bytes);
	if (mount(NULL, target, NULL, MS_REMOUNT | MS_NOATIME, opts) < 0) {
		log_warn("limits.disk_failed", "size=%" PRIu64 " err=%s", bytes, errno_name(errno));
		return;
	}
	lim.disk_size = bytes;
	log_debug("limits.disk", "size=%" PRIu64, bytes);
}

static int limits_set(const char *name, const char *file, uint64_t v)
{
	char path[160], text[32];

	cg_path(path, sizeof(path), name, file);
	snprintf(text, sizeof(text), "%" PRIu64, v);
	return write_file(path, text);
}

int limits_exec_begin(uint32_t id, const struct limits_req *req, struct limits_exec *ret)
{
	char path[160];
	int r = 0;

	*ret = (struct limits_exec){ .procs_fd = -1, .dir_fd = -1 };
	limits_disk(req->disk_max);
	if (!lim.cgroup)
		return 0;
	limits_sweep();
	snprintf(ret->name, sizeof(ret->name), "exec-%" PRIu32 "-%" PRIu64, id, ++lim.seq);
	cg_path(path, sizeof(path), ret->name, NULL);
	if (mkdir(path, 0755) < 0) {
		r = -errno;
		goto fail;
	}
	if (req->mem_max) {
		r = limits_set(ret->name, "memory.max", req->mem_max);
		if (r < 0)
			goto fail;
		(void)limits_set(ret->name, "memory.swap.max", 0);	/* absent without swap */
		ret->mem_limited = true;
	}
	if (req->pids_max) {
		r = limits_set(ret->name, "pids.max", req->pids_max);
		if (r < 0)
			goto fail;
	}
	cg_path(path, sizeof(path), ret->name, "cgroup.procs");
	ret->procs_fd = open(path, O_WRONLY | O_CLOEXEC);
	if (ret->procs_fd < 0) {
		r = -errno;
		goto fail;
	}
	cg_path(path, sizeof(path), ret->name, NULL);
	ret->dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);	/* -1: fork + join */
	return 0;
fail:
	log_warn("limits.exec_cgroup_failed", "id=%" PRIu32 " cgroup=%s err=%s", id, ret->name,
		 errno_name(r));
	cg_path(path, sizeof(path), ret->name, NULL);
	(void)rmdir(path);
	ret->name[0] = '\0';
	return 0;
}

int limits_exec_join(const struct limits_exec *le)
{
	if (!le || !le->name[0] || le->procs_fd < 0)
		return 0;
	if (write(le->procs_fd, "0", 1) != 1)
		return -errno;
	return 0;
}

void limits_exec_started(struct limits_exec *le)
{
	le->procs_fd = fd_close(le->procs_fd);
	le->dir_fd = fd_close(le->dir_fd);
}

static uint64_t read_event(const char *name, const char *file, const char *key)
{
	char path[160], text[LIMITS_EVENTS_MAX];
	uint64_t v = 0;

	cg_path(path, sizeof(path), name, file);
	if (read_file(path, text, sizeof(text)) < 0 || limits_parse_event(text, key, &v) < 0)
		return 0;
	return v;
}

static void limits_remove(const char *name)
{
	char path[160];

	cg_path(path, sizeof(path), name, NULL);
	if (rmdir(path) == 0 || errno == ENOENT)
		return;
	for (size_t i = 0; i < LIMITS_PENDING_MAX; i++) {
		if (!lim.pending[i][0]) {
			snprintf(lim.pending[i], sizeof(lim.pending[i]), "%s", name);
			return;
		}
	}
	log_warn("limits.cgroup_leaked", "cgroup=%s err=%s", name, errno_name(errno));
}

const char *limits_exec_end(struct limits_exec *le)
{
	struct limits_counters c = { 0 };
	struct statfs sfs;
	const char *verdict;

	le->procs_fd = fd_close(le->procs_fd);
	le->dir_fd = fd_close(le->dir_fd);
	c.thrash_killed = le->thrash_killed;
	if (le->name[0]) {
		c.oom_kill = read_event(le->name, "memory.events", "oom_kill");
		c.pids_max_hits = read_event(le->name, "pids.events", "max");
	}
	if (lim.rw_fd >= 0 && fstatfs(lim.rw_fd, &sfs) == 0) {
		c.disk_known = true;
		c.disk_free = (uint64_t)sfs.f_bavail * (uint64_t)sfs.f_bsize;
		c.disk_total = (uint64_t)sfs.f_blocks * (uint64_t)sfs.f_bsize;
	}
	verdict = limits_verdict(&c);
	if (verdict[0])
		log_info("limits.hit", "cgroup=%s limit=%s oom_kill=%" PRIu64 " pids_max=%" PRIu64
			 " disk_free=%" PRIu64, le->name[0] ? le->name : "-", verdict, c.oom_kill,
			 c.pids_max_hits, c.disk_free);
	if (le->name[0])
		limits_remove(le->name);
	le->name[0] = '\0';
	return verdict;
}

int limits_exec_kill(const struct limits_exec *le)
{
	char path[160];

	if (!le->name[0])
		return -ENOENT;
	cg_path(path, sizeof(path), le->name, "cgroup.kill");
	return write_file(path, "1");
}

bool limits_exec_watch(struct limits_exec *le, uint64_t now_ms)
{
	char path[160], text[LIMITS_EVENTS_MAX];
	uint64_t total = 0, dt;

	if (!le->name[0] || !le->mem_limited || le->thrash_killed)
		return false;
	if (le->watch_ms && now_ms - le->watch_ms < LIMITS_WATCH_MS)
		return false;
	cg_path(path, sizeof(path), le->name, "memory.pressure");
	if (read_file(path, text, sizeof(text)) < 0 || limits_parse_psi_full(text, &total) < 0) {
		le->mem_limited = false;	/* no PSI: nothing to watch */
		return false;
	}
	dt = le->watch_ms ? now_ms - le->watch_ms : 0;
	if (!limits_thrash_step(total - le->stall_us, dt, &le->thrash_ms) || !le->watch_ms) {
		le->watch_ms = now_ms;
		le->stall_us = total;
		return false;
	}
	le->watch_ms = now_ms;
	le->stall_us = total;
	if (read_event(le->name, "memory.events", "max") == 0)
		return false;	/* stalled, but not at its limit: not ours to judge */
	le->thrash_killed = limits_exec_kill(le) == 0;
	log_warn("limits.thrash_kill", "cgroup=%s thrash_ms=%" PRIu64 " killed=%d", le->name,
		 le->thrash_ms, (int)le->thrash_killed);
	return le->thrash_killed;
}

void limits_sweep(void)
{
	char path[160];

	for (size_t i = 0; i < LIMITS_PENDING_MAX; i++) {
		if (!lim.pending[i][0])
			continue;
		cg_path(path, sizeof(path), lim.pending[i], NULL);
		if (rmdir(path) == 0 || errno == ENOENT)
			lim.pending[i][0] = '\0';
	}
}
