/*
 * qmp: the I/O half of the QMP client. One connected socket, one read watcher, one write watcher;
 * a small table of pending command ids. It never blocks and never calls back synchronously from
 * qmp_execute(). It must not interpret replies beyond matching ids: callers decide.
 */
#include "qmp.h"

#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

#define QMP_READ_CHUNK 16384

enum qmp_state { QMP_AWAIT_GREETING, QMP_AWAIT_CAPS, QMP_READY, QMP_BROKEN };

struct qmp_pending {
	uint64_t id;
	qmp_reply_fn cb;
	void *ud;
};

struct qmp {
	struct ev_loop *loop;
	int fd;
	enum qmp_state state;
	ev_io rio, wio;
	struct buf in, out;
	uint64_t next_id;
	struct qmp_pending pending[QMP_PENDING_MAX];
	size_t npending;
	struct qmp_msg greeting;
	const struct qmp_ops *ops;
	void *ud;
	unsigned busy;		/* inside a callback: qmp_free() only marks q dead */
	bool dead;
};

static void really_free(struct qmp *q)
{
	buf_free(&q->in);
	buf_free(&q->out);
	free(q);
}

static void enter(struct qmp *q)
{
	q->busy++;
}

/* After a callback: true when q was freed meanwhile (it may be gone: return at once). */
static bool leave(struct qmp *q)
{
	if (--q->busy || !q->dead)
		return q->dead;
	really_free(q);
	return true;
}

static void stop_io(struct qmp *q)
{
	ev_io_stop(q->loop, &q->rio);
	ev_io_stop(q->loop, &q->wio);
}

static void broken(struct qmp *q, int err, const char *why)
{
	q->state = QMP_BROKEN;
	stop_io(q);
	q->ops->broken(q, err, why, q->ud);
}

static int queue_cmd(struct qmp *q, const char *cmd, const char *args, qmp_reply_fn cb, void *ud,
		     struct errmsg *reterr)
{
	uint64_t id = ++q->next_id;
	int r;

	if (q->npending >= QMP_PENDING_MAX)
		return errmsg_set(reterr, -ENOBUFS, "%d QMP commands pending", QMP_PENDING_MAX);
	r = qmp_encode_cmd(cmd, args, id, &q->out, reterr);
	if (r < 0)
		return r;
	q->pending[q->npending++] = (struct qmp_pending){ .id = id, .cb = cb, .ud = ud };
	ev_io_start(q->loop, &q->wio);
	return 0;
}

static void caps_reply(struct qmp *q, int err, const struct qmp_msg *m, void *ud)
{
	char why[QMP_DESC_MAX + 64];

	if (err < 0) {
		snprintf(why, sizeof(why), "qmp_capabilities refused: %s", m ? m->desc : "");
		broken(q, err, why);
		return;
	}
	q->state = QMP_READY;
	if (q->ops->ready)
		q->ops->ready(q, &q->greeting, q->ud);
}

/* Returns <0 when q must not be touched any more (broken, or freed by a callback). */
static int handle_msg(struct qmp *q, const struct qmp_msg *m)
{
	struct qmp_pending p;
	size_t i;

	if (q->state == QMP_AWAIT_GREETING) {
		if (m->kind != QMP_MSG_GREETING) {
			broken(q, -EPROTO, "first message is not the QMP greeting");
			return -EPROTO;
		}
		q->greeting = *m;
		q->state = QMP_AWAIT_CAPS;
		if (queue_cmd(q, "qmp_capabilities", NULL, caps_reply, NULL, NULL) < 0) {
			broken(q, -ENOMEM, "cannot queue qmp_capabilities");
			return -ENOMEM;
		}
		return 0;
	}
	if (m->kind == QMP_MSG_GREETING || (m->kind != QMP_MSG_EVENT && !m->has_id)) {
		broken(q, -EPROTO, "unexpected greeting or reply without id");
		return -EPROTO;
	}
	enter(q);
	if (m->kind == QMP_MSG_EVENT) {
		if (q->ops->event)
			q->ops->event(q, m, q->ud);
	} else {
		for (i = 0; i < q->npending && q->pending[i].id != m->id; i++)
			;
		if (i == q->npending) {
			broken(q, -EPROTO, "reply to an id we did not send");
		} else {
			p = q->pending[i];
			memmove(&q->pending[i], &q->pending[i + 1],
				(q->npending - i - 1) * sizeof(p));
			q->npending--;
			p.cb(q, m->kind == QMP_MSG_ERROR ? -EREMOTEIO : 0, m, p.ud);
		}
	}
	if (leave(q))
		return -ECANCELED;
	return q->state == QMP_BROKEN ? -EPIPE : 0;
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct qmp *q = w->data;
	struct errmsg em = { "" };
	char why[ERRMSG_MAX + 32];
	struct qmp_msg m;
	const char *line;
	size_t len;
	ssize_t n;
	int r;

	r = buf_reserve(&q->in, QMP_READ_CHUNK);
	if (r == -EMSGSIZE)	/* full buffer without a newline: qmp_line_next reports it */
		r = buf_reserve(&q->in, 1);
	if (r < 0) {
		broken(q, r, "qmp input buffer");
		return;
	}
	n = read(q->fd, q->in.data + q->in.len, q->in.cap - q->in.len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		broken(q, n ? -errno : -EPIPE, n ? "read error" : "QEMU closed the QMP socket");
		return;
	}
	q->in.len += (size_t)n;
	while ((r = qmp_line_next(&q->in, &line, &len)) == 1) {
		r = qmp_parse(line, len, &m, &em);
		buf_consume(&q->in, len + 1);
		if (r < 0) {
			snprintf(why, sizeof(why), "bad QMP message: %s", em.msg);
			broken(q, r, why);
			return;
		}
		if (handle_msg(q, &m) < 0)
			return;
	}
	if (r < 0)
		broken(q, r, "QMP line over QMP_LINE_MAX bytes");
}

static void write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct qmp *q = w->data;
	ssize_t n;

	while (q->out.len) {
		n = send(q->fd, q->out.data, q->out.len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			broken(q, -errno, "write error");
			return;
		}
		buf_consume(&q->out, (size_t)n);
	}
	ev_io_stop(loop, &q->wio);
}

int qmp_new(struct ev_loop *loop, int fd, const struct qmp_ops *ops, void *ud, struct qmp **ret)
{
	struct qmp *q = calloc(1, sizeof(*q));

	if (!q) {
		fd_close(fd);
		return -ENOMEM;
	}
	q->loop = loop;
	q->fd = fd;
	q->ops = ops;
	q->ud = ud;
	buf_init(&q->in, QMP_LINE_MAX + QMP_READ_CHUNK);
	buf_init(&q->out, QMP_OUT_MAX);
	ev_io_init(&q->rio, read_cb, fd, EV_READ);
	ev_io_init(&q->wio, write_cb, fd, EV_WRITE);
	q->rio.data = q;
	q->wio.data = q;
	ev_io_start(loop, &q->rio);
	*ret = q;
	return 0;
}

int qmp_execute(struct qmp *q, const char *cmd, const char *args_json, qmp_reply_fn cb, void *ud,
		struct errmsg *reterr)
{
	if (q->state != QMP_READY)
		return errmsg_set(reterr, -EAGAIN, "QMP not ready");
	return queue_cmd(q, cmd, args_json, cb, ud, reterr);
}

struct qmp *qmp_free(struct qmp *q)
{
	if (!q || q->dead)
		return NULL;
	stop_io(q);
	q->fd = fd_close(q->fd);
	q->state = QMP_BROKEN;
	q->dead = true;
	if (!q->busy)
		really_free(q);
	return NULL;
}
