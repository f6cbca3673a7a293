/*
 * wire_frame_int: the frame codec's key table indexes and the file-transfer frame hooks
 * (put/putend/putok/get/file/getend, wire_frame_files.c) shared with wire_frame.c only.
 */
#ifndef CORRAL_WIRE_FRAME_INT_H
#define CORRAL_WIRE_FRAME_INT_H

#include "wire_internal.h"

enum { F_T, F_ID, F_ARGV, F_ENV, F_CWD, F_UID, F_GID, F_PID, F_FD, F_DATA, F_EXIT, F_SIGNAL,
       F_ERR, F_MESSAGE, F_VERSION, F_TIME, F_SEED, F_PATH, F_KIND, F_MODE, F_APPEND, F_TARGET,
       F_SIZE, F_OFFSET, F_LAST, F_TRUNC, F_MAX, F_COUNT, F_BYTES, F_PATTERNS,
       F_HOST, F_PORT,		/* net_open */
       F_MEM_MAX, F_PIDS_MAX, F_DISK_MAX, F_LIMIT,	/* exec/exit resource limits (issue 6) */
       F_COUNT_ };

int wire_frame_get_u32(const msgpack_object *o, const char *field, bool required, uint32_t min,
		       uint32_t max, uint32_t *ret, struct errmsg *reterr);
/* Decodes the fields of a PUT/PUTEND/PUTOK/GET/FILE/GETEND frame (id already read); 0 for other
 * types. */
int wire_frame_files_decode(const msgpack_object **k, struct wire_frame *f,
			    struct errmsg *reterr);
/* Map entries besides "v" and "t" (id included) that wire_frame_files_pack() writes. */
size_t wire_frame_files_nfields(const struct wire_frame *f);
int wire_frame_files_pack(const struct wire_frame *f, struct wire_out *w);
/* Encoder-side pointer checks (NULL path, data with len, ...). 0 or -EINVAL. */
int wire_frame_files_check(const struct wire_frame *f, struct errmsg *reterr);

/* The egress stream frames (net_open/net_ok/net_data/net_ack/net_close, wire_frame_net.c). */
bool wire_frame_is_net(enum wire_frame_type t);
int wire_frame_net_decode(const msgpack_object **k, struct wire_frame *f, struct errmsg *reterr);
size_t wire_frame_net_nfields(const struct wire_frame *f);
int wire_frame_net_pack(const struct wire_frame *f, struct wire_out *w);
int wire_frame_net_check(const struct wire_frame *f, struct errmsg *reterr);

#endif
