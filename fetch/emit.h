/*
 * emit: PUT frames of a checkout onto an fd (see emit.c). Functions return 0 or a FETCH_EXIT_*
 * code with a "repo: " line in reterr. Paths are absolute guest paths the caller has checked.
 */
#ifndef CORRAL_FETCH_EMIT_H
#define CORRAL_FETCH_EMIT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "errmsg.h"
#include "fetch_proto.h"
#include "wire.h"

struct emit {
	int fd;
	struct buf out;
	uint64_t frames;
};

void emit_init(struct emit *e, int fd);
void emit_free(struct emit *e);
int emit_flush(struct emit *e, struct errmsg *reterr);
int emit_dir(struct emit *e, char *path, struct errmsg *reterr);
int emit_symlink(struct emit *e, char *path, char *target, struct errmsg *reterr);
int emit_file(struct emit *e, char *path, uint32_t mode, const void *data, size_t len,
	      struct errmsg *reterr);

#endif
