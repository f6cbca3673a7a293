/*
 * channel: frame I/O on the agent socket. Reads in chunks, splits with wire_frame_split() over a
 * moving offset (one memmove per read, not per frame: a guest sending many tiny frames costs
 * linear time), decodes with libwire and passes frames up. Writes a bounded queue with
 * MSG_NOSIGNAL from a moving offset too (a 64 MiB checkout is not memmoved per send). It must not
 * interpret frames or call back from channel_send().
 */
#include "channel.h"

#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

#define CHANNEL_OUTQ_KEEP (4u * 1024u * 1024u)	/* queue capacity kept once drained */

struct channel {
	struct ev_loop *loop;
	int fd;
	bool broken;
	ev_io rio, wio;
	struct buf in, out;
	size_t out_off;		/* out.data[0..out_off) is already written */
	const struct channel_ops *ops;
	void *ud;
	unsigned busy;		/* inside a callback: channel_free() only marks c dead */
	bool dead;
};

static void really_free(struct channel *c)
{
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
}

static void stop_io(struct channel *c)
{
	ev_io_stop(c->loop, &c->rio);
	ev_io_stop(c->loop, &c->wio);
}

static void broken(struct channel *c, int err, const char *why)
{
	c->broken = true;
	stop_io(c);
	c->ops->broken(c, err, why, c->ud);
}

static uint32_t peek_len(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Decodes and dispatches every whole frame in c->in. 0 to go on reading, <0 when c must not be
 * touched any more. */
static int drain_frames(struct channel *c)
{
	struct errmsg em = { "" };
	char why[ERRMSG_MAX + 64];
	struct wire_frame *f;
	const uint8_t *payload;
	size_t off = 0, len;
	int r;

	for (;;) {
		struct buf view = { .data = c->in.data + off, .len = c->in.len - off };

		r = wire_frame_split(&view, &payload, &len);
		if (r == 0)
			break;
		if (r < 0) {
			snprintf(why, sizeof(why), "agent frame of %u bytes, over WIRE_FRAME_MAX %d",
				 peek_len(view.data), WIRE_FRAME_MAX);
			broken(c, r, why);
			return r;
		}
		off += WIRE_FRAME_HEADER + len;
		f = NULL;
		r = wire_frame_decode(payload, len, &f, &em);
		if (r < 0) {
			snprintf(why, sizeof(why), "undecodable agent frame (%zu bytes): %s", len,
				 em.msg);
			broken(c, r, why);
			return r;
		}
		c->busy++;
		r = c->ops->frame(c, f, c->ud);
		c->busy--;
		if (c->dead) {		/* channel_free() ran in the callback */
			if (!c->busy)
				really_free(c);
			return -ECANCELED;
		}
		if (r < 0) {
			c->broken = true;
			stop_io(c);
			return r;
		}
	}
	buf_consume(&c->in, off);
	return 0;
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct channel *c = w->data;
	ssize_t n;
	int r;

	for (int i = 0; i < CHANNEL_READS_PER_WAKEUP; i++) {
		r = buf_reserve(&c->in, CHANNEL_READ_CHUNK);
		if (r < 0) {
			broken(c, r, "agent input buffer");
			return;
		}
		n = read(c->fd, c->in.data + c->in.len, CHANNEL_READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			broken(c, -errno, "agent socket read error");
			return;
		}
		if (n == 0) {
			broken(c, -EPIPE, c->in.len ? "agent hung up mid-frame (EOF)"
						    : "agent hung up (EOF)");
			return;
		}
		c->in.len += (size_t)n;
		if (drain_frames(c) < 0)
			return;
	}
}

static void write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct channel *c = w->data;
	ssize_t n;

	while (c->out_off < c->out.len) {
		n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			broken(c, -errno, "agent socket write error");
			return;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out.len) {
		if (c->out.cap > CHANNEL_OUTQ_KEEP) {	/* a bulk transfer is over: give it back */
			buf_free(&c->out);
			buf_init(&c->out, CHANNEL_OUTQ_MAX);
		}
		buf_reset(&c->out);
		c->out_off = 0;
		ev_io_stop(loop, &c->wio);
	} else if (c->out_off > c->out.len / 2) {	/* compact: amortised O(1) per byte */
		buf_consume(&c->out, c->out_off);
		c->out_off = 0;
	}
}

int channel_new(struct ev_loop *loop, int fd, const struct channel_ops *ops, void *ud,
		struct channel **ret)
{
	struct channel *c = calloc(1, sizeof(*c));

	if (!c) {
		fd_close(fd);
		return -ENOMEM;
	}
	c->loop = loop;
	c->fd = fd;
	c->ops = ops;
	c->ud = ud;
	/* At most one partial frame stays buffered between reads, plus one chunk. */
	buf_init(&c->in, WIRE_FRAME_HEADER + WIRE_FRAME_MAX + CHANNEL_READ_CHUNK);
	buf_init(&c->out, CHANNEL_OUTQ_MAX);
	ev_io_init(&c->rio, read_cb, fd, EV_READ);
	ev_io_init(&c->wio, write_cb, fd, EV_WRITE);
	c->rio.data = c;
	c->wio.data = c;
	ev_io_start(loop, &c->rio);
	*ret = c;
	return 0;
}

int channel_send(struct channel *c, const struct wire_frame *f, struct errmsg *reterr)
{
	struct buf tmp;
	int r;

	if (c->broken)
		return errmsg_set(reterr, -EPIPE, "agent channel is broken");
	buf_init(&tmp, WIRE_FRAME_HEADER + WIRE_FRAME_MAX);
	r = wire_frame_encode(f, &tmp, reterr);
	if (r < 0)
		goto out;
	r = buf_append(&c->out, tmp.data, tmp.len);
	if (r < 0) {
		r = errmsg_set(reterr, -ENOBUFS, "agent output queue over %u bytes",
			       (unsigned)CHANNEL_OUTQ_MAX);
		goto out;
	}
	ev_io_start(c->loop, &c->wio);
out:
	buf_free(&tmp);
	return r;
}

int channel_send_raw(struct channel *c, const void *frames, size_t len, struct errmsg *reterr)
{
	const uint8_t *payload;
	size_t off = 0, n;
	int r;

	if (c->broken)
		return errmsg_set(reterr, -EPIPE, "agent channel is broken");
	while (off < len) {
		struct buf view = { .data = (uint8_t *)frames + off, .len = len - off };

		r = wire_frame_split(&view, &payload, &n);
		if (r < 0)
			return errmsg_set(reterr, -EINVAL, "raw frames: frame at byte %zu announces "
					  "more than %d bytes", off, WIRE_FRAME_MAX);
		if (r == 0)
			return errmsg_set(reterr, -EINVAL, "raw frames: %zu trailing bytes are not a "
					  "whole frame", len - off);
		off += WIRE_FRAME_HEADER + n;
	}
	if (len == 0)
		return 0;
	r = buf_append(&c->out, frames, len);
	if (r < 0)
		return errmsg_set(reterr, -ENOBUFS, "agent output queue over %u bytes",
				  (unsigned)CHANNEL_OUTQ_MAX);
	ev_io_start(c->loop, &c->wio);
	return 0;
}

size_t channel_backlog(const struct channel *c)
{
	return c->out.len - c->out_off;
}

struct channel *channel_free(struct channel *c)
{
	if (!c || c->dead)
		return NULL;
	stop_io(c);
	c->fd = fd_close(c->fd);
	c->broken = true;
	c->dead = true;
	if (!c->busy)
		really_free(c);
	return NULL;
}
