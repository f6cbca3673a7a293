/*
 * buf: a growable byte buffer with a hard cap. Used for frames, encodings and stream input.
 * It never grows past the cap given at buf_init(): exceeding it is -EMSGSIZE, not an allocation.
 */
#ifndef CORRAL_BUF_H
#define CORRAL_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;	/* allocated */
	size_t max;	/* hard limit on len */
};

/* max == 0 means SIZE_MAX / 2. */
void buf_init(struct buf *b, size_t max);
/* 0, -ENOMEM, or -EMSGSIZE when len + n would exceed max. */
int buf_reserve(struct buf *b, size_t n);
int buf_append(struct buf *b, const void *p, size_t n);
/* Drops the first n bytes. */
void buf_consume(struct buf *b, size_t n);
void buf_reset(struct buf *b);
/* Frees data; the struct may be reused after buf_init(). */
void buf_free(struct buf *b);

#endif
