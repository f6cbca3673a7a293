/*
 * repo: repo jobs on the worker's loop (see repo.h). A request becomes an op; the network part
 * is a flight — one `corral-fetch fetch` per URL, which every op of that URL waits for — and
 * then each op runs its own `corral-fetch export` into an unlinked temp file in the run dir,
 * handed to done() rewound. A 40-hex ref first tries the export alone (a probe): when the
 * commit is in the mirror the network is skipped. The URL policy is checked here without DNS
 * (the helper checks again, with DNS, before any network use). Credentials go to the helper
 * through a pipe on fd 3, only for https and only the entry of the URL's host. It must never
 * block the loop nor call done() from inside repo_fetch().
 */
#define LOG_MOD "repo"
#include "repo.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch_proto.h"
#include "log.h"
#include "policy.h"
#include "repo_proc.h"
#include "util.h"

#define REPO_ARGV_MAX (40 + 2 * POLICY_ALLOW_MAX)
#define REPO_TIMER_GRACE_MS 2000u	/* the helper's own alarm fires first */
#define REPO_OBJECTS_MAX 10000000u	/* objects in one fetched pack */
#define REPO_NUM_MAX 24
#define REPO_CACHE_MAX_DEFAULT (2ull << 30)
#define REPO_MAX_BYTES_DEFAULT (64ull << 20)
#define REPO_MAX_FILES_DEFAULT 20000u
#define REPO_MAX_FILE_DEFAULT (32ull << 20)
#define REPO_TIMEOUT_MS_DEFAULT 120000u

enum op_state { OP_NEW, OP_PROBE, OP_WAIT, OP_EXPORT };

struct flight;

struct repo_op {
	struct repo_op *next, *prev;	/* all ops */
	struct repo_op *wnext;		/* waiters of a flight */
	struct flight *flight;
	enum op_state state;
	struct wire_repo req;		/* owned copies */
	repo_done_fn done;
	void *ud;
	struct repo_proc *proc;
	int out_fd;
	bool mirror_hit;
	bool sync;			/* inside repo_fetch(): failures go through defer */
	int err;
	bool transient;
	uint64_t t0;
	ev_timer defer;			/* delivers a failure seen inside repo_fetch() */
	char why[ERRMSG_MAX];
};

struct flight {
	struct flight *next;
	char *url;
	uint64_t t0;
	struct repo_proc *proc;
	struct repo_op *waiters;
	int cred_fd;
};

static struct {
	bool ready;
	struct ev_loop *loop;
	struct repo_policy pol;
	char bin[PATH_MAX + 16];
	char run_dir[PATH_MAX];
	struct repo_op *ops;
	struct flight *flights;
} R;

static void op_free(struct repo_op *op)
{
	if (op->prev)
		op->prev->next = op->next;
	else if (R.ops == op)
		R.ops = op->next;
	if (op->next)
		op->next->prev = op->prev;
	ev_timer_stop(R.loop, &op->defer);
	fd_close(op->out_fd);
	free(op->req.url);
	free(op->req.ref);
	free(op->req.subdir);
	free(op);
}

static void op_finish(struct repo_op *op, int err, bool transient, const struct repo_checkout *co)
{
	repo_done_fn done = op->done;
	void *ud = op->ud;
	char why[ERRMSG_MAX];

	snprintf(why, sizeof(why), "%s", op->why);
	if (co)
		op->out_fd = -1;	/* the caller owns it now */
	op_free(op);
	done(ud, err, transient, co, err < 0 ? why : NULL);
}

/* The helper's last stderr line if it is one of ours, else a description of how it ended. */
static void op_fail(struct repo_op *op, int code, const char *line)
{
	bool transient = code < 0 || FETCH_EXIT_TRANSIENT(code);
	char q[LOG_QUOTE_MAX + 8];

	if (code == -2)
		snprintf(op->why, sizeof(op->why), "repo: fetch timed out after %u ms",
			 R.pol.timeout_ms);
	else if (strncmp(line, "repo: ", 6) == 0)
		snprintf(op->why, sizeof(op->why), "%s", line);
	else if (code < 0)
		snprintf(op->why, sizeof(op->why), "repo: fetch helper killed");
	else
		snprintf(op->why, sizeof(op->why), "repo: fetch helper failed (exit %d)", code);
	log_info("repo.failed", "url=%s code=%d transient=%d",
		 log_quote(q, sizeof(q), op->req.url, strlen(op->req.url)), code, transient);
	op->err = code == FETCH_EXIT_POLICY ? -EPERM : -EIO;
	op->transient = transient;
	if (op->sync)
		ev_timer_start(R.loop, &op->defer);
	else
		op_finish(op, op->err, transient, NULL);
}

static void defer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct repo_op *op = w->data;

	(void)loop;
	(void)revents;
	op_finish(op, op->err, op->transient, NULL);
}

/* ---- credentials ---- */

static int read_cred_file(const char *path, char *out, size_t n)
{
	ssize_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	len = read(fd, out, n - 1);
	fd_close(fd);
	if (len <= 0)
		return len < 0 ? -errno : -ENODATA;
	out[len] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

/* A pipe's read end holding "USER:SECRET" for url's host, or -1 (none, or not https). */
static int cred_pipe(const char *url)
{
	char value[FETCH_CRED_MAX + 1], hostport[POLICY_HOST_MAX + 8];
	const char *entry = NULL, *v;
	struct url_parts u;
	int p[2] = { -1, -1 }, r;
	size_t len;

	if (policy_url_parse(url, &u, NULL) < 0 || u.scheme != URL_HTTPS)
		return -1;
	snprintf(hostport, sizeof(hostport), "%s:%u", u.host, u.port);
	for (size_t i = 0; i < R.pol.ncreds && !entry; i++) {
		const char *c = R.pol.creds[i], *eq = strchr(c, '=');
		size_t hl = eq ? (size_t)(eq - c) : 0;

		if (!eq)
			continue;
		if ((hl == strlen(u.host) && strncasecmp(c, u.host, hl) == 0) ||
		    (u.port && hl == strlen(hostport) && strncasecmp(c, hostport, hl) == 0))
			entry = eq + 1;
	}
	if (!entry)
		return -1;
	v = entry;
	if (entry[0] == '@') {
		r = read_cred_file(entry + 1, value, sizeof(value));
		if (r < 0) {
			log_warn("repo.cred_file_unreadable", "host=%s err=%s", u.host,
				 errno_name(r));
			explicit_bzero(value, sizeof(value));
			return -1;
		}
		v = value;
	}
	len = strnlen(v, FETCH_CRED_MAX);
	r = pipe2(p, O_CLOEXEC);
	if (r == 0 && fd_write_all(p[1], v, len) < 0)	/* ≤ 4 KiB: never blocks an empty pipe */
		p[0] = fd_close(p[0]);
	fd_close(p[1]);
	explicit_bzero(value, sizeof(value));
	return p[0];
}

/* ---- argv ---- */

struct argv_b {
	char *v[REPO_ARGV_MAX + 1];
	size_t n;
	char nums[8][REPO_NUM_MAX];
	size_t nnums;
};

static void arg(struct argv_b *a, const char *s)
{
	if (a->n < REPO_ARGV_MAX)
		a->v[a->n++] = (char *)(uintptr_t)s;
	a->v[a->n] = NULL;
}

static void arg_num(struct argv_b *a, const char *flag, uint64_t v)
{
	char *s = a->nums[a->nnums++ % 8];

	snprintf(s, REPO_NUM_MAX, "%" PRIu64, v);
	arg(a, flag);
	arg(a, s);
}

static void common_args(struct argv_b *a, const char *mode, const char *url)
{
	arg(a, R.bin);
	arg(a, mode);
	arg(a, "--cache");
	arg(a, R.pol.cache_dir);
	arg(a, "--url");
	arg(a, url);
	for (size_t i = 0; i < R.pol.nallow && i < POLICY_ALLOW_MAX; i++) {
		arg(a, "--allow");
		arg(a, R.pol.allow[i]);
	}
	arg(a, "--hide");
	arg(a, R.run_dir);
	arg_num(a, "--timeout-ms", R.pol.timeout_ms);
}

/* ---- export ---- */

static int open_tmp(void)
{
	char path[PATH_MAX + 32];
	int fd = open(R.run_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd < 0 ? -errno : fd;
	snprintf(path, sizeof(path), "%s/.repo-export-XXXXXX", R.run_dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	(void)unlink(path);
	return fd;
}

static bool json_u64(const char *s, const char *key, uint64_t *out)
{
	const char *p = strstr(s, key);
	char *end;

	if (!p)
		return false;
	errno = 0;
	*out = strtoull(p + strlen(key), &end, 10);
	return errno == 0 && end != p + strlen(key);
}

static void join_flight(struct repo_op *op);

static void export_done(void *ud, int code, const char *line)
{
	struct repo_op *op = ud;
	struct repo_checkout co = { .fd = -1 };
	const char *c = strstr(line, "\"commit\":\"");
	bool probe = op->state == OP_PROBE;
	char q[LOG_QUOTE_MAX + 8];

	op->proc = NULL;
	if (probe && code == FETCH_EXIT_REF) {
		op->out_fd = fd_close(op->out_fd);
		join_flight(op);	/* not in the mirror (yet): fetch, then export again */
		return;
	}
	if (code != 0)
		return op_fail(op, code, line);
	if (!c || strspn(c + 10, "0123456789abcdef") != 40 ||
	    !json_u64(line, "\"files\":", &co.files) || !json_u64(line, "\"bytes\":", &co.bytes) ||
	    lseek(op->out_fd, 0, SEEK_SET) != 0)
		return op_fail(op, FETCH_EXIT_INTERNAL, "repo: fetch helper gave no valid summary");
	memcpy(co.commit, c + 10, 40);
	co.commit[40] = '\0';
	co.mirror_hit = probe || op->mirror_hit;
	co.fetch_ms = time_mono_ms() - op->t0;
	co.fd = op->out_fd;
	log_info("repo.ready", "url=%s commit=%s files=%" PRIu64 " bytes=%" PRIu64
		 " ms=%" PRIu64 " mirror_hit=%d",
		 log_quote(q, sizeof(q), op->req.url, strlen(op->req.url)), co.commit, co.files,
		 co.bytes, co.fetch_ms, co.mirror_hit);
	op_finish(op, 0, false, &co);
}

static void start_export(struct repo_op *op, bool probe)
{
	struct argv_b a = { .n = 0 };
	struct errmsg e;
	int r;

	op->out_fd = open_tmp();
	if (op->out_fd < 0) {
		snprintf(e.msg, sizeof(e.msg), "repo: temp file in the run dir: %s",
			 errno_name(op->out_fd));
		op->out_fd = -1;
		return op_fail(op, FETCH_EXIT_INTERNAL, e.msg);
	}
	common_args(&a, "export", op->req.url);
	arg(&a, "--ref");
	arg(&a, op->req.ref);
	arg(&a, "--subdir");
	arg(&a, op->req.subdir);
	arg_num(&a, "--max-bytes", R.pol.max_bytes);
	arg_num(&a, "--max-files", R.pol.max_files);
	arg_num(&a, "--max-file", R.pol.max_file);
	arg_num(&a, "--depth", op->req.depth);
	op->state = probe ? OP_PROBE : OP_EXPORT;
	r = repo_proc_spawn(R.loop, a.v, op->out_fd, -1, R.pol.timeout_ms + REPO_TIMER_GRACE_MS,
			    export_done, op, &op->proc, &e);
	if (r < 0)
		op_fail(op, FETCH_EXIT_INTERNAL, e.msg);
}

/* ---- flights ---- */

static void flight_unlink(struct flight *f)
{
	for (struct flight **pp = &R.flights; *pp; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	}
}

static void flight_done(void *ud, int code, const char *line)
{
	struct flight *f = ud;
	bool existed = code == 0 && strstr(line, "\"existed\":true");
	char copy[REPO_PROC_LINE_MAX + 1];
	struct repo_op *op;

	char q[LOG_QUOTE_MAX + 8];

	snprintf(copy, sizeof(copy), "%s", line);
	if (code == 0)
		log_info("repo.fetched", "url=%s ms=%" PRIu64 " mirror_existed=%d",
			 log_quote(q, sizeof(q), f->url, strlen(f->url)), time_mono_ms() - f->t0,
			 existed);
	flight_unlink(f);	/* new requests start a new flight from here on */
	/* Popped one at a time: a done() may cancel waiters still on the list. */
	while ((op = f->waiters)) {
		f->waiters = op->wnext;
		op->flight = NULL;
		op->wnext = NULL;
		if (code == 0) {
			op->mirror_hit = existed;
			start_export(op, false);
		} else {
			op_fail(op, code, copy);
		}
	}
	fd_close(f->cred_fd);
	free(f->url);
	free(f);
}

static struct flight *flight_start(const char *url, struct errmsg *reterr)
{
	struct argv_b a = { .n = 0 };
	struct flight *f = calloc(1, sizeof(*f));
	char q[LOG_QUOTE_MAX + 8];
	bool cred;
	int r;

	if (!f || !(f->url = strdup(url))) {
		free(f);
		errmsg_set(reterr, -ENOMEM, "repo: out of memory");
		return NULL;
	}
	f->t0 = time_mono_ms();
	f->cred_fd = cred_pipe(url);
	cred = f->cred_fd >= 0;
	common_args(&a, "fetch", url);
	if (f->cred_fd >= 0)
		arg(&a, "--cred-fd"), arg(&a, "3");
	arg_num(&a, "--repo-max", R.pol.cache_max);
	arg_num(&a, "--objects-max", REPO_OBJECTS_MAX);
	arg_num(&a, "--cache-max", R.pol.cache_max);
	r = repo_proc_spawn(R.loop, a.v, -1, f->cred_fd, R.pol.timeout_ms + REPO_TIMER_GRACE_MS,
			    flight_done, f, &f->proc, reterr);
	f->cred_fd = fd_close(f->cred_fd);	/* the child has its copy */
	if (r < 0) {
		free(f->url);
		free(f);
		return NULL;
	}
	f->next = R.flights;
	R.flights = f;
	log_info("repo.fetch_started", "url=%s cred=%d", log_quote(q, sizeof(q), url, strlen(url)),
		 cred);
	return f;
}

static struct flight *flight_of(const char *url)
{
	struct flight *f;

	for (f = R.flights; f; f = f->next)
		if (strcmp(f->url, url) == 0)
			break;
	return f;
}

static void join_flight(struct repo_op *op)
{
	struct flight *f = flight_of(op->req.url);
	struct errmsg e = { "" };

	if (!f)
		f = flight_start(op->req.url, &e);
	if (!f)
		return op_fail(op, FETCH_EXIT_INTERNAL, e.msg);
	op->state = OP_WAIT;
	op->flight = f;
	op->wnext = f->waiters;
	f->waiters = op;
}

/* ---- API ---- */

static bool is_hex40(const char *s)
{
	return strlen(s) == 40 && strspn(s, "0123456789abcdef") == 40;
}

int repo_fetch(const struct wire_repo *req, repo_done_fn done, void *ud, struct repo_op **ret,
	       struct errmsg *reterr)
{
	struct repo_op *op;
	struct errmsg e = { "" };
	bool need_dns;

	if (!R.ready || !req || !req->url)
		return errmsg_set(reterr, -EINVAL, "repo: not initialised");
	op = calloc(1, sizeof(*op));
	if (!op)
		return errmsg_set(reterr, -ENOMEM, "repo: out of memory");
	op->out_fd = -1;
	op->done = done;
	op->ud = ud;
	op->t0 = time_mono_ms();
	op->req.depth = req->depth;
	op->req.url = strdup(req->url);
	op->req.ref = strdup(req->ref ? req->ref : "HEAD");
	op->req.subdir = strdup(req->subdir ? req->subdir : "repo");
	ev_timer_init(&op->defer, defer_cb, 0.0, 0.0);
	op->defer.data = op;
	op->next = R.ops;
	if (R.ops)
		R.ops->prev = op;
	R.ops = op;
	if (!op->req.url || !op->req.ref || !op->req.subdir) {
		op_free(op);
		return errmsg_set(reterr, -ENOMEM, "repo: out of memory");
	}
	if (ret)
		*ret = op;
	op->sync = true;
	if (policy_check_url((const char *const *)R.pol.allow, R.pol.nallow, op->req.url, NULL,
			     &need_dns, &e) < 0)
		op_fail(op, FETCH_EXIT_POLICY, e.msg);
	else if (is_hex40(op->req.ref) && !flight_of(op->req.url))
		start_export(op, true);	/* a fetch in flight would hold the mirror's lock anyway */
	else
		join_flight(op);
	op->sync = false;	/* op may be waiting for its defer timer: still valid */
	return 0;
}

void repo_cancel(struct repo_op *op)
{
	if (!op)
		return;
	if (op->flight) {
		for (struct repo_op **pp = &op->flight->waiters; *pp; pp = &(*pp)->wnext) {
			if (*pp == op) {
				*pp = op->wnext;
				break;
			}
		}
	}
	repo_proc_kill(op->proc);
	op_free(op);
}

static int prepare_dir(const char *path, mode_t mode, bool fetch_owned, struct errmsg *reterr)
{
	struct stat st;

	if (path[0] != '/')
		return errmsg_set(reterr, -EINVAL, "repo: %s is not an absolute path", path);
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return errmsg_set(reterr, -errno, "repo: mkdir %s: %s", path, errno_name(errno));
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return errmsg_set(reterr, -ENOTDIR, "repo: %s is not a directory", path);
	/* not root: corral-fetch cannot drop to FETCH_UID either and runs as us */
	if (fetch_owned && geteuid() == 0 && (st.st_uid != FETCH_UID || st.st_gid != FETCH_GID) &&
	    (lchown(path, FETCH_UID, FETCH_GID) < 0 || chmod(path, 0700) < 0))
		return errmsg_set(reterr, -errno, "repo: chown %s to uid %d: %s", path, FETCH_UID,
				  errno_name(errno));
	return 0;
}

int repo_init(struct ev_loop *loop, const struct repo_policy *pol, struct errmsg *reterr)
{
	char self[PATH_MAX];
	ssize_t n;
	int r;

	memset(&R, 0, sizeof(R));
	R.loop = loop;
	R.pol = *pol;
	snprintf(R.run_dir, sizeof(R.run_dir), "%s", pol->run_dir ? pol->run_dir :
			 CORRAL_DEFAULT_RUN_DIR);
	/* 0 = the default, never "no limit" */
	if (!R.pol.cache_dir[0] && snprintf(R.pol.cache_dir, sizeof(R.pol.cache_dir), "%s/repos",
					    R.run_dir) >= (int)sizeof(R.pol.cache_dir))
		return errmsg_set(reterr, -ENAMETOOLONG, "repo: cache dir path too long");
	R.pol.cache_max = R.pol.cache_max ? R.pol.cache_max : REPO_CACHE_MAX_DEFAULT;
	R.pol.max_bytes = R.pol.max_bytes ? R.pol.max_bytes : REPO_MAX_BYTES_DEFAULT;
	R.pol.max_files = R.pol.max_files ? R.pol.max_files : REPO_MAX_FILES_DEFAULT;
	R.pol.max_file = R.pol.max_file ? R.pol.max_file : REPO_MAX_FILE_DEFAULT;
	R.pol.timeout_ms = R.pol.timeout_ms ? R.pol.timeout_ms : REPO_TIMEOUT_MS_DEFAULT;
	if (pol->fetch_bin) {
		snprintf(R.bin, sizeof(R.bin), "%s", pol->fetch_bin);
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			return errmsg_set(reterr, -errno, "repo: /proc/self/exe: %s",
					  errno_name(errno));
		self[n] = '\0';
		*strrchr(self, '/') = '\0';
		snprintf(R.bin, sizeof(R.bin), "%s/corral-fetch", self);
	}
	if (access(R.bin, X_OK) < 0)
		return errmsg_set(reterr, -errno, "repo: fetch helper %s: %s", R.bin,
				  errno_name(errno));
	r = prepare_dir(R.run_dir, 0755, false, reterr);
	if (r < 0)
		return r;
	r = prepare_dir(R.pol.cache_dir, 0700, true, reterr);
	if (r < 0)
		return r;
	R.ready = true;
	return 0;
}

void repo_fini(void)
{
	struct flight *f, *fn;

	while (R.ops) {
		repo_proc_kill_sync(R.ops->proc);
		R.ops->proc = NULL;
		repo_cancel(R.ops);
	}
	for (f = R.flights; f; f = fn) {
		fn = f->next;
		repo_proc_kill_sync(f->proc);
		fd_close(f->cred_fd);
		free(f->url);
		free(f);
	}
	R.flights = NULL;
	R.ready = false;
}
