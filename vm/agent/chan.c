/*
 * chan: framed I/O on the agent port, with bounded buffers both ways. Input is length-checked by
 * wire_frame_split before it can grow past one maximal frame; a frame that does not decode gets
 * an ERROR frame and is skipped, an impossible length header resets the input. Output frames are
 * queued whole; the queue knows where each frame ends, so when the host goes away mid-frame the
 * torn rest is dropped and the next host starts on a frame boundary with a fresh READY.
 * Frames are taken from the front of the input by advancing an offset; the taken bytes are
 * dropped in one move before the next read, so a flood of tiny frames costs linear time (a
 * memmove per frame made it quadratic: 18 fuzz inputs/s on 300 KB streams).
 * It never exits and never blocks; it knows nothing of processes.
 */
#include "agent.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_MOD "chan"
#include "log.h"
#include "util.h"

#define CHAN_READ_CHUNK (64 * 1024)

void chan_init(struct chan *c, int fd, bool is_stream)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->is_stream = is_stream;
	c->need_ready = true;
	buf_init(&c->in, AGENT_INBUF_MAX);
	buf_init(&c->out, AGENT_OUTQ_MAX);
}

void chan_free(struct chan *c)
{
	buf_free(&c->in);
	buf_free(&c->out);
}

int chan_send(struct chan *c, const struct wire_frame *f)
{
	struct errmsg em = { "" };
	size_t before = c->out.len;
	int r;

	r = wire_frame_encode(f, &c->out, &em);
	if (r < 0) {
		c->out.len = before;	/* never leave half a frame queued */
		c->frames_dropped++;
		log_warn("frame.dropped", "type=%d err=%s msg=\"%s\" dropped=%llu", (int)f->type,
			 errno_name(r), em.msg, (unsigned long long)c->frames_dropped);
	}
	return r;
}

int chan_send_error(struct chan *c, uint32_t id, int err, const char *fmt, ...)
{
	struct wire_frame f = { .type = WIRE_FRAME_ERROR, .id = id, .err = err < 0 ? -err : err };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f.message, sizeof(f.message), fmt, ap);
	va_end(ap);
	return chan_send(c, &f);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Puts READY at the front of the queue (the queue is at a frame boundary). */
static void chan_push_ready(struct chan *c)
{
	struct wire_frame f = { .type = WIRE_FRAME_READY };
	struct buf tmp;
	int r;

	snprintf(f.version, sizeof(f.version), "%s", CORRAL_VERSION);
	buf_init(&tmp, AGENT_OUTQ_MAX);
	r = wire_frame_encode(&f, &tmp, NULL);
	if (r >= 0)
		r = buf_append(&tmp, c->out.data, c->out.len);
	if (r < 0) {
		log_error("frame.ready_failed", "err=%s", errno_name(r));
		buf_free(&tmp);
		return;
	}
	buf_free(&c->out);
	c->out = tmp;
	c->need_ready = false;
	c->ready_at_head = true;
}

/* Drops n written bytes from the queue, keeping track of frame boundaries. */
static void chan_advance(struct chan *c, size_t n)
{
	size_t pos = 0;

	while (pos < n) {
		size_t take;

		if (c->head_left == 0)
			c->head_left = WIRE_FRAME_HEADER + be32(c->out.data + pos);
		take = n - pos < c->head_left ? n - pos : c->head_left;
		c->head_left -= take;
		pos += take;
	}
	buf_consume(&c->out, n);
	c->ready_at_head = false;
}

int chan_flush(struct chan *c)
{
	if (c->hup || c->eof)
		return 0;
	if (c->need_ready && c->head_left == 0)
		chan_push_ready(c);
	while (c->out.len > 0) {
		ssize_t w = write(c->fd, c->out.data, c->out.len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			if (errno == EPIPE || errno == ECONNRESET) {
				chan_set_hup(c);
				return 0;
			}
			return -errno;
		}
		chan_advance(c, (size_t)w);
	}
	return 0;
}

void chan_set_hup(struct chan *c)
{
	if (c->is_stream) {
		c->eof = true;
		return;
	}
	if (!c->hup)
		log_info("host.disconnected", "queued=%zu", c->out.len);
	c->hup = true;
	c->need_ready = true;
	buf_reset(&c->in);
	c->in_off = 0;
	if (c->head_left > 0) {		/* the old host got part of it: drop the rest */
		buf_consume(&c->out, c->head_left);
		c->head_left = 0;
	} else if (c->ready_at_head) {	/* an unsent READY: a fresh one follows the connect */
		buf_consume(&c->out, WIRE_FRAME_HEADER + be32(c->out.data));
	}
	c->ready_at_head = false;
}

void chan_recheck(struct chan *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN | POLLOUT };

	if (!c->hup)
		return;
	if (poll(&p, 1, 0) < 0 || (p.revents & (POLLHUP | POLLERR)))
		return;
	c->hup = false;
	log_info("host.connected", "queued=%zu", c->out.len);
}

int chan_fill(struct chan *c)
{
	bool got = false;

	if (c->in_off > 0) {
		buf_consume(&c->in, c->in_off);
		c->in_off = 0;
	}
	while (c->in.len < c->in.max) {
		size_t room = c->in.max - c->in.len;
		ssize_t n;
		int r;

		if (room > CHAN_READ_CHUNK)
			room = CHAN_READ_CHUNK;
		r = buf_reserve(&c->in, room);
		if (r < 0)
			return r;
		n = read(c->fd, c->in.data + c->in.len, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		if (n == 0) {
			if (got)
				break;	/* hand over what came; the hangup shows again */
			chan_set_hup(c);
			return -EPIPE;
		}
		c->in.len += (size_t)n;
		got = true;
	}
	return got ? 1 : 0;
}

int chan_next(struct chan *c, struct wire_frame **ret)
{
	for (;;) {
		struct errmsg em = { "" };
		struct buf view;
		const uint8_t *payload;
		size_t len;
		int r;

		if (c->in.len == c->in_off) {	/* all taken: start again at the front */
			c->in.len = 0;
			c->in_off = 0;
			return 0;
		}
		view = (struct buf){ .data = c->in.data + c->in_off, .len = c->in.len - c->in_off,
				     .cap = c->in.cap - c->in_off, .max = c->in.max };
		r = wire_frame_split(&view, &payload, &len);
		if (r == 0)
			return 0;
		if (r < 0) {
			uint32_t claimed = view.len >= 4 ? be32(view.data) : 0;

			chan_send_error(c, 0, r, "frame header announces %u bytes, limit %u; input reset",
					claimed, (unsigned)WIRE_FRAME_MAX);
			log_warn("frame.oversized", "len=%u", claimed);
			buf_reset(&c->in);
			c->in_off = 0;
			return 0;
		}
		r = wire_frame_decode(payload, len, ret, &em);
		c->in_off += WIRE_FRAME_HEADER + len;
		if (c->in_off == c->in.len) {
			c->in.len = 0;
			c->in_off = 0;
		}
		if (r >= 0)
			return 1;
		chan_send_error(c, 0, r, "bad frame: %s", em.msg);
		log_warn("frame.bad", "err=%s len=%zu", errno_name(r), len);
	}
}
