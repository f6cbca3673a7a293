/*
 * template: finds or builds a template snapshot, the thing clones restore from (clone.c). A
 * snapshot lives in <snap_dir>/<name>-<key>/ as `mem` (the guest RAM, a file) and `state` (the
 * device state, ~63 KB). The key hashes everything the saved guest depends on: the artefacts'
 * identity (the image's name and root disk, kernel, initramfs: resolved paths, sizes, mtimes; the
 * images dir links into a cache keyed by recipe hash, so a rebuilt image resolves elsewhere) and
 * manifest.txt, the QEMU binary, accel, memory,
 * vCPUs, warm-up argv, extra kernel arguments and the host boot id (the RAM file is not fsynced:
 * after a reboot it is rebuilt). FNV-1a 64: a cache key, not a security boundary; the directory
 * is ours (0700).
 *
 * Build: boot one VM with its RAM in <tmp>/mem (share=on) under the usual watchdog and retries,
 * run the warm-up command, hang up the agent channel (the agent then waits for a new host, which
 * every clone will be), wait TPL_SETTLE_MS so the guest has seen the hang-up, set x-ignore-shared
 * and `migrate` to a unix socket in the VM's run dir that we accept and copy into <tmp>/state
 * (no -sandbox spawn needed, no fd passing over QMP), wait for status "completed", kill QEMU and
 * rename <tmp> into place. Do not `stop` first: the paused run state would be saved too.
 * It must not make clones (clone.c, boot.c do) nor keep pools (pool.c).
 */
#define LOG_MOD "vm"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "vm_int.h"

#define TPL_NAME_MAX 32
#define TPL_WARMUP_ARGS_MAX 32
#define TPL_WARMUP_TIMEOUT_MS 60000u
#define TPL_SETTLE_MS 300u		/* after the hang-up, before the save */
#define TPL_STATE_MAX (64u << 20)	/* device state bytes we accept */
#define TPL_POLL_MS 10u			/* query-migrate period after the stream ended */

enum tpl_state { TPL_BUILDING, TPL_READY, TPL_FAILED };

static const char *const tpl_files[] = { "mem", "state" };

struct vm_template {
	struct vm_runtime *rt;
	char name[TPL_NAME_MAX + 1];
	char image[TPL_NAME_MAX + 1];
	char rootfs[PATH_MAX];		/* "" = the runtime's base.ext4 */
	char key[17];
	char dir[PATH_MAX - 32], tmp[PATH_MAX - 16];	/* room for /mem, /state */
	char mig_sock[VM_SOCK_PATH_MAX + 1];
	unsigned mem_mib, vcpus;
	char *warmup[TPL_WARMUP_ARGS_MAX + 1];
	enum tpl_state state;
	void (*done)(struct vm_template *t, int err, void *ud);
	void *ud;
	/* build */
	struct vm *vm;
	uint32_t exec_id;
	uint64_t t0;
	ev_timer timer;
	int lfd, cfd, ofd;
	int mem_fd;		/* jailed runtimes: the sealed RAM clones map (tpl_memfd.c), or -1 */
	ev_io lio, cio;
	size_t state_bytes;
	bool stream_done;
	ev_timer finish;	/* calls done() from the loop, never from vm_template_new */
	int err;
	char why[VM_WHY_MAX];
};

static void hash_bytes(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= 1099511628211ull;
	}
}

static void hash_str(uint64_t *h, const char *s)
{
	hash_bytes(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

/* A file's identity: resolved path, size, mtime. */
static void hash_file_id(uint64_t *h, const char *path)
{
	char real[PATH_MAX];
	struct stat st;

	hash_str(h, realpath(path, real) ? real : path);
	if (stat(path, &st) == 0) {
		hash_bytes(h, &st.st_size, sizeof(st.st_size));
		hash_bytes(h, &st.st_mtim, sizeof(st.st_mtim));
		hash_bytes(h, &st.st_ino, sizeof(st.st_ino));
	}
}

static void hash_file_content(uint64_t *h, const char *path, size_t max)
{
	char buf[4096];
	size_t total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	while (total < max && (n = read(fd, buf, sizeof(buf))) > 0) {
		hash_bytes(h, buf, (size_t)n);
		total += (size_t)n;
	}
	close(fd);
}

static void make_key(struct vm_template *t)
{
	struct vm_runtime *rt = t->rt;
	uint64_t h = 14695981039346656037ull;
	char manifest[PATH_MAX];

	hash_str(&h, "corral-template-v1");
	hash_file_id(&h, rt->kernel);
	hash_file_id(&h, rt->initrd);
	hash_str(&h, t->image);
	hash_file_id(&h, t->rootfs[0] ? t->rootfs : rt->rootfs);
	snprintf(manifest, sizeof(manifest), "%s/manifest.txt", rt->images_dir);
	hash_file_content(&h, manifest, 1u << 20);
	hash_file_id(&h, rt->qemu);
	hash_str(&h, rt->accel);
	hash_str(&h, rt->append_extra);
	hash_bytes(&h, &t->mem_mib, sizeof(t->mem_mib));
	hash_bytes(&h, &t->vcpus, sizeof(t->vcpus));
	for (size_t i = 0; t->warmup[i]; i++)
		hash_str(&h, t->warmup[i]);
	hash_file_content(&h, "/proc/sys/kernel/random/boot_id", 64);
	snprintf(t->key, sizeof(t->key), "%016llx", (unsigned long long)h);
}

/* Unlinks the snapshot files in dir and the dir itself; nothing else. */
static void snap_remove(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	if (dfd < 0)
		return;
	for (size_t i = 0; i < sizeof(tpl_files) / sizeof(tpl_files[0]); i++)
		(void)unlinkat(dfd, tpl_files[i], 0);
	close(dfd);
	(void)rmdir(dir);
}

/* Removes snapshots of this template name with another key (an older image), and stale tmps. */
static void sweep_old(struct vm_template *t)
{
	char want[TPL_NAME_MAX + 24], path[PATH_MAX];
	size_t nl = strlen(t->name);
	DIR *d = opendir(t->rt->snap_dir);
	struct dirent *e;

	if (!d)
		return;
	snprintf(want, sizeof(want), "%s-%s", t->name, t->key);
	while ((e = readdir(d))) {
		const char *rest = e->d_name + nl;
		unsigned long pid;

		if (strncmp(e->d_name, t->name, nl) != 0 || rest[0] != '-' || strlen(rest) < 17)
			continue;
		if (strcmp(e->d_name, want) == 0)
			continue;
		/* <name>-<16 hex>[.tmp-<pid>]: a live builder's tmp is left alone */
		if (strlen(rest) == 17) {
			/* another key: an older image or parameters */
		} else if (sscanf(rest + 17, ".tmp-%lu", &pid) == 1) {
			if (pid <= INT32_MAX && (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
				continue;
		} else {
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", t->rt->snap_dir, e->d_name);
		log_info("template.removed", "template=%s dir=%s", t->name, path);
		snap_remove(path);
	}
	closedir(d);
}

static bool snap_usable(const char *dir)
{
	char p[PATH_MAX + 8];
	struct stat st;

	snprintf(p, sizeof(p), "%s/state", dir);
	if (stat(p, &st) < 0 || st.st_size == 0)
		return false;
	snprintf(p, sizeof(p), "%s/mem", dir);
	return stat(p, &st) == 0 && st.st_size > 0;
}

static void build_stop(struct vm_template *t)
{
	struct ev_loop *loop = t->rt->loop;

	ev_timer_stop(loop, &t->timer);
	ev_io_stop(loop, &t->lio);
	ev_io_stop(loop, &t->cio);
	t->lfd = fd_close(t->lfd);
	t->cfd = fd_close(t->cfd);
	t->ofd = fd_close(t->ofd);
	t->vm = vm_destroy(t->vm);
}

static void finish_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vm_template *t = w->data;

	if (t->done)
		t->done(t, t->state == TPL_READY ? 0 : t->err, t->ud);
}

static void build_failed(struct vm_template *t, int err, const char *why)
{
	char q[LOG_QUOTE_MAX + 16];

	build_stop(t);
	snap_remove(t->tmp);
	t->state = TPL_FAILED;
	t->err = err < 0 ? err : -EIO;
	snprintf(t->why, sizeof(t->why), "%s", why);
	log_error("template.failed", "template=%s key=%s err=%s reason=%s", t->name, t->key,
		  errno_name(t->err), log_quote(q, sizeof(q), why, strlen(why)));
	ev_timer_start(t->rt->loop, &t->finish);
}

/* Jailed runtimes: the sealed read-only copy of the RAM that clones map (vm/jailer/mem.c says
 * why the file itself cannot be handed to a jailed QEMU). Unjailed QEMUs run as the worker
 * anyway and map the file. */
static int seal_ram(struct vm_template *t, struct errmsg *reterr)
{
	char mem[PATH_MAX], name[TPL_NAME_MAX + 16];
	uint64_t t0 = time_mono_ms();
	size_t bytes = 0;
	int fd;

	if (!t->rt->jail)
		return 0;
	snprintf(mem, sizeof(mem), "%s/mem", t->dir);
	snprintf(name, sizeof(name), "corral-tpl-%s", t->name);
	fd = tpl_memfd_make(mem, name, &bytes, reterr);
	if (fd < 0)
		return fd;
	t->mem_fd = fd_close(t->mem_fd);
	t->mem_fd = fd;
	log_info("template.sealed", "template=%s key=%s ram_mib=%zu ms=%llu", t->name, t->key,
		 bytes >> 20, (unsigned long long)(time_mono_ms() - t0));
	return 0;
}

static void build_done(struct vm_template *t)
{
	struct errmsg em = { "" };
	char mem[PATH_MAX];
	char why[PATH_MAX + 64];

	/* The RAM file moves from the VM dir (where a jailed QEMU could create it) into the
	 * snapshot, on the same filesystem (snap_dir defaults to <run_dir>/snap). */
	snprintf(mem, sizeof(mem), "%s/mem", t->tmp);
	if (rename(t->vm->spec.mem_path, mem) < 0) {
		snprintf(why, sizeof(why), "move RAM file into %s: %s", t->tmp, errno_name(errno));
		build_failed(t, -errno, why);
		return;
	}
	/* Only corrald reads it: jailed clones map the sealed memfd (seal_ram). */
	(void)chmod(mem, 0600);
	build_stop(t);
	if (rename(t->tmp, t->dir) < 0) {
		if (errno == ENOTEMPTY || errno == EEXIST) {
			snap_remove(t->tmp);	/* another process made it first */
		} else {
			snprintf(why, sizeof(why), "rename %s: %s", t->tmp, errno_name(errno));
			build_failed(t, -errno, why);
			return;
		}
	}
	if (seal_ram(t, &em) < 0) {
		snprintf(why, sizeof(why), "seal RAM: %s", em.msg);
		snap_remove(t->dir);
		build_failed(t, -EIO, why);
		return;
	}
	t->state = TPL_READY;
	log_info("template.built", "template=%s key=%s ms=%llu state_bytes=%zu dir=%s", t->name,
		 t->key, (unsigned long long)(time_mono_ms() - t->t0), t->state_bytes, t->dir);
	ev_timer_start(t->rt->loop, &t->finish);
}

static void query_reply(struct qmp *q, int err, const struct qmp_msg *m, void *ud);

static void poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vm_template *t = w->data;
	struct errmsg em = { "" };

	if (!t->vm || !t->vm->qmp ||
	    qmp_execute(t->vm->qmp, "query-migrate", NULL, query_reply, t, &em) < 0)
		build_failed(t, -EIO, "query-migrate: QMP gone");
}

static void query_reply(struct qmp *q, int err, const struct qmp_msg *m, void *ud)
{
	struct vm_template *t = ud;
	char why[QMP_DESC_MAX + QMP_NAME_MAX + 64];

	if (err < 0 || !m) {
		snprintf(why, sizeof(why), "query-migrate: %s", m ? m->desc : "?");
		build_failed(t, -EIO, why);
		return;
	}
	if (strcmp(m->status, "completed") == 0) {
		build_done(t);
		return;
	}
	if (strcmp(m->status, "failed") == 0 || strcmp(m->status, "cancelled") == 0) {
		snprintf(why, sizeof(why), "migration %s: %s", m->status, m->desc);
		build_failed(t, -EIO, why);
		return;
	}
	ev_timer_set(&t->timer, TPL_POLL_MS / 1000.0, 0.);
	ev_timer_start(t->rt->loop, &t->timer);
}

static void conn_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vm_template *t = w->data;
	char buf[65536], why[128];
	ssize_t n;
	int r;

	for (;;) {
		n = read(t->cfd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			snprintf(why, sizeof(why), "migration stream: %s", errno_name(errno));
			build_failed(t, -errno, why);
			return;
		}
		if (n == 0)
			break;
		if (t->state_bytes + (size_t)n > TPL_STATE_MAX) {
			build_failed(t, -EFBIG, "migration stream over TPL_STATE_MAX");
			return;
		}
		r = fd_write_all(t->ofd, buf, (size_t)n);
		if (r < 0) {
			snprintf(why, sizeof(why), "write state: %s", errno_name(r));
			build_failed(t, r, why);
			return;
		}
		t->state_bytes += (size_t)n;
	}
	ev_io_stop(loop, &t->cio);
	t->cfd = fd_close(t->cfd);
	t->ofd = fd_close(t->ofd);
	ev_timer_stop(loop, &t->timer);
	ev_timer_init(&t->timer, poll_cb, 0., 0.);
	t->timer.data = t;
	ev_timer_start(loop, &t->timer);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vm_template *t = w->data;
	char p[PATH_MAX + 8];

	t->cfd = accept4(t->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (t->cfd < 0)
		return;
	ev_io_stop(loop, &t->lio);
	t->lfd = fd_close(t->lfd);
	snprintf(p, sizeof(p), "%s/state", t->tmp);
	t->ofd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (t->ofd < 0) {
		build_failed(t, -errno, "open state file");
		return;
	}
	ev_io_init(&t->cio, conn_cb, t->cfd, EV_READ);
	t->cio.data = t;
	ev_io_start(loop, &t->cio);
}

static void migrate_reply(struct qmp *q, int err, const struct qmp_msg *m, void *ud)
{
	struct vm_template *t = ud;
	char why[QMP_DESC_MAX + 64];

	if (err < 0) {
		snprintf(why, sizeof(why), "migrate refused: %s", m ? m->desc : "?");
		build_failed(t, -EIO, why);
	}
}

static void caps_reply(struct qmp *q, int err, const struct qmp_msg *m, void *ud)
{
	struct vm_template *t = ud;
	struct errmsg em = { "" };
	char why[QMP_DESC_MAX + 64], args[VM_SOCK_PATH_MAX + 32];

	if (err < 0) {
		snprintf(why, sizeof(why), "x-ignore-shared refused: %s", m ? m->desc : "?");
		build_failed(t, -EIO, why);
		return;
	}
	/* The path holds no quotes or backslashes (vm_paths_make's layout). */
	snprintf(args, sizeof(args), "{\"uri\": \"unix:%s\"}", t->mig_sock);
	if (qmp_execute(q, "migrate", args, migrate_reply, t, &em) < 0)
		build_failed(t, -EIO, em.msg);
}

/* The guest has seen the hang-up: listen, then ask QEMU to save into our socket. */
static void settle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	static const char caps[] =
		"{\"capabilities\": [{\"capability\": \"x-ignore-shared\", \"state\": true}]}";
	struct vm_template *t = w->data;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct errmsg em = { "" };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", t->mig_sock);
	(void)unlink(t->mig_sock);
	t->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->lfd < 0 || bind(t->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(t->mig_sock, 0666) < 0 || listen(t->lfd, 1) < 0) {
		build_failed(t, -errno, "migration socket");
		return;
	}
	ev_io_init(&t->lio, accept_cb, t->lfd, EV_READ);
	t->lio.data = t;
	ev_io_start(loop, &t->lio);
	if (!t->vm->qmp ||
	    qmp_execute(t->vm->qmp, "migrate-set-capabilities", caps, caps_reply, t, &em) < 0)
		build_failed(t, -EIO, em.msg[0] ? em.msg : "QMP not connected");
}

static void save(struct vm_template *t)
{
	/* Hang up: the agent drops to "no host" and answers the next connection with READY. */
	t->vm->chan = channel_free(t->vm->chan);
	ev_timer_init(&t->timer, settle_cb, TPL_SETTLE_MS / 1000.0, 0.);
	t->timer.data = t;
	ev_timer_start(t->rt->loop, &t->timer);
}

static void warmup_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	build_failed(w->data, -ETIMEDOUT, "warm-up command timed out");
}

static void on_ready(struct vm *vm, void *ud)
{
	struct vm_template *t = ud;
	struct vm_exec_req req = { .argv = t->warmup, .uid = VM_USER_UID, .gid = VM_USER_GID };
	struct errmsg em = { "" };

	if (!t->warmup[0]) {
		save(t);
		return;
	}
	if (vm_exec(vm, &req, &t->exec_id, &em) < 0) {
		build_failed(t, -EIO, em.msg);
		return;
	}
	ev_timer_init(&t->timer, warmup_timeout_cb, TPL_WARMUP_TIMEOUT_MS / 1000.0, 0.);
	t->timer.data = t;
	ev_timer_start(t->rt->loop, &t->timer);
}

static void on_exited(struct vm *vm, uint32_t id, int code, int sig, void *ud)
{
	struct vm_template *t = ud;
	char why[96];

	ev_timer_stop(t->rt->loop, &t->timer);
	if (code != 0) {
		snprintf(why, sizeof(why), "warm-up exited with code %d signal %d", code, sig);
		build_failed(t, -EIO, why);
		return;
	}
	save(t);
}

static void on_exec_failed(struct vm *vm, uint32_t id, int err, const char *msg, void *ud)
{
	char why[512];

	snprintf(why, sizeof(why), "warm-up cannot start: %s (%s)", msg, errno_name(err));
	build_failed(ud, -EIO, why);
}

static void on_failed(struct vm *vm, int err, const char *why, void *ud)
{
	build_failed(ud, err, why);
}

static const struct vm_events tpl_events = {
	.ready = on_ready,
	.exited = on_exited,
	.exec_failed = on_exec_failed,
	.failed = on_failed,
};

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > TPL_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

int vm_template_new(struct vm_runtime *rt, const struct vm_template_cfg *cfg,
		    void (*done)(struct vm_template *t, int err, void *ud), void *ud,
		    struct vm_template **ret, struct errmsg *reterr)
{
	struct vm_template *t;
	struct vm_spec spec = { .mem_share = true };
	size_t n = 0;
	int r;

	if (!cfg->name || !name_ok(cfg->name))
		return errmsg_set(reterr, -EINVAL, "template name: 1-%d of [a-z0-9_-]", TPL_NAME_MAX);
	if (cfg->image && cfg->image[0] && !name_ok(cfg->image))
		return errmsg_set(reterr, -EINVAL, "template image: 1-%d of [a-z0-9_-]",
				  TPL_NAME_MAX);
	while (cfg->warmup && cfg->warmup[n])
		n++;
	if (n > TPL_WARMUP_ARGS_MAX)
		return errmsg_set(reterr, -E2BIG, "warm-up: %zu args, at most %d", n,
				  TPL_WARMUP_ARGS_MAX);
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->rt = rt;
	t->lfd = t->cfd = t->ofd = t->mem_fd = -1;
	t->done = done;
	t->ud = ud;
	t->t0 = time_mono_ms();
	ev_timer_init(&t->timer, settle_cb, 0., 0.);
	t->timer.data = t;
	ev_timer_init(&t->finish, finish_cb, 0., 0.);
	t->finish.data = t;
	snprintf(t->name, sizeof(t->name), "%s", cfg->name);
	snprintf(t->image, sizeof(t->image), "%s",
		 cfg->image && cfg->image[0] ? cfg->image : "base");
	if (strcmp(t->image, "base") != 0) {
		r = vm_image_rootfs(rt, t->image, t->rootfs, sizeof(t->rootfs), reterr);
		if (r < 0)
			goto fail;
	}
	t->mem_mib = cfg->mem_mib ? cfg->mem_mib : rt->mem_mib;
	t->vcpus = cfg->vcpus ? cfg->vcpus : rt->vcpus;
	r = -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(t->warmup[i] = strdup(cfg->warmup[i])))
			goto fail;
	make_key(t);
	if (mkdir(rt->snap_dir, 0700) < 0 && errno != EEXIST) {
		r = errmsg_set(reterr, -errno, "snapshot dir %s: %s", rt->snap_dir,
			       errno_name(errno));
		goto fail;
	}
	if ((size_t)snprintf(t->dir, sizeof(t->dir), "%s/%s-%s", rt->snap_dir, t->name, t->key) >=
		    sizeof(t->dir) ||
	    (size_t)snprintf(t->tmp, sizeof(t->tmp), "%s.tmp-%d", t->dir, (int)getpid()) >=
		    sizeof(t->tmp)) {
		r = errmsg_set(reterr, -ENAMETOOLONG, "snapshot dir: path too long");
		goto fail;
	}
	sweep_old(t);
	*ret = t;
	if (snap_usable(t->dir) && seal_ram(t, reterr) == 0) {
		t->state = TPL_READY;
		log_info("template.reused", "template=%s key=%s dir=%s", t->name, t->key, t->dir);
		ev_timer_start(rt->loop, &t->finish);
		return 0;
	}
	snap_remove(t->dir);
	snap_remove(t->tmp);
	if (mkdir(t->tmp, 0700) < 0) {
		r = errmsg_set(reterr, -errno, "mkdir %s: %s", t->tmp, errno_name(errno));
		goto fail;
	}
	snprintf(spec.rootfs, sizeof(spec.rootfs), "%s", t->rootfs);
	spec.mem_in_dir = true;
	spec.mem_mib = t->mem_mib;
	spec.vcpus = t->vcpus;
	t->state = TPL_BUILDING;
	log_info("template.building", "template=%s image=%s key=%s mem_mib=%u vcpus=%u", t->name,
		 t->image, t->key, t->mem_mib, t->vcpus);
	r = vm_start_spec(rt, &spec, &tpl_events, t, &t->vm, reterr);
	if (r < 0)
		goto fail;
	if ((size_t)snprintf(t->mig_sock, sizeof(t->mig_sock), "%.*s/mig.sock",
			     (int)(sizeof(t->mig_sock) - 10), t->vm->paths.dir) >= sizeof(t->mig_sock)) {
		r = errmsg_set(reterr, -ENAMETOOLONG, "migration socket path too long");
		t->vm = vm_destroy(t->vm);
		goto fail;
	}
	return 0;
fail:
	*ret = NULL;
	snap_remove(t->tmp);
	for (size_t i = 0; i < TPL_WARMUP_ARGS_MAX; i++)
		free(t->warmup[i]);
	free(t);
	return r;
}

struct vm_template *vm_template_free(struct vm_template *t)
{
	if (!t)
		return NULL;
	if (t->state == TPL_BUILDING) {
		build_stop(t);
		snap_remove(t->tmp);
	}
	ev_timer_stop(t->rt->loop, &t->finish);
	fd_close(t->mem_fd);
	for (size_t i = 0; i < TPL_WARMUP_ARGS_MAX; i++)
		free(t->warmup[i]);
	free(t);
	return NULL;
}

void vm_template_invalidate(struct vm_template *t)
{
	if (t->state != TPL_READY)
		return;
	log_warn("template.invalidated", "template=%s key=%s", t->name, t->key);
	snap_remove(t->dir);
	t->mem_fd = fd_close(t->mem_fd);	/* running clones keep their own mapping */
	t->state = TPL_FAILED;
	t->err = -ESTALE;
}

const char *vm_template_name(const struct vm_template *t)
{
	return t->name;
}

const char *vm_template_key(const struct vm_template *t)
{
	return t->key;
}

bool vm_template_ready(const struct vm_template *t)
{
	return t->state == TPL_READY;
}

char *const *vm_template_warmup(const struct vm_template *t)
{
	return t->warmup[0] ? t->warmup : NULL;
}

int vm_clone(struct vm_template *t, const struct vm_events *ev, void *ud, struct vm **ret,
	     struct errmsg *reterr)
{
	struct vm_spec spec = { .mem_mib = t->mem_mib, .vcpus = t->vcpus };

	if (t->state != TPL_READY)
		return errmsg_set(reterr, -EAGAIN, "template %s is not ready", t->name);
	snprintf(spec.rootfs, sizeof(spec.rootfs), "%s", t->rootfs);
	snprintf(spec.mem_path, sizeof(spec.mem_path), "%s/mem", t->dir);
	snprintf(spec.state_path, sizeof(spec.state_path), "%s/state", t->dir);
	spec.mem_fd = t->mem_fd > 0 ? t->mem_fd : 0;
	return vm_start_spec(t->rt, &spec, ev, ud, ret, reterr);
}
