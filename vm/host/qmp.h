/*
 * qmp: a QMP (QEMU Machine Protocol) client on the caller's libev loop, over QEMU's unix socket.
 * Reads the greeting, negotiates capabilities, runs commands (matched to replies by "id") and
 * passes events up. QEMU's output is treated as untrusted (a compromised QEMU may send anything):
 * lines are capped at QMP_LINE_MAX and pending commands at QMP_PENDING_MAX. The pure half
 * (qmp_parse.c: line framing and message classification) is unit-tested against recorded
 * transcripts; this module is the only one that includes <jansson.h>.
 */
#ifndef CORRAL_QMP_H
#define CORRAL_QMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "errmsg.h"

#define QMP_LINE_MAX (256 * 1024)	/* one JSON message from QEMU, bytes */
#define QMP_PENDING_MAX 16		/* commands awaiting a reply */
#define QMP_NAME_MAX 64			/* event names, error classes */
#define QMP_DESC_MAX 256		/* error descriptions (cut) */
#define QMP_OUT_MAX (64 * 1024)		/* queued outgoing bytes */

/* ---- pure part (qmp_parse.c) ---- */
enum qmp_msg_kind {
	QMP_MSG_GREETING,	/* {"QMP": {...}} */
	QMP_MSG_RETURN,		/* {"return": ..., "id": N} */
	QMP_MSG_ERROR,		/* {"error": {"class": ..., "desc": ...}, "id": N} */
	QMP_MSG_EVENT,		/* {"event": NAME, "data": {...}, "timestamp": {...}} */
};

struct qmp_msg {
	enum qmp_msg_kind kind;
	bool has_id;
	uint64_t id;			/* our ids are unsigned integers */
	char name[QMP_NAME_MAX];	/* event name, or error class */
	char desc[QMP_DESC_MAX];	/* error description, or for a return/event: its JSON, cut */
	char status[QMP_NAME_MAX];	/* return/event data's "status" string member, or "" */
	int version[3];			/* greeting: QEMU major, minor, micro */
};

/* Takes one complete line out of in: 1 and *line, *len set (pointing into in, valid until the
 * next buf_consume), 0 when no full line is there yet, -EMSGSIZE when QMP_LINE_MAX bytes arrived
 * without a newline. The caller consumes *len + 1 bytes after use. */
int qmp_line_next(const struct buf *in, const char **line, size_t *len);
/* Classifies one line. 0, or -EBADMSG with reterr saying what is wrong ("not JSON: ...",
 * "not an object", "no return, error, event or QMP member", "id: not an unsigned integer"). */
int qmp_parse(const char *line, size_t len, struct qmp_msg *out, struct errmsg *reterr);
/* Encodes {"execute": cmd, "id": id} (+ "arguments": args_json when not NULL, a JSON object text)
 * followed by "\r\n" into out. 0, -EINVAL (args not an object), -EMSGSIZE, -ENOMEM. */
int qmp_encode_cmd(const char *cmd, const char *args_json, uint64_t id, struct buf *out,
		   struct errmsg *reterr);

/* ---- client (qmp.c) ---- */
struct ev_loop;
struct qmp;

struct qmp_ops {
	/* Greeting read and capabilities accepted: commands may be sent. */
	void (*ready)(struct qmp *q, const struct qmp_msg *greeting, void *ud);
	void (*event)(struct qmp *q, const struct qmp_msg *ev, void *ud);
	/* The connection is unusable (EOF, I/O error, bad message). No callback follows. */
	void (*broken)(struct qmp *q, int err, const char *why, void *ud);
};

/* Reply to qmp_execute: err == 0 and m->kind == QMP_MSG_RETURN, or err < 0 and m (maybe NULL)
 * an error reply. */
typedef void (*qmp_reply_fn)(struct qmp *q, int err, const struct qmp_msg *m, void *ud);

/* Takes ownership of fd (a connected, non-blocking unix socket), even on failure. */
int qmp_new(struct ev_loop *loop, int fd, const struct qmp_ops *ops, void *ud, struct qmp **ret);
/* Queues a command; the reply comes later through cb. 0, -EAGAIN (not ready yet), -ENOBUFS
 * (QMP_PENDING_MAX commands pending), or an encoding error. Never calls back synchronously. */
int qmp_execute(struct qmp *q, const char *cmd, const char *args_json, qmp_reply_fn cb, void *ud,
		struct errmsg *reterr);
/* Closes the socket. Pending replies are dropped without callbacks. NULL-safe; returns NULL. */
struct qmp *qmp_free(struct qmp *q);

#endif
