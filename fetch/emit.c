/*
 * emit: writes libwire PUT frames (header + msgpack payload, schemas/agent-frame.md) to the
 * export's output fd, buffered. Files larger than one chunk become one put with append:false and
 * puts with append:true. Every put carries uid/gid FETCH_GUEST_UID/GID and id 0 (no VM exists
 * yet). It knows nothing about git: export.c hands it paths and bytes already checked.
 */
#include <errno.h>
#include <string.h>

#include "emit.h"
#include "util.h"

#define EMIT_FLUSH_AT (256u * 1024u)

void emit_init(struct emit *e, int fd)
{
	e->fd = fd;
	e->frames = 0;
	buf_init(&e->out, 0);
}

void emit_free(struct emit *e)
{
	buf_free(&e->out);
}

int emit_flush(struct emit *e, struct errmsg *reterr)
{
	int r;

	if (e->out.len == 0)
		return 0;
	r = fd_write_all(e->fd, e->out.data, e->out.len);
	if (r < 0)
		return errmsg_set(reterr, r == -EFBIG ? FETCH_EXIT_SIZE : FETCH_EXIT_INTERNAL,
				  "repo: write checkout stream: %s", errno_name(r));
	buf_reset(&e->out);
	return 0;
}

static int put(struct emit *e, struct wire_frame *f, struct errmsg *reterr)
{
	struct errmsg why;
	int r;

	f->type = WIRE_FRAME_PUT;
	f->uid = FETCH_GUEST_UID;
	f->gid = FETCH_GUEST_GID;
	r = wire_frame_encode(f, &e->out, &why);
	if (r < 0)
		return errmsg_set(reterr, FETCH_EXIT_HOSTILE, "repo: cannot encode '%s': %s",
				  f->path, why.msg);
	e->frames++;
	if (e->out.len >= EMIT_FLUSH_AT)
		return emit_flush(e, reterr);
	return 0;
}

int emit_dir(struct emit *e, char *path, struct errmsg *reterr)
{
	struct wire_frame f = { .path = path, .kind = WIRE_PUT_DIR, .mode = 0755 };

	return put(e, &f, reterr);
}

int emit_symlink(struct emit *e, char *path, char *target, struct errmsg *reterr)
{
	struct wire_frame f = { .path = path, .kind = WIRE_PUT_SYMLINK, .mode = 0777,
				.target = target };

	return put(e, &f, reterr);
}

int emit_file(struct emit *e, char *path, uint32_t mode, const void *data, size_t len,
	      struct errmsg *reterr)
{
	const uint8_t *p = data;
	size_t off = 0;
	int r;

	do {
		size_t n = len - off > WIRE_CHUNK_MAX ? WIRE_CHUNK_MAX : len - off;
		struct wire_frame f = { .path = path, .kind = WIRE_PUT_FILE, .mode = mode,
					.data = n ? (uint8_t *)(uintptr_t)(p + off) : NULL,
					.len = n, .append = off > 0 };

		r = put(e, &f, reterr);
		if (r)
			return r;
		off += n;
	} while (off < len);
	return 0;
}
