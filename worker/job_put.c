/*
 * job_put: the put batch of one job. A small pump runs from the loop only (a zero or
 * JOB_PUT_POLL_MS timer, or the checkout fd becoming readable): it reads the checkout stream,
 * forwards every whole frame with vm_send_raw() and keeps a partial one for the next read; it
 * pauses while vm_send_backlog() is over JOB_PUT_BACKLOG_MAX, so a 64 MiB checkout never sits in
 * memory at once. Then the files, then putend. It trusts neither the stream (frame sizes are
 * checked by wire_frame_split) nor the agent (only a PUTOK/ERROR with this batch's id counts).
 */
#include "job_put.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "buf.h"
#include "util.h"
#include "vm.h"

struct job_put {
	struct ev_loop *loop;
	struct vm *vm;
	int fd;				/* checkout stream, -1 when none or at its end */
	struct buf in;			/* bytes read but not yet sent: at most a partial frame */
	const struct wire_file *files;
	size_t nfiles;
	uint32_t id;			/* the putend's id: the agent answers with it */
	bool ended;			/* putend sent */
	bool finished;			/* done() ran */
	uint64_t frames, bytes;
	ev_io rd;
	ev_timer poll;
	job_put_done_fn *done;
	void *ud;
};

static void finish(struct job_put *p, enum job_put_outcome o, const char *msg)
{
	if (p->finished)
		return;
	p->finished = true;
	ev_io_stop(p->loop, &p->rd);
	ev_timer_stop(p->loop, &p->poll);
	p->done(p->ud, o, msg);	/* may free p */
}

static void broken(struct job_put *p, const char *what, int err)
{
	char msg[WIRE_REASON_MAX + 1];

	snprintf(msg, sizeof(msg), "%s (%s)", what, errno_name(err));
	finish(p, JOB_PUT_BROKEN, msg);
}

/* Sends the whole frames at the start of p->in. 0 or -errno (reported). */
static int send_whole(struct job_put *p)
{
	struct errmsg err = { "" };
	size_t off = 0;
	int r;

	for (;;) {
		struct buf view = { .data = p->in.data + off, .len = p->in.len - off };
		const uint8_t *payload;
		size_t len;

		r = wire_frame_split(&view, &payload, &len);
		if (r < 0) {
			broken(p, "checkout stream: frame over the size limit", r);
			return r;
		}
		if (r == 0)
			break;
		off += WIRE_FRAME_HEADER + len;
		p->frames++;
	}
	if (off == 0)
		return 0;
	r = vm_send_raw(p->vm, p->in.data, off, &err);
	if (r < 0) {
		broken(p, err.msg[0] ? err.msg : "send to the agent failed", r);
		return r;
	}
	p->bytes += off;
	buf_consume(&p->in, off);
	return 0;
}

static int send_files(struct job_put *p)
{
	struct errmsg err = { "" };
	int r;

	for (size_t i = 0; i < p->nfiles; i++) {
		const struct wire_file *file = &p->files[i];
		size_t off = 0;

		do {
			size_t n = file->len - off > WIRE_CHUNK_MAX ? WIRE_CHUNK_MAX
								     : file->len - off;
			struct wire_frame f = {
				.type = WIRE_FRAME_PUT,
				.id = p->id,
				.path = file->path,
				.kind = WIRE_PUT_FILE,
				.mode = file->mode,
				.data = n ? file->data + off : NULL,
				.len = n,
				.append = off > 0,
				.uid = JOB_PUT_UID,
				.gid = JOB_PUT_GID,
			};

			r = vm_send_frame(p->vm, &f, &err);
			if (r < 0) {
				broken(p, err.msg[0] ? err.msg : "send to the agent failed", r);
				return r;
			}
			p->frames++;
			p->bytes += n;
			off += n;
		} while (off < file->len);
	}
	return 0;
}

static void send_end(struct job_put *p)
{
	struct wire_frame f = { .type = WIRE_FRAME_PUTEND, .id = p->id };
	struct errmsg err = { "" };
	int r;

	if (send_files(p) < 0)
		return;
	r = vm_send_frame(p->vm, &f, &err);
	if (r < 0) {
		broken(p, err.msg[0] ? err.msg : "send to the agent failed", r);
		return;
	}
	p->ended = true;
}

static void wait_poll(struct job_put *p)
{
	ev_timer_stop(p->loop, &p->poll);
	ev_timer_set(&p->poll, JOB_PUT_POLL_MS / 1000.0, 0.);
	ev_timer_start(p->loop, &p->poll);
}

/* Reads and forwards the checkout until it ends, the fd has nothing now, or the backlog is
 * full; then the files and putend. */
static void pump(struct job_put *p)
{
	while (p->fd >= 0) {
		ssize_t n;

		if (vm_send_backlog(p->vm) > JOB_PUT_BACKLOG_MAX) {
			wait_poll(p);
			return;
		}
		if (buf_reserve(&p->in, JOB_PUT_READ_MAX) < 0) {
			broken(p, "checkout stream: no memory", -ENOMEM);
			return;
		}
		n = read(p->fd, p->in.data + p->in.len, JOB_PUT_READ_MAX);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			ev_io_start(p->loop, &p->rd);
			return;
		}
		if (n < 0) {
			broken(p, "checkout stream: read", -errno);
			return;
		}
		if (n == 0) {
			ev_io_stop(p->loop, &p->rd);
			p->fd = fd_close(p->fd);
			if (p->in.len > 0) {
				broken(p, "checkout stream ends inside a frame", -EPIPE);
				return;
			}
			break;
		}
		p->in.len += (size_t)n;
		if (send_whole(p) < 0)
			return;
	}
	send_end(p);
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct job_put *p = w->data;

	(void)loop;
	(void)revents;
	ev_io_stop(p->loop, &p->rd);
	pump(p);
}

static void on_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	pump(w->data);
}

int job_put_start(struct ev_loop *loop, struct vm *vm, int checkout_fd,
		  const struct wire_file *files, size_t nfiles, job_put_done_fn *done, void *ud,
		  struct job_put **ret, struct errmsg *reterr)
{
	struct job_put *p = calloc(1, sizeof(*p));
	int fl;

	if (!p) {
		fd_close(checkout_fd);
		return errmsg_set(reterr, -ENOMEM, "put: no memory");
	}
	p->loop = loop;
	p->vm = vm;
	p->fd = checkout_fd;
	p->files = files;
	p->nfiles = nfiles;
	p->done = done;
	p->ud = ud;
	p->id = vm_next_id(vm);
	buf_init(&p->in, JOB_PUT_READ_MAX + WIRE_FRAME_HEADER + WIRE_FRAME_MAX);
	ev_io_init(&p->rd, on_readable, p->fd >= 0 ? p->fd : 0, EV_READ);
	p->rd.data = p;
	ev_timer_init(&p->poll, on_poll, 0., 0.);
	p->poll.data = p;
	if (p->fd >= 0) {
		fl = fcntl(p->fd, F_GETFL);
		if (fl < 0 || fcntl(p->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
			int r = -errno;

			job_put_free(p);
			return errmsg_set(reterr, r, "put: checkout stream: %s", errno_name(r));
		}
	}
	ev_timer_start(loop, &p->poll);	/* the pump starts from the loop */
	*ret = p;
	return 0;
}

bool job_put_frame(struct job_put *p, const struct wire_frame *f)
{
	if (f->id != p->id)
		return false;
	if (f->type == WIRE_FRAME_PUTOK && p->ended) {
		finish(p, JOB_PUT_DONE, NULL);
		return true;
	}
	if (f->type == WIRE_FRAME_ERROR) {
		char msg[WIRE_REASON_MAX + 1];

		/* the agent's message names the path and the errno */
		snprintf(msg, sizeof(msg), "%s",
			 f->message[0] ? f->message : errno_name(f->err > 0 ? -f->err : f->err));
		finish(p, JOB_PUT_REFUSED, msg);
		return true;
	}
	return false;
}

void job_put_stats(const struct job_put *p, uint64_t *frames, uint64_t *bytes)
{
	*frames = p->frames;
	*bytes = p->bytes;
}

struct job_put *job_put_free(struct job_put *p)
{
	if (!p)
		return NULL;
	ev_io_stop(p->loop, &p->rd);
	ev_timer_stop(p->loop, &p->poll);
	fd_close(p->fd);
	buf_free(&p->in);
	free(p);
	return NULL;
}
