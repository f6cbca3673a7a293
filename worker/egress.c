/*
 * egress: one session per job serving the guest proxy's net_* streams (egress.h). Per stream:
 * policy (template network and allowlist, stream and byte caps) → address (--egress-resolve or
 * a resolver thread) → address check (public only, unless --egress-allow-addr) → non-blocking
 * connect to that very address → net_ok → relay with net_ack flow control, the first bytes of a
 * CONNECT stream held until the ClientHello's SNI names the host, every request of an http
 * stream parsed and rewritten (egress_http.c). Any refusal is a net_close with the reason, which
 * the agent turns into a 403/502 for the client, and one logfmt line. All on the caller's loop;
 * it never blocks and never calls back into the job.
 */
#include "egress.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#define LOG_MOD "egress"
#include "log.h"
#include "policy.h"
#include "util.h"
#include "vm.h"

#define EGRESS_UP_MAX (2u * WIRE_NET_WINDOW + 2u * EGRESS_HTTP_HEAD_MAX)
#define EGRESS_ACK_LOW (64u * 1024u)	/* ack the guest once the origin took all but this */
#define EGRESS_TICK_S 1.0
#define EGRESS_MSG_MAX (WIRE_REASON_MAX + 1)

static struct egress_cfg G = { .max_bytes = EGRESS_MAX_BYTES_DEFAULT,
			       .idle_s = EGRESS_IDLE_DEFAULT_S };

enum es_state { ES_RESOLVING, ES_CONNECTING, ES_OPEN };

struct estream {
	struct egress *e;
	bool used;
	enum es_state st;
	uint32_t id;
	uint8_t kind;
	char host[WIRE_NET_HOST_MAX + 1];
	uint16_t port;
	struct egress_dns_req *dns;
	struct sockaddr_storage addrs[EGRESS_ADDRS_MAX];
	size_t naddrs, ai;
	int fd;
	ev_io rio, wio;
	ev_timer ctimer;
	bool sni_ok;
	struct buf hello;		/* connect: client bytes before the SNI check */
	struct buf up;			/* to the origin */
	struct egress_http http;
	uint64_t in_unacked;		/* guest bytes not yet acked */
	uint64_t down_unacked;		/* net_data sent to the guest, not yet acked */
	uint64_t bytes_up, bytes_down, last_ms;
	char addr[INET6_ADDRSTRLEN + 8];
};

struct egress {
	struct ev_loop *loop;
	struct vm *vm;
	char job[WIRE_ID_MAX + 1];
	struct wire_template *tpl;	/* own copy: name, network, allow */
	uint64_t bytes;
	bool over;
	ev_timer tick;
	unsigned nopen;
	struct estream s[EGRESS_STREAMS_MAX];
};

void egress_configure(const struct egress_cfg *cfg)
{
	G = *cfg;
	if (!G.max_bytes)
		G.max_bytes = EGRESS_MAX_BYTES_DEFAULT;
	if (!G.idle_s)
		G.idle_s = EGRESS_IDLE_DEFAULT_S;
}

/* ---- frames to the guest ---- */

static int send_frame(struct egress *e, const struct wire_frame *f)
{
	struct errmsg em = { "" };
	int r = vm_send_frame(e->vm, f, &em);

	if (r < 0)
		log_debug("egress.send_failed", "job=%s id=%u err=%s", e->job, f->id, errno_name(r));
	return r;
}

static void send_close(struct egress *e, uint32_t id, int err, const char *msg)
{
	struct wire_frame f = { .type = WIRE_FRAME_NET_CLOSE, .id = id, .err = err < 0 ? -err : err };

	if (msg)
		snprintf(f.message, sizeof(f.message), "%s", msg);
	(void)send_frame(e, &f);
}

static void log_decision(struct egress *e, const char *host, unsigned port, uint8_t kind,
			 bool allowed, const char *reason, const char *addr)
{
	char q[LOG_QUOTE_MAX + 8];

	log_info("egress.open", "job=%s host=%s port=%u kind=%s allowed=%d addr=%s reason=%s",
		 e->job, host, port, wire_net_kind_name(kind), allowed, addr && *addr ? addr : "-",
		 log_quote(q, sizeof(q), reason, strlen(reason)));
}

/* ---- streams ---- */

static struct estream *es_find(struct egress *e, uint32_t id)
{
	for (size_t i = 0; i < EGRESS_STREAMS_MAX; i++)
		if (e->s[i].used && e->s[i].id == id)
			return &e->s[i];
	return NULL;
}

static void es_free(struct estream *s)
{
	struct egress *e = s->e;

	if (!s->used)
		return;
	ev_io_stop(e->loop, &s->rio);
	ev_io_stop(e->loop, &s->wio);
	ev_timer_stop(e->loop, &s->ctimer);
	egress_dns_cancel(s->dns);
	fd_close(s->fd);
	buf_free(&s->hello);
	buf_free(&s->up);
	if (s->kind == WIRE_NET_HTTP)
		egress_http_free(&s->http);
	if (s->st == ES_OPEN)
		log_info("egress.close", "job=%s id=%u host=%s port=%u bytes_up=%llu bytes_down=%llu",
			 e->job, s->id, s->host, (unsigned)s->port,
			 (unsigned long long)s->bytes_up, (unsigned long long)s->bytes_down);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	e->nopen--;
}

/* Ends a stream from our side: net_close with the reason, then free. */
static void es_close(struct estream *s, int err, const char *msg)
{
	send_close(s->e, s->id, err, msg);
	es_free(s);
}

/* A policy refusal after the stream was accepted (SNI, Host): logged, closed. */
static void es_deny(struct estream *s, const char *why)
{
	char q[LOG_QUOTE_MAX + 8];

	log_warn("egress.deny", "job=%s id=%u host=%s port=%u kind=%s reason=%s", s->e->job, s->id,
		 s->host, (unsigned)s->port, wire_net_kind_name(s->kind),
		 log_quote(q, sizeof(q), why, strlen(why)));
	es_close(s, EPERM, why);
}

static void egress_over(struct egress *e)
{
	char msg[EGRESS_MSG_MAX];

	if (e->over)
		return;
	e->over = true;
	snprintf(msg, sizeof(msg), "egress byte limit of %llu bytes reached for this job",
		 (unsigned long long)G.max_bytes);
	log_warn("egress.limit", "job=%s bytes=%llu max=%llu", e->job,
		 (unsigned long long)e->bytes, (unsigned long long)G.max_bytes);
	for (size_t i = 0; i < EGRESS_STREAMS_MAX; i++)
		if (e->s[i].used)
			es_close(&e->s[i], EDQUOT, msg);
}

/* Counts n bytes against the job's cap; false (and everything closed) when over. */
static bool count_bytes(struct egress *e, size_t n)
{
	e->bytes += n;
	if (e->bytes > G.max_bytes)
		egress_over(e);
	return !e->over;
}

static void ack_guest(struct estream *s)
{
	struct wire_frame f = { .type = WIRE_FRAME_NET_ACK, .id = s->id };

	if (s->in_unacked == 0 || s->up.len > EGRESS_ACK_LOW ||
	    (s->kind == WIRE_NET_CONNECT && !s->sni_ok))
		return;
	f.bytes = s->in_unacked;
	if (send_frame(s->e, &f) == 0)
		s->in_unacked = 0;
}

/* Writes what is queued for the origin. false when the stream was closed. */
static bool flush_up(struct estream *s)
{
	while (s->up.len > 0) {
		ssize_t w = send(s->fd, s->up.data, s->up.len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w < 0) {
			int err = errno;

			es_close(s, err, "connection to the server lost");
			return false;
		}
		buf_consume(&s->up, (size_t)w);
		s->bytes_up += (size_t)w;
	}
	if (s->up.len > 0)
		ev_io_start(s->e->loop, &s->wio);
	else
		ev_io_stop(s->e->loop, &s->wio);
	ack_guest(s);
	return true;
}

static void rio_update(struct estream *s)
{
	if (s->st == ES_OPEN && s->down_unacked < WIRE_NET_WINDOW)
		ev_io_start(s->e->loop, &s->rio);
	else
		ev_io_stop(s->e->loop, &s->rio);
}

static void on_read(struct ev_loop *loop, ev_io *w, int revents)
{
	static uint8_t chunk[WIRE_CHUNK_MAX];
	struct estream *s = w->data;
	struct wire_frame f = { .type = WIRE_FRAME_NET_DATA, .id = s->id };
	size_t want = WIRE_NET_WINDOW - s->down_unacked;
	ssize_t n;

	(void)loop;
	(void)revents;
	if (want > sizeof(chunk))
		want = sizeof(chunk);
	if (want == 0 || s->down_unacked >= WIRE_NET_WINDOW) {	/* window shut: wait for an ack */
		ev_io_stop(s->e->loop, &s->rio);
		return;
	}
	n = recv(s->fd, chunk, want, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		es_close(s, n < 0 ? errno : 0, n < 0 ? "connection to the server lost" : NULL);
		return;
	}
	s->last_ms = time_mono_ms();
	s->bytes_down += (size_t)n;
	s->down_unacked += (size_t)n;
	f.data = chunk;
	f.len = (size_t)n;
	if (send_frame(s->e, &f) < 0) {		/* channel full or gone: the stream is torn */
		es_free(s);
		return;
	}
	if (!count_bytes(s->e, (size_t)n))
		return;
	rio_update(s);
}

static void on_write(struct ev_loop *loop, ev_io *w, int revents);

/* ---- connecting ---- */

static void addr_text(const struct sockaddr_storage *ss, char *out, size_t n)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ss)->sin_addr, a,
			  sizeof(a));
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr, a,
			  sizeof(a));
	snprintf(out, n, "%s", a);
}

/* Not a plain public address: IPv4-mapped, IPv4-compatible and NAT64 IPv6 forms are refused
 * outright (a name has no business resolving to them); the rest by class (fetch/policy.c). */
static const char *addr_problem(const struct sockaddr_storage *ss)
{
	enum addr_class c;

	if (ss->ss_family == AF_INET6) {
		static const uint8_t zero[12], mapped[12] = { [10] = 0xff, [11] = 0xff };
		static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b };
		const uint8_t *b = ((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr.s6_addr;

		if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0 ||
		    (memcmp(b, zero, 12) == 0 && !(b[12] == 0 && b[13] == 0 && b[14] == 0 &&
						   b[15] <= 1)))
			return "IPv4-mapped or translated IPv6";
	}
	c = policy_addr_classify((const struct sockaddr *)ss);
	return c == ADDR_PUBLIC ? NULL : policy_addr_class_name(c);
}

static void try_connect(struct estream *s);

static void connect_failed(struct estream *s, int err)
{
	char msg[EGRESS_MSG_MAX];

	log_debug("egress.connect_failed", "job=%s id=%u addr=%s err=%s", s->e->job, s->id,
		  s->addr, errno_name(-err));
	s->fd = fd_close(s->fd);
	ev_io_stop(s->e->loop, &s->wio);
	ev_timer_stop(s->e->loop, &s->ctimer);
	if (++s->ai < s->naddrs) {
		try_connect(s);
		return;
	}
	snprintf(msg, sizeof(msg), "cannot connect to '%.120s' port %u (%s): %s", s->host,
		 (unsigned)s->port, s->addr, err == ETIMEDOUT ? "timed out" : strerror(err));
	log_decision(s->e, s->host, s->port, s->kind, false, msg, s->addr);
	es_close(s, err, msg);
}

static void connected(struct estream *s)
{
	struct wire_frame ok = { .type = WIRE_FRAME_NET_OK, .id = s->id };

	ev_timer_stop(s->e->loop, &s->ctimer);
	ev_io_stop(s->e->loop, &s->wio);
	ev_io_init(&s->wio, on_write, s->fd, EV_WRITE);
	s->wio.data = s;
	s->st = ES_OPEN;
	s->last_ms = time_mono_ms();
	log_decision(s->e, s->host, s->port, s->kind, true, "allowlist", s->addr);
	(void)send_frame(s->e, &ok);
	rio_update(s);
}

static void on_connect(struct ev_loop *loop, ev_io *w, int revents)
{
	struct estream *s = w->data;
	int err = 0;
	socklen_t len = sizeof(err);

	(void)loop;
	(void)revents;
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == EINPROGRESS)
		return;
	if (err)
		connect_failed(s, err);
	else
		connected(s);
}

static void on_ctimer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	connect_failed(w->data, ETIMEDOUT);
}

static void try_connect(struct estream *s)
{
	struct sockaddr_storage ss = s->addrs[s->ai];
	socklen_t len;

	addr_text(&ss, s->addr, sizeof(s->addr));
	if (ss.ss_family == AF_INET) {
		((struct sockaddr_in *)(void *)&ss)->sin_port = htons(s->port);
		len = sizeof(struct sockaddr_in);
	} else {
		((struct sockaddr_in6 *)(void *)&ss)->sin6_port = htons(s->port);
		len = sizeof(struct sockaddr_in6);
	}
	s->st = ES_CONNECTING;
	s->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		connect_failed(s, errno);
		return;
	}
	if (connect(s->fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		connect_failed(s, errno);
		return;
	}
	ev_io_init(&s->rio, on_read, s->fd, EV_READ);
	s->rio.data = s;
	ev_io_init(&s->wio, on_connect, s->fd, EV_WRITE);
	s->wio.data = s;
	ev_io_start(s->e->loop, &s->wio);
	ev_timer_init(&s->ctimer, on_ctimer, EGRESS_CONNECT_TIMEOUT_S, 0.);
	s->ctimer.data = s;
	ev_timer_start(s->e->loop, &s->ctimer);
}

/* The name's addresses are known: every one must pass, then connect to them in order. */
static void have_addrs(struct estream *s, const struct sockaddr_storage *a, size_t n)
{
	char msg[EGRESS_MSG_MAX], at[INET6_ADDRSTRLEN + 8];

	for (size_t i = 0; i < n; i++) {
		const char *bad = addr_problem(&a[i]);

		if (bad && !egress_cfg_addr_allowed(&G, (const struct sockaddr *)&a[i])) {
			addr_text(&a[i], at, sizeof(at));
			snprintf(msg, sizeof(msg), "domain '%.120s' resolves to a %s address (%s), "
				 "not allowed", s->host, bad, at);
			log_decision(s->e, s->host, s->port, s->kind, false, msg, at);
			es_close(s, EPERM, msg);
			return;
		}
	}
	memcpy(s->addrs, a, n * sizeof(*a));
	s->naddrs = n;
	s->ai = 0;
	try_connect(s);
}

static void on_dns(int err, const struct sockaddr_storage *addrs, size_t n, void *ud)
{
	struct estream *s = ud;
	char msg[EGRESS_MSG_MAX];

	s->dns = NULL;
	if (err < 0) {
		snprintf(msg, sizeof(msg), "domain '%.120s' %s", s->host,
			 err == -ENOENT ? "not found" : "could not be resolved (try again)");
		log_decision(s->e, s->host, s->port, s->kind, false, msg, NULL);
		es_close(s, err == -ENOENT ? EHOSTUNREACH : EAGAIN, msg);
		return;
	}
	have_addrs(s, addrs, n);
}

/* ---- frames from the guest ---- */

static void refuse_open(struct egress *e, const struct wire_frame *f, int err, const char *msg)
{
	log_decision(e, f->host, f->port, f->net_kind, false, msg, NULL);
	send_close(e, f->id, err, msg);
}

static void on_open(struct egress *e, const struct wire_frame *f)
{
	const struct sockaddr_storage *fixed;
	char msg[EGRESS_MSG_MAX];
	struct sockaddr_storage lit;
	struct estream *s = NULL;
	int r;

	if (es_find(e, f->id)) {
		send_close(e, f->id, EEXIST, "stream id already open");
		return;
	}
	if (!e->tpl || !e->tpl->network) {
		snprintf(msg, sizeof(msg),
			 "domain '%.120s' not allowed: network disabled for this job's template",
			 f->host);
		refuse_open(e, f, EPERM, msg);
		return;
	}
	if (e->over) {
		snprintf(msg, sizeof(msg), "egress byte limit of %llu bytes reached for this job",
			 (unsigned long long)G.max_bytes);
		refuse_open(e, f, EDQUOT, msg);
		return;
	}
	if (!wire_template_allows(e->tpl, f->host, f->port)) {
		snprintf(msg, sizeof(msg), "domain '%.120s' port %u not allowed by template '%.64s'",
			 f->host, (unsigned)f->port, e->tpl->name);
		refuse_open(e, f, EPERM, msg);
		return;
	}
	for (size_t i = 0; i < EGRESS_STREAMS_MAX && !s; i++)
		if (!e->s[i].used)
			s = &e->s[i];
	if (!s) {
		snprintf(msg, sizeof(msg), "%d egress streams open, limit reached",
			 EGRESS_STREAMS_MAX);
		refuse_open(e, f, EMFILE, msg);
		return;
	}
	memset(s, 0, sizeof(*s));
	s->e = e;
	s->used = true;
	s->fd = -1;
	s->id = f->id;
	s->kind = f->net_kind;
	s->port = f->port;
	snprintf(s->host, sizeof(s->host), "%s", f->host);
	s->last_ms = time_mono_ms();
	buf_init(&s->hello, EGRESS_HELLO_MAX);
	buf_init(&s->up, EGRESS_UP_MAX);
	if (s->kind == WIRE_NET_HTTP)
		egress_http_init(&s->http, s->host, s->port);
	ev_init(&s->rio, on_read);
	ev_init(&s->wio, on_connect);
	ev_init(&s->ctimer, on_ctimer);
	e->nopen++;
	s->st = ES_RESOLVING;
	fixed = egress_cfg_lookup(&G, s->host);
	memset(&lit, 0, sizeof(lit));
	if (!fixed && inet_pton(AF_INET, s->host,
				&((struct sockaddr_in *)(void *)&lit)->sin_addr) == 1) {
		lit.ss_family = AF_INET;
		fixed = &lit;
	}
	if (fixed) {
		have_addrs(s, fixed, 1);
		return;
	}
	r = egress_dns_start(e->loop, s->host, on_dns, s, &s->dns);
	if (r < 0) {
		s->dns = NULL;
		snprintf(msg, sizeof(msg), "domain '%.120s' could not be resolved (%s)", s->host,
			 errno_name(r));
		log_decision(e, s->host, s->port, s->kind, false, msg, NULL);
		es_close(s, EAGAIN, msg);
	}
}

/* Client bytes of a CONNECT stream before its SNI was checked. */
static void on_hello(struct estream *s, const struct wire_frame *f)
{
	char sni[WIRE_NET_HOST_MAX + 2], msg[EGRESS_MSG_MAX];
	const char *why = "";
	int r;

	if (buf_append(&s->hello, f->data, f->len) < 0) {
		es_deny(s, "TLS ClientHello too large");
		return;
	}
	r = egress_tls_sni(s->hello.data, s->hello.len, sni, sizeof(sni), &why);
	if (r == 0)
		return;
	if (r < 0) {
		snprintf(msg, sizeof(msg), "CONNECT to '%.120s' refused: %s", s->host, why);
		es_deny(s, msg);
		return;
	}
	if (strcmp(sni, s->host) != 0) {
		snprintf(msg, sizeof(msg), "TLS SNI '%.100s' does not match CONNECT host '%.100s'",
			 sni, s->host);
		es_deny(s, msg);
		return;
	}
	s->sni_ok = true;
	if (buf_append(&s->up, s->hello.data, s->hello.len) < 0) {
		es_close(s, ENOBUFS, "egress buffer full");
		return;
	}
	buf_free(&s->hello);
	buf_init(&s->hello, 0);
	(void)flush_up(s);
}

static void on_data(struct egress *e, struct estream *s, const struct wire_frame *f)
{
	char why[EGRESS_MSG_MAX];
	int r;

	if (s->st != ES_OPEN) {
		es_close(s, EPROTO, "net_data before net_ok");
		return;
	}
	s->in_unacked += f->len;
	if (s->in_unacked > WIRE_NET_WINDOW) {
		log_warn("egress.window", "job=%s id=%u unacked=%llu", e->job, s->id,
			 (unsigned long long)s->in_unacked);
		es_close(s, EPROTO, "net_data beyond the window");
		return;
	}
	s->last_ms = time_mono_ms();
	if (!count_bytes(e, f->len))
		return;
	if (s->kind == WIRE_NET_CONNECT && !s->sni_ok) {
		on_hello(s, f);
		return;
	}
	if (s->kind == WIRE_NET_HTTP) {
		why[0] = '\0';
		r = egress_http_feed(&s->http, f->data, f->len, &s->up, why, sizeof(why));
		if (r == -EPERM) {
			es_deny(s, why);
			return;
		}
		if (r < 0) {
			es_close(s, -r, why);
			return;
		}
	} else if (buf_append(&s->up, f->data, f->len) < 0) {
		es_close(s, ENOBUFS, "egress buffer full");
		return;
	}
	(void)flush_up(s);
}

static void on_write(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	(void)flush_up(w->data);
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct egress *e = w->data;
	uint64_t now = time_mono_ms();
	char msg[EGRESS_MSG_MAX];

	(void)loop;
	(void)revents;
	for (size_t i = 0; i < EGRESS_STREAMS_MAX; i++) {
		struct estream *s = &e->s[i];

		if (!s->used || now <= s->last_ms || now - s->last_ms < (uint64_t)G.idle_s * 1000u)
			continue;
		snprintf(msg, sizeof(msg), "egress stream to '%.120s' idle for %u s", s->host, G.idle_s);
		log_info("egress.idle", "job=%s id=%u host=%s", e->job, s->id, s->host);
		es_close(s, ETIMEDOUT, msg);
	}
}

static struct egress *egress_new(struct ev_loop *loop, struct vm *vm,
				 const struct wire_template *t, const char *job_id)
{
	struct egress *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->loop = loop;
	e->vm = vm;
	snprintf(e->job, sizeof(e->job), "%s", job_id && *job_id ? job_id : "-");
	if (t) {
		e->tpl = wire_template_new(t->name);
		if (!e->tpl)
			goto fail;
		e->tpl->network = t->network;
		if (t->nallow) {
			e->tpl->allow = calloc(t->nallow + 1, sizeof(char *));
			if (!e->tpl->allow)
				goto fail;
			for (size_t i = 0; i < t->nallow; i++) {
				e->tpl->allow[i] = strdup(t->allow[i]);
				if (!e->tpl->allow[i])
					goto fail;
				e->tpl->nallow = i + 1;
			}
		}
	}
	for (size_t i = 0; i < EGRESS_STREAMS_MAX; i++)
		e->s[i].fd = -1;
	ev_timer_init(&e->tick, on_tick, EGRESS_TICK_S, EGRESS_TICK_S);
	e->tick.data = e;
	ev_timer_start(loop, &e->tick);
	return e;
fail:
	wire_template_free(e->tpl);
	free(e);
	return NULL;
}

struct egress *egress_free(struct egress *e)
{
	if (!e)
		return NULL;
	for (size_t i = 0; i < EGRESS_STREAMS_MAX; i++)
		es_free(&e->s[i]);
	ev_timer_stop(e->loop, &e->tick);
	wire_template_free(e->tpl);
	free(e);
	return NULL;
}

void egress_frame(struct egress **sp, struct ev_loop *loop, struct vm *vm,
		  const struct wire_template *t, const char *job_id, const struct wire_frame *f)
{
	struct egress *e = *sp;
	struct estream *s;

	if (!e) {
		if (f->type != WIRE_FRAME_NET_OPEN)
			return;
		e = *sp = egress_new(loop, vm, t, job_id);
		if (!e) {
			struct wire_frame c = { .type = WIRE_FRAME_NET_CLOSE, .id = f->id,
						.err = ENOMEM };

			snprintf(c.message, sizeof(c.message), "egress proxy out of memory");
			(void)vm_send_frame(vm, &c, NULL);
			return;
		}
	}
	if (f->type == WIRE_FRAME_NET_OPEN) {
		on_open(e, f);
		return;
	}
	s = es_find(e, f->id);
	if (!s) {
		if (f->type == WIRE_FRAME_NET_DATA)
			send_close(e, f->id, 0, NULL);
		return;
	}
	switch (f->type) {
	case WIRE_FRAME_NET_DATA:
		on_data(e, s, f);
		return;
	case WIRE_FRAME_NET_ACK:
		s->down_unacked = f->bytes > s->down_unacked ? 0 : s->down_unacked - f->bytes;
		rio_update(s);
		return;
	case WIRE_FRAME_NET_CLOSE:
		es_free(s);
		return;
	default:
		return;
	}
}

/* ---- exec environment ---- */

static const char *const proxy_env[] = {
	"HTTP_PROXY=" EGRESS_PROXY_URL, "HTTPS_PROXY=" EGRESS_PROXY_URL,
	"http_proxy=" EGRESS_PROXY_URL, "https_proxy=" EGRESS_PROXY_URL,
	"NO_PROXY=localhost,127.0.0.1", "no_proxy=localhost,127.0.0.1",
};
#define PROXY_ENV_N (sizeof(proxy_env) / sizeof(proxy_env[0]))

static bool is_proxy_key(const char *kv)
{
	size_t k = strcspn(kv, "=");

	for (size_t i = 0; i < PROXY_ENV_N; i++)
		if (strncmp(proxy_env[i], kv, k) == 0 && proxy_env[i][k] == '=')
			return true;
	return false;
}

void egress_env_free(char **env)
{
	if (!env)
		return;
	for (size_t i = 0; env[i]; i++)
		free(env[i]);
	free(env);
}

int egress_exec_env(const struct wire_template *t, char *const *env, size_t envc, char ***ret,
		    size_t *retc)
{
	char **out;
	size_t n = 0;

	*ret = NULL;
	*retc = envc;
	if (!t || !t->network)
		return 0;
	out = calloc(envc + PROXY_ENV_N + 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < envc && env && env[i]; i++) {
		if (is_proxy_key(env[i]))
			continue;
		if (!(out[n++] = strdup(env[i])))
			goto nomem;
	}
	for (size_t i = 0; i < PROXY_ENV_N; i++)
		if (!(out[n++] = strdup(proxy_env[i])))
			goto nomem;
	if (n > WIRE_ENVC_MAX) {
		egress_env_free(out);
		return -E2BIG;
	}
	*ret = out;
	*retc = n;
	return 0;
nomem:
	egress_env_free(out);
	return -ENOMEM;
}
