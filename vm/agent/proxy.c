/*
 * proxy: the guest's only way out. An HTTP proxy on 127.0.0.1:3128 (the VM has no NIC; PID 1
 * brings up `lo` for it) whose every client connection becomes one egress stream to the host
 * (schemas/agent-frame.md "EGRESS streams"): the first request head picks the target (proxy_req.c)
 * and is answered by net_open; the host's net_ok starts the relay (for CONNECT after a local
 * "200 Connection established"), its net_close before that becomes a 403/502 answer with the
 * host's reason. Bytes flow as net_data with net_ack flow control, WIRE_NET_WINDOW per stream
 * and direction, so a stream holds at most one window of host data and a client is only read
 * while the host has acknowledged enough. At most PROXY_STREAMS_MAX streams; a client beyond
 * that gets 503. Every socket is non-blocking and polled by loop.c: it never blocks the
 * agent's other work. It decides nothing about policy: the worker does.
 */
#include "agent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOG_MOD "proxy"
#include "log.h"
#include "util.h"

#define PROXY_READ_MAX WIRE_CHUNK_MAX
#define PROXY_ACK_BATCH (16u * 1024u)	/* ack written host bytes in batches of at least this */
#define PROXY_REPLY_MAX 512		/* a local answer (200/4xx/5xx) */

enum ps_state { PS_HEAD, PS_OPENING, PS_OPEN };

struct pstream {
	bool used;
	enum ps_state st;
	uint32_t id;
	int fd;
	struct buf head;	/* HEAD: the request so far; OPENING: client bytes to send at net_ok */
	struct buf in;		/* to write to the client: local answer, then host data */
	size_t local;		/* bytes at the front of in that are local (not acked) */
	uint64_t unacked;	/* net_data sent to the host, not yet acked */
	uint64_t to_ack;	/* host bytes written to the client, not yet acked */
	bool closing;		/* write out in, then close (no more frames) */
	uint64_t last_ms;	/* monotonic, for the head timeout */
	struct proxy_target t;
};

struct proxy {
	int lfd;
	uint32_t next_id;
	size_t nused;
	struct pstream s[PROXY_STREAMS_MAX];
	struct pstream *pollref[1 + PROXY_STREAMS_MAX];	/* pollfd slot → stream (NULL: listen) */
	size_t npoll;
};

/* Brings lo up (a microVM kernel leaves it down); 0 or -errno. */
static int proxy_lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		r = -errno;
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			r = -errno;
	}
	fd_close(fd);
	return r;
}

int proxy_new(unsigned port, bool lo_up, struct proxy **ret, struct errmsg *reterr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct proxy *p;
	int one = 1, r;

	if (lo_up) {
		r = proxy_lo_up();
		if (r < 0)
			return errmsg_set(reterr, r, "bringing up lo: %s", errno_name(r));
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return errmsg_set(reterr, -ENOMEM, "out of memory");
	p->next_id = 1;
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->lfd < 0) {
		r = errmsg_set(reterr, -errno, "socket: %s", errno_name(errno));
		goto fail;
	}
	(void)setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(p->lfd, 64) < 0) {
		r = errmsg_set(reterr, -errno, "listening on 127.0.0.1:%u: %s", port,
			       errno_name(errno));
		goto fail;
	}
	for (size_t i = 0; i < PROXY_STREAMS_MAX; i++)
		p->s[i].fd = -1;
	*ret = p;
	return 0;
fail:
	fd_close(p->lfd);
	free(p);
	return r;
}

static void ps_free(struct proxy *p, struct pstream *s)
{
	if (!s->used)
		return;
	fd_close(s->fd);
	buf_free(&s->head);
	buf_free(&s->in);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	p->nused--;
}

void proxy_free(struct proxy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < PROXY_STREAMS_MAX; i++)
		ps_free(p, &p->s[i]);
	fd_close(p->lfd);
	free(p);
}

static struct pstream *ps_find(struct proxy *p, uint32_t id)
{
	for (size_t i = 0; i < PROXY_STREAMS_MAX; i++)
		if (p->s[i].used && p->s[i].st != PS_HEAD && p->s[i].id == id)
			return &p->s[i];
	return NULL;
}

static uint32_t ps_new_id(struct proxy *p)
{
	for (;;) {
		uint32_t id = p->next_id;

		p->next_id = id == UINT32_MAX ? 1 : id + 1;
		if (!ps_find(p, id))
			return id;
	}
}

/* Queues a local answer and closes the stream once it is written. */
static void ps_reply(struct pstream *s, int code, const char *status, const char *body)
{
	char tmp[PROXY_REPLY_MAX];
	int n;

	n = snprintf(tmp, sizeof(tmp),
		     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\nX-Corral-Egress: refused\r\n\r\n%s\n",
		     code, status, strlen(body) + 1, body);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		n = snprintf(tmp, sizeof(tmp), "HTTP/1.1 %d %s\r\nConnection: close\r\n\r\n", code,
			     status);
	buf_reset(&s->in);
	if (buf_append(&s->in, tmp, (size_t)n) == 0)
		s->local = (size_t)n;
	s->closing = true;
}

static void ps_send_close(struct chan *c, uint32_t id, int err, const char *msg)
{
	struct wire_frame f = { .type = WIRE_FRAME_NET_CLOSE, .id = id, .err = err };

	if (msg)
		snprintf(f.message, sizeof(f.message), "%s", msg);
	(void)chan_send(c, &f);
}

/* Sends client bytes as net_data frames. 0, or -ENOBUFS when the channel queue is full. */
static int ps_send_data(struct chan *c, struct pstream *s, const uint8_t *d, size_t n)
{
	while (n > 0) {
		struct wire_frame f = { .type = WIRE_FRAME_NET_DATA, .id = s->id };
		size_t k = n > WIRE_CHUNK_MAX ? WIRE_CHUNK_MAX : n;

		f.data = (uint8_t *)d;
		f.len = k;
		if (chan_send(c, &f) < 0)
			return -ENOBUFS;
		s->unacked += k;
		d += k;
		n -= k;
	}
	return 0;
}

/* The head is complete: route it (net_open) or answer 400. */
static void ps_route(struct proxy *p, struct chan *c, struct pstream *s, size_t head_len)
{
	struct wire_frame f = { .type = WIRE_FRAME_NET_OPEN };
	const char *why = "";

	if (proxy_req_parse(s->head.data, head_len, &s->t, &why) < 0) {
		ps_reply(s, 400, "Bad Request", why);
		return;
	}
	s->id = ps_new_id(p);
	if (s->t.kind == WIRE_NET_CONNECT)
		buf_consume(&s->head, head_len);	/* keep only what followed the head */
	f.id = s->id;
	snprintf(f.host, sizeof(f.host), "%s", s->t.host);
	f.port = s->t.port;
	f.net_kind = s->t.kind;
	if (chan_send(c, &f) < 0) {
		ps_reply(s, 503, "Service Unavailable", "agent channel busy");
		return;
	}
	s->st = PS_OPENING;
	log_debug("proxy.open", "id=%u host=%s port=%u kind=%s", s->id, s->t.host,
		  (unsigned)s->t.port, wire_net_kind_name(s->t.kind));
}

static void ps_read(struct proxy *p, struct chan *c, struct pstream *s, short revents)
{
	static uint8_t chunk[PROXY_READ_MAX];
	size_t want = sizeof(chunk);
	ssize_t n;

	if (s->st == PS_HEAD)
		want = PROXY_HEAD_MAX - s->head.len;
	else if (s->st == PS_OPEN)
		want = WIRE_NET_WINDOW - s->unacked < want ? WIRE_NET_WINDOW - s->unacked : want;
	else
		want = 0;
	if (want == 0 || s->closing) {
		if (!(revents & (POLLHUP | POLLERR)))
			return;
		if (!s->closing && s->st != PS_HEAD)	/* hung up: poll would report it forever */
			ps_send_close(c, s->id, 0, NULL);
		ps_free(p, s);
		return;
	}
	do
		n = read(s->fd, chunk, want);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {		/* client gone (no half-close: the stream ends) */
		if (s->st == PS_OPEN || s->st == PS_OPENING)
			ps_send_close(c, s->id, 0, NULL);
		ps_free(p, s);
		return;
	}
	s->last_ms = time_mono_ms();
	if (s->st == PS_HEAD) {
		size_t end;

		(void)buf_append(&s->head, chunk, (size_t)n);	/* fits: want bounded it */
		end = proxy_req_head_end(s->head.data, s->head.len);
		if (end)
			ps_route(p, c, s, end);
		else if (s->head.len >= PROXY_HEAD_MAX)
			ps_reply(s, 431, "Request Header Fields Too Large", "request head too large");
		return;
	}
	if (ps_send_data(c, s, chunk, (size_t)n) < 0) {
		ps_send_close(c, s->id, ENOBUFS, "agent channel full");
		ps_free(p, s);
	}
}

static void ps_ack(struct chan *c, struct pstream *s, bool force)
{
	struct wire_frame f = { .type = WIRE_FRAME_NET_ACK, .id = s->id };

	if (s->to_ack == 0 || (!force && s->to_ack < PROXY_ACK_BATCH))
		return;
	f.bytes = s->to_ack;
	if (chan_send(c, &f) == 0)
		s->to_ack = 0;
}

static void ps_write(struct proxy *p, struct chan *c, struct pstream *s)
{
	while (s->in.len > 0) {
		ssize_t w = write(s->fd, s->in.data, s->in.len);
		size_t l;

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w <= 0) {		/* client gone */
			if (!s->closing && s->st != PS_HEAD)
				ps_send_close(c, s->id, 0, NULL);
			ps_free(p, s);
			return;
		}
		l = (size_t)w < s->local ? (size_t)w : s->local;
		s->local -= l;
		s->to_ack += (size_t)w - l;
		buf_consume(&s->in, (size_t)w);
	}
	if (!s->closing)
		ps_ack(c, s, s->in.len == 0);
	if (s->closing && s->in.len == 0)
		ps_free(p, s);
}

static void proxy_accept(struct proxy *p)
{
	for (int i = 0; i < 16; i++) {
		int fd = accept4(p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct pstream *s = NULL;

		if (fd < 0)
			return;
		for (size_t k = 0; k < PROXY_STREAMS_MAX && !s; k++)
			if (!p->s[k].used)
				s = &p->s[k];
		if (!s) {
			static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
						   "Connection: close\r\nContent-Length: 0\r\n\r\n";

			(void)!write(fd, busy, sizeof(busy) - 1);
			fd_close(fd);
			log_warn("proxy.full", "streams=%d", PROXY_STREAMS_MAX);
			continue;
		}
		memset(s, 0, sizeof(*s));
		s->used = true;
		s->fd = fd;
		s->st = PS_HEAD;
		s->last_ms = time_mono_ms();
		buf_init(&s->head, PROXY_HEAD_MAX);
		buf_init(&s->in, WIRE_NET_WINDOW + PROXY_REPLY_MAX);
		p->nused++;
	}
}

size_t proxy_pollfds(struct proxy *p, struct pollfd *pfd, bool room)
{
	size_t n = 0;

	if (!p)
		return 0;
	p->npoll = 0;
	pfd[n] = (struct pollfd){ .fd = p->lfd, .events = POLLIN };
	p->pollref[n++] = NULL;
	for (size_t i = 0; i < PROXY_STREAMS_MAX; i++) {
		struct pstream *s = &p->s[i];
		short ev = 0;

		if (!s->used)
			continue;
		if (room && !s->closing &&
		    ((s->st == PS_HEAD && s->head.len < PROXY_HEAD_MAX) ||
		     (s->st == PS_OPEN && s->unacked < WIRE_NET_WINDOW)))
			ev |= POLLIN;
		if (s->in.len > 0)
			ev |= POLLOUT;
		pfd[n] = (struct pollfd){ .fd = s->fd, .events = ev };
		p->pollref[n++] = s;
	}
	p->npoll = n;
	return n;
}

void proxy_events(struct proxy *p, struct chan *c, const struct pollfd *pfd, size_t n)
{
	uint64_t now = time_mono_ms();

	if (!p)
		return;
	if (c->hup) {			/* the host's streams are gone with it */
		for (size_t i = 0; i < PROXY_STREAMS_MAX; i++)
			if (p->s[i].used && !p->s[i].closing)
				ps_free(p, &p->s[i]);
	}
	for (size_t i = 0; i < n && i < p->npoll; i++) {
		struct pstream *s = p->pollref[i];

		if (!pfd[i].revents)
			continue;
		if (!s) {
			proxy_accept(p);
			continue;
		}
		if (!s->used || s->fd != pfd[i].fd)
			continue;
		if (pfd[i].revents & POLLOUT)
			ps_write(p, c, s);
		if (s->used && s->fd == pfd[i].fd && (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			ps_read(p, c, s, pfd[i].revents);
	}
	for (size_t i = 0; i < PROXY_STREAMS_MAX; i++) {
		struct pstream *s = &p->s[i];

		if (s->used && s->st == PS_HEAD && !s->closing && now > s->last_ms &&
		    now - s->last_ms > PROXY_HEAD_TIMEOUT_MS)
			ps_reply(s, 408, "Request Timeout", "no complete request head");
	}
	p->npoll = 0;
}

bool proxy_busy(const struct proxy *p)
{
	return p && p->nused > 0;
}

static void ps_ok(struct chan *c, struct pstream *s)
{
	static const char est[] = "HTTP/1.1 200 Connection established\r\n\r\n";

	s->st = PS_OPEN;
	if (s->t.kind == WIRE_NET_CONNECT && buf_append(&s->in, est, sizeof(est) - 1) == 0)
		s->local = sizeof(est) - 1;
	if (s->head.len && ps_send_data(c, s, s->head.data, s->head.len) < 0) {
		ps_send_close(c, s->id, ENOBUFS, "agent channel full");
		s->closing = true;
		s->local = 0;
		buf_reset(&s->in);	/* nothing useful to say: close */
	}
	buf_free(&s->head);
	buf_init(&s->head, PROXY_HEAD_MAX);
}

static void ps_refused(struct pstream *s, const struct wire_frame *f)
{
	const char *msg = f->message[0] ? f->message : "refused by the egress proxy";

	if (f->err == EPERM || f->err == EACCES)
		ps_reply(s, 403, "Forbidden", msg);
	else if (f->err == ETIMEDOUT)
		ps_reply(s, 504, "Gateway Timeout", msg);
	else
		ps_reply(s, 502, "Bad Gateway", msg);
}

void proxy_frame(struct proxy *p, struct chan *c, const struct wire_frame *f)
{
	struct pstream *s = p ? ps_find(p, f->id) : NULL;

	if (!s || s->closing) {
		if (f->type == WIRE_FRAME_NET_OK || f->type == WIRE_FRAME_NET_DATA)
			ps_send_close(c, f->id, 0, NULL);
		return;
	}
	switch (f->type) {
	case WIRE_FRAME_NET_OK:
		if (s->st != PS_OPENING)
			return;
		ps_ok(c, s);
		return;
	case WIRE_FRAME_NET_DATA:
		/* unacked = not yet written + written but not yet acked */
		if (s->st != PS_OPEN ||
		    s->in.len - s->local + s->to_ack + f->len > WIRE_NET_WINDOW) {
			log_warn("proxy.window", "id=%u queued=%zu len=%zu", s->id, s->in.len, f->len);
			ps_send_close(c, s->id, EPROTO, "net_data beyond the window");
			ps_free(p, s);
			return;
		}
		(void)buf_append(&s->in, f->data, f->len);	/* fits: checked above */
		ps_write(p, c, s);	/* now, not a poll turn later (may free s) */
		return;
	case WIRE_FRAME_NET_ACK:
		s->unacked = f->bytes > s->unacked ? 0 : s->unacked - f->bytes;
		return;
	case WIRE_FRAME_NET_CLOSE:
		if (s->st == PS_OPENING) {
			log_info("proxy.refused", "id=%u host=%s port=%u err=%s", s->id, s->t.host,
				 (unsigned)s->t.port, errno_name(-f->err));
			ps_refused(s, f);
			return;
		}
		s->closing = true;	/* write what the host sent, then close */
		if (s->in.len == 0)
			ps_free(p, s);
		return;
	default:
		return;
	}
}
