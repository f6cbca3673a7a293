/*
 * errmsg: one human-readable line that travels with a negative errno.
 * It names the field and the limit that failed; it becomes a dead-letter reason or a CLI message.
 * It must not allocate: it is used on OOM paths.
 */
#ifndef CORRAL_ERRMSG_H
#define CORRAL_ERRMSG_H

#define ERRMSG_MAX 256

struct errmsg {
	char msg[ERRMSG_MAX];
};

/* Formats into reterr (NULL allowed) and returns r unchanged, so callers can
 * `return errmsg_set(reterr, -EINVAL, "argv[%zu]: too long", i);`. */
int errmsg_set(struct errmsg *reterr, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Short symbolic name of a (positive or negative) errno, e.g. "ENOENT". Never NULL. */
const char *errno_name(int err);

#endif
