/*
 * put: places files, directories and symlinks sent as PUT frames (schemas/agent-frame.md). Every
 * path is walked from the root one component at a time with O_NOFOLLOW|O_DIRECTORY, so a symlink
 * anywhere in the path fails the put (ELOOP) instead of being followed: a put never writes through
 * a symlink, whoever planted it. Missing parents are created 0755 and owned by the put's uid/gid;
 * existing ones are left alone. Files are created O_EXCL|O_NOFOLLOW (an existing file is EEXIST)
 * and owned by uid/gid; an append continues only the file this batch created last, through the fd
 * kept open for it. A batch remembers its first error and skips the rest; PUTEND turns the batch
 * into one PUTOK or ERROR frame. uid/gid 0 are refused. One frame at a time: memory is bounded by
 * a frame. It must not read files back (get.c) or know about execs.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_MOD "put"
#include "log.h"
#include "util.h"

void put_init(struct put_state *ps, int root_fd)
{
	memset(ps, 0, sizeof(*ps));
	ps->root_fd = root_fd;
	ps->file_fd = -1;
}

static void put_close_file(struct put_state *ps)
{
	ps->file_fd = fd_close(ps->file_fd);
	ps->file_path[0] = '\0';
}

void put_free(struct put_state *ps)
{
	put_close_file(ps);
}

__attribute__((format(printf, 4, 5)))
static int put_fail(struct put_state *ps, const char *path, int err, const char *fmt, ...)
{
	char what[64];
	va_list ap;

	if (err > 0)
		err = -err;
	if (ps->err)
		return err;	/* the first error of the batch is the one reported */
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	ps->err = err;
	snprintf(ps->msg, sizeof(ps->msg), "put %.140s: %.60s: %s", path, what, errno_name(err));
	return err;
}

/* Opens (creating when missing) the directory named by path[0..len) below the root, one
 * component at a time, never following a symlink. Returns a directory fd or -errno. */
static int put_walk(struct put_state *ps, const char *path, size_t len, uint32_t uid,
		    uint32_t gid, const char *full)
{
	int dfd = openat(ps->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t i = 0;

	if (dfd < 0)
		return put_fail(ps, full, errno, "open /");
	while (i < len) {
		char comp[NAME_MAX + 1];
		size_t n = 0;
		int nfd;

		while (i < len && path[i] == '/')
			i++;
		while (i + n < len && path[i + n] != '/')
			n++;
		if (n == 0)
			break;
		if (n > NAME_MAX) {
			fd_close(dfd);
			return put_fail(ps, full, ENAMETOOLONG, "path component");
		}
		memcpy(comp, path + i, n);
		comp[n] = '\0';
		i += n;
		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
			fd_close(dfd);
			return put_fail(ps, full, EINVAL, "'%s' component", comp);
		}
		nfd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT) {
			if (mkdirat(dfd, comp, 0755) < 0 && errno != EEXIST) {
				int e = errno;

				fd_close(dfd);
				return put_fail(ps, full, e, "mkdir %s", comp);
			}
			nfd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (nfd >= 0 && (fchown(nfd, uid, gid) < 0 || fchmod(nfd, 0755) < 0)) {
				int e = errno;

				fd_close(nfd);
				fd_close(dfd);
				return put_fail(ps, full, e, "chown/chmod new directory %s", comp);
			}
		}
		if (nfd < 0) {
			int e = errno;

			fd_close(dfd);
			if (e == ELOOP || e == ENOTDIR)
				return put_fail(ps, full, e, "'%s' is a symlink or not a directory",
						comp);
			return put_fail(ps, full, e, "open %s", comp);
		}
		fd_close(dfd);
		dfd = nfd;
	}
	return dfd;
}

/* Splits path into the parent part and the last component (no trailing slashes). */
static int put_split(const char *path, size_t *parent_len, const char **leaf, size_t *leaf_len)
{
	size_t len = strlen(path), s;

	while (len > 1 && path[len - 1] == '/')
		len--;
	s = len;
	while (s > 0 && path[s - 1] != '/')
		s--;
	*parent_len = s;
	*leaf = path + s;
	*leaf_len = len - s;
	return *leaf_len == 0 || *leaf_len > NAME_MAX ? -EINVAL : 0;
}

static int put_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int put_file(struct put_state *ps, int dfd, const char *leaf, const struct wire_frame *f)
{
	int fd, r;

	put_close_file(ps);
	fd = openat(dfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return put_fail(ps, f->path, errno, "create");
	if (fchown(fd, f->uid, f->gid) < 0 || fchmod(fd, f->mode & 07777) < 0) {
		r = put_fail(ps, f->path, errno, "chown/chmod");
		fd_close(fd);
		return r;
	}
	r = put_write_all(fd, f->data, f->len);
	if (r < 0) {
		fd_close(fd);
		return put_fail(ps, f->path, r, "write");
	}
	ps->file_fd = fd;
	snprintf(ps->file_path, sizeof(ps->file_path), "%s", f->path);
	return 0;
}

static int put_append(struct put_state *ps, const struct wire_frame *f)
{
	int r;

	if (ps->file_fd < 0 || strcmp(ps->file_path, f->path) != 0)
		return put_fail(ps, f->path, EBADF, "append without a preceding put of this file "
				"in the batch");
	r = put_write_all(ps->file_fd, f->data, f->len);
	return r < 0 ? put_fail(ps, f->path, r, "append") : 0;
}

static int put_dir(struct put_state *ps, int dfd, const char *leaf, const struct wire_frame *f)
{
	struct stat st;
	int fd, r = 0;

	if (mkdirat(dfd, leaf, 0700) < 0 && errno != EEXIST)
		return put_fail(ps, f->path, errno, "mkdir");
	fd = openat(dfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return put_fail(ps, f->path, errno, "open directory");
	if (fstat(fd, &st) < 0) {
		r = put_fail(ps, f->path, errno, "stat");
	} else if (st.st_uid == 0 || st.st_uid == f->uid) {
		/* new (still root's) or already the user's: make it theirs with the mode asked */
		if (fchown(fd, f->uid, f->gid) < 0 || fchmod(fd, f->mode & 07777) < 0)
			r = put_fail(ps, f->path, errno, "chown/chmod");
	}
	fd_close(fd);
	return r;
}

/* An existing root-owned directory (like /tmp) would be handed over by put_dir's chown: only a
 * directory this put created, or one the user owns already, is changed. */
static int put_dir_checked(struct put_state *ps, int dfd, const char *leaf,
			   const struct wire_frame *f)
{
	struct stat st;

	if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISDIR(st.st_mode))
			return put_fail(ps, f->path, EEXIST, "exists and is not a directory");
		if (st.st_uid != f->uid)
			return 0;	/* someone else's directory: left as it is */
	}
	return put_dir(ps, dfd, leaf, f);
}

static int put_symlink(struct put_state *ps, int dfd, const char *leaf,
		       const struct wire_frame *f)
{
	put_close_file(ps);
	if (symlinkat(f->target, dfd, leaf) < 0)
		return put_fail(ps, f->path, errno, "symlink");
	if (fchownat(dfd, leaf, f->uid, f->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return put_fail(ps, f->path, errno, "chown symlink");
	return 0;
}

int put_frame(struct put_state *ps, const struct wire_frame *f)
{
	char leaf[NAME_MAX + 1];
	const char *lp;
	size_t plen, llen;
	int dfd, r;

	if (ps->err)
		return ps->err;		/* skipped: the batch failed already */
	if (f->uid == 0 || f->gid == 0)
		return put_fail(ps, f->path, EPERM, "uid/gid 0 is not allowed");
	if (!f->path || f->path[0] != '/' || put_split(f->path, &plen, &lp, &llen) < 0)
		return put_fail(ps, f->path ? f->path : "(null)", EINVAL, "bad path");
	memcpy(leaf, lp, llen);
	leaf[llen] = '\0';
	if (strcmp(leaf, ".") == 0 || strcmp(leaf, "..") == 0)
		return put_fail(ps, f->path, EINVAL, "'%s' component", leaf);
	if (f->kind == WIRE_PUT_FILE && f->append) {
		r = put_append(ps, f);
	} else {
		dfd = put_walk(ps, f->path, plen, f->uid, f->gid, f->path);
		if (dfd < 0)
			return dfd;
		switch (f->kind) {
		case WIRE_PUT_FILE:
			r = put_file(ps, dfd, leaf, f);
			break;
		case WIRE_PUT_DIR:
			r = put_dir_checked(ps, dfd, leaf, f);
			break;
		case WIRE_PUT_SYMLINK:
			r = put_symlink(ps, dfd, leaf, f);
			break;
		default:
			r = put_fail(ps, f->path, EINVAL, "kind %u", f->kind);
		}
		fd_close(dfd);
	}
	if (r < 0)
		return r;
	ps->count++;
	ps->bytes += f->len;
	return 0;
}

void put_end(struct put_state *ps, uint32_t id, struct wire_frame *reply)
{
	memset(reply, 0, sizeof(*reply));
	reply->id = id;
	if (ps->err) {
		reply->type = WIRE_FRAME_ERROR;
		reply->err = -ps->err;
		snprintf(reply->message, sizeof(reply->message), "%s", ps->msg);
		log_info("put.failed", "id=%u count=%llu err=%s", id,
			 (unsigned long long)ps->count, errno_name(ps->err));
	} else {
		reply->type = WIRE_FRAME_PUTOK;
		reply->count = ps->count;
		reply->bytes = ps->bytes;
		log_debug("put.done", "id=%u count=%llu bytes=%llu", id,
			  (unsigned long long)ps->count, (unsigned long long)ps->bytes);
	}
	put_close_file(ps);
	ps->err = 0;
	ps->msg[0] = '\0';
	ps->count = 0;
	ps->bytes = 0;
}
