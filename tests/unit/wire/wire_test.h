/*
 * Shared declarations of the libwire unit test: the canonical field dump (the text format that
 * the .expect lines of valid vectors are matched against; see schemas/vectors/README.md)
 * and the vector runner's test functions.
 */
#ifndef CORRAL_WIRE_TEST_H
#define CORRAL_WIRE_TEST_H

#include "buf.h"
#include "wire.h"

/* Each appends "key=value\n" lines to out; 0 or negative errno. */
int dump_job(const struct wire_job *j, struct buf *out);
int dump_msg(const struct wire_msg *m, struct buf *out);
int dump_result(const struct wire_result *r, struct buf *out);
int dump_frame(const struct wire_frame *f, struct buf *out);
int dump_template(const struct wire_template *t, struct buf *out);	/* wire_dump_template.c */

void test_vectors_job(void **state);
void test_vectors_msg(void **state);
void test_vectors_result(void **state);
void test_vectors_frame(void **state);
void test_vectors_template(void **state);

/* The vectors directory: $WIRE_VECTORS_DIR, else the compile-time default. */
const char *vectors_dir(void);

#endif
