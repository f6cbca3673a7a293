/*
 * metrics: a tiny HTTP/1.0 endpoint on 127.0.0.1:<port> for Prometheus. Every connection gets
 * the rendered text (whatever path it asked for) and is closed; the request is read once,
 * without parsing, and never waited for beyond what is already there. One fixed buffer, no
 * allocation per request. It must not block the loop: the accept and write are non-blocking,
 * and a client that does not take the whole answer at once is cut off.
 */
#define LOG_MOD "metrics"
#include "wpool.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define METRICS_BODY_MAX (128 * 1024)	/* 16 templates' gauges + histograms fit */

struct metrics {
	struct ev_loop *loop;
	int fd;
	ev_io io;
	size_t (*render)(char *out, size_t n);
	char body[METRICS_BODY_MAX];
	char resp[METRICS_BODY_MAX + 256];
};

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct metrics *m = w->data;
	char req[1024];
	size_t blen;
	int c, hl;

	while ((c = accept4(m->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		(void)!read(c, req, sizeof(req));
		blen = m->render(m->body, sizeof(m->body));
		hl = snprintf(m->resp, sizeof(m->resp),
			      "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
			      "Content-Length: %zu\r\nConnection: close\r\n\r\n", blen);
		memcpy(m->resp + hl, m->body, blen);
		(void)!send(c, m->resp, (size_t)hl + blen, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(c);
	}
}

int metrics_new(struct ev_loop *loop, unsigned port, size_t (*render)(char *out, size_t n),
		struct metrics **ret, struct errmsg *reterr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct metrics *m = calloc(1, sizeof(*m));
	int one = 1;

	if (!m)
		return -ENOMEM;
	m->loop = loop;
	m->render = render;
	m->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->fd < 0 || setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(m->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(m->fd, 16) < 0) {
		int r = -errno;

		fd_close(m->fd);
		free(m);
		return errmsg_set(reterr, r, "metrics on 127.0.0.1:%u: %s", port, errno_name(r));
	}
	ev_io_init(&m->io, accept_cb, m->fd, EV_READ);
	m->io.data = m;
	ev_io_start(loop, &m->io);
	log_info("metrics.listening", "addr=127.0.0.1:%u", port);
	*ret = m;
	return 0;
}

struct metrics *metrics_free(struct metrics *m)
{
	if (!m)
		return NULL;
	ev_io_stop(m->loop, &m->io);
	fd_close(m->fd);
	free(m);
	return NULL;
}
