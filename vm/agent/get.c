/*
 * get: collects files for a GET frame (schemas/agent-frame.md) and streams them back as FILE
 * frames, one chunk per get_step() call, so a big collection never holds more than one chunk in
 * memory nor stalls the other execs' output for long (the loop interleaves the two and stops
 * stepping while the output queue is above AGENT_OUTQ_HIGH). Every filesystem access that decides
 * what is read (glob, lstat, open) runs with the job user's fsuid/fsgid, restored to root right
 * after: a get reads only what the user could. Symlinks are not followed (lstat + O_NOFOLLOW),
 * anything but a regular file is skipped, a file is reported once. It must not write files.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_MOD "get"
#include "log.h"
#include "util.h"

struct get_seen {
	dev_t dev;
	ino_t ino;
};

/* Runs with the user's filesystem ids until get_as_root(). */
static void get_as_user(const struct get_op *g)
{
	(void)setfsgid(g->gid);
	(void)setfsuid(g->uid);
}

static void get_as_root(void)
{
	(void)setfsuid(0);
	(void)setfsgid(0);
}

bool get_active(const struct get_op *g)
{
	return g->active;
}

static void get_close_file(struct get_op *g)
{
	g->fd = fd_close(g->fd);
}

void get_free(struct get_op *g)
{
	get_close_file(g);
	if (g->globbed)
		globfree(&g->gl);
	g->globbed = false;
	for (size_t i = 0; g->patterns && i < g->npatterns; i++)
		free(g->patterns[i]);
	free(g->patterns);
	g->patterns = NULL;
	free(g->seen);
	g->seen = NULL;
	g->active = false;
}

int get_start(struct get_op *g, const struct wire_frame *f, struct errmsg *reterr)
{
	if (g->active)
		return errmsg_set(reterr, -EBUSY, "get %u is still running", g->id);
	if (f->uid == 0 || f->gid == 0)
		return errmsg_set(reterr, -EPERM, "get: uid/gid 0 is not allowed");
	memset(g, 0, sizeof(*g));
	g->fd = -1;
	g->patterns = calloc(f->npatterns + 1, sizeof(*g->patterns));
	g->seen = calloc(WIRE_ARTEFACTS_COUNT_MAX, sizeof(*g->seen));
	if (!g->patterns || !g->seen)
		goto nomem;
	g->npatterns = f->npatterns;
	for (size_t i = 0; i < f->npatterns; i++) {
		g->patterns[i] = strdup(f->patterns[i]);
		if (!g->patterns[i])
			goto nomem;
	}
	g->id = f->id;
	g->uid = f->uid;
	g->gid = f->gid;
	g->max = f->max;
	g->active = true;
	/* root's supplementary groups would still count with fsgid set: drop them for good (the
	 * agent needs none; it is root) */
	(void)setgroups(0, NULL);
	return 0;
nomem:
	get_free(g);
	return errmsg_set(reterr, -ENOMEM, "get: out of memory");
}

static bool get_seen_before(struct get_op *g, const struct stat *st)
{
	for (size_t i = 0; i < g->nseen; i++)
		if (g->seen[i].dev == st->st_dev && g->seen[i].ino == st->st_ino)
			return true;
	return false;
}

/* Opens the next reportable file: 1 when g->fd/path/size are set, 0 when every pattern is done. */
static int get_next_file(struct get_op *g)
{
	for (;;) {
		struct stat st;
		const char *path;
		int fd;

		if (!g->globbed) {
			int r;

			if (g->pi >= g->npatterns)
				return 0;
			get_as_user(g);
			r = glob(g->patterns[g->pi++], 0, NULL, &g->gl);
			get_as_root();
			if (r != 0) {	/* GLOB_NOMATCH, GLOB_ABORTED (unreadable dir), NOSPACE */
				if (r != GLOB_NOMATCH)
					log_info("get.glob_failed", "id=%u pattern=%zu r=%d", g->id,
						 g->pi - 1, r);
				globfree(&g->gl);
				continue;
			}
			g->globbed = true;
			g->gi = 0;
		}
		if (g->gi >= g->gl.gl_pathc) {
			globfree(&g->gl);
			g->globbed = false;
			continue;
		}
		path = g->gl.gl_pathv[g->gi++];
		if (path[0] != '/' || strlen(path) > WIRE_PATH_MAX)
			continue;
		get_as_user(g);
		fd = -1;
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
			fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		get_as_root();
		if (fd < 0)
			continue;	/* not a regular file, vanished, or not readable by the user */
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || get_seen_before(g, &st)) {
			fd_close(fd);
			continue;
		}
		if (g->count >= WIRE_ARTEFACTS_COUNT_MAX) {
			fd_close(fd);
			g->truncated = true;
			return 0;	/* the rest is not even listed */
		}
		g->seen[g->nseen++] = (struct get_seen){ .dev = st.st_dev, .ino = st.st_ino };
		g->fd = fd;
		g->path = path;
		g->size = (uint64_t)st.st_size;
		g->mode = st.st_mode & 07777;
		g->off = 0;
		return 1;
	}
}

/* Sends the next chunk of the current file; closes it after its last frame. */
static int get_chunk(struct get_op *g, struct chan *c)
{
	static uint8_t chunk[WIRE_CHUNK_MAX];
	struct wire_frame f = { .type = WIRE_FRAME_FILE, .id = g->id, .path = (char *)g->path,
				.size = g->size, .mode = g->mode, .offset = g->off };
	uint64_t room = g->max - g->used, want = g->size - g->off;
	ssize_t n = 0;

	if (want > WIRE_CHUNK_MAX)
		want = WIRE_CHUNK_MAX;
	if (want > room)
		want = room;
	if (want > 0) {
		do
			n = pread(g->fd, chunk, (size_t)want, (off_t)g->off);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			n = 0;	/* reported as cut short */
	}
	f.data = chunk;
	f.len = (size_t)n;
	g->off += (uint64_t)n;
	g->used += (uint64_t)n;
	if (g->off == g->size) {
		f.last = true;
	} else if ((uint64_t)n < want || g->used >= g->max) {
		/* the file shrank, a read failed, or max is used up: cut here */
		f.last = true;
		f.truncated = true;
		g->truncated = true;
	}
	(void)chan_send(c, &f);
	if (f.last) {
		get_close_file(g);
		g->count++;
	}
	return 0;
}

int get_step(struct get_op *g, struct chan *c)
{
	if (!g->active)
		return 0;
	if (g->fd < 0 && get_next_file(g) == 0) {
		struct wire_frame end = { .type = WIRE_FRAME_GETEND, .id = g->id, .count = g->count,
					  .truncated = g->truncated };

		(void)chan_send(c, &end);
		log_debug("get.done", "id=%u count=%llu bytes=%llu truncated=%d", g->id,
			  (unsigned long long)g->count, (unsigned long long)g->used, g->truncated);
		get_free(g);
		return 0;
	}
	return get_chunk(g, c);
}
