/*
 * wire_vectors: runs every file under schemas/vectors/<kind>/{valid,invalid}/ through libwire.
 * The directories are listed at run time, so a new vector needs no code change. Valid vectors
 * must decode, show every line of their .expect in the canonical dump, survive decode → encode →
 * decode unchanged (and encode byte-identically twice), and fail when truncated or extended.
 * Invalid vectors must fail with an error message containing their .expect text.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire_test.h"

#define VECTOR_FILE_MAX (4u * 1024 * 1024)
#define VECTORS_PER_DIR_MAX 1024
#define PREFIX_ALL_MAX 2048	/* vectors up to this size are tried at every truncation */

/* Decodes p; on success dumps into d1 and does the round trip into d2. *rt: 0 round trip done,
 * 1 not applicable (unknown frame type), negative: the round trip failed (e2 says why). */
typedef int (*check_fn)(const uint8_t *p, size_t n, struct buf *d1, struct buf *d2,
			struct errmsg *e, int *rt, struct errmsg *e2);

static int same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static int check_job(const uint8_t *p, size_t n, struct buf *d1, struct buf *d2,
		     struct errmsg *e, int *rt, struct errmsg *e2)
{
	struct wire_job *a = NULL, *b = NULL;
	struct buf x, y;
	int r;

	buf_init(&x, 0);
	buf_init(&y, 0);
	r = wire_job_decode(p, n, &a, e);
	if (r < 0)
		return r;
	assert_int_equal(dump_job(a, d1), 0);
	*rt = wire_job_encode(a, &x, e2);
	if (!*rt)
		*rt = wire_job_decode(x.data, x.len, &b, e2);
	if (!*rt) {
		assert_int_equal(dump_job(b, d2), 0);
		*rt = wire_job_encode(b, &y, e2);
		if (!*rt && !same(&x, &y))
			*rt = errmsg_set(e2, -EILSEQ, "second encoding differs");
	}
	wire_job_free(a);
	wire_job_free(b);
	buf_free(&x);
	buf_free(&y);
	return r;
}

static int check_msg(const uint8_t *p, size_t n, struct buf *d1, struct buf *d2,
		     struct errmsg *e, int *rt, struct errmsg *e2)
{
	struct wire_msg *a = NULL, *b = NULL;
	struct buf x, y;
	int r;

	buf_init(&x, 0);
	buf_init(&y, 0);
	r = wire_msg_decode(p, n, &a, e);
	if (r < 0)
		return r;
	assert_int_equal(dump_msg(a, d1), 0);
	*rt = wire_msg_encode(a, &x, e2);
	if (!*rt)
		*rt = wire_msg_decode(x.data, x.len, &b, e2);
	if (!*rt) {
		assert_int_equal(dump_msg(b, d2), 0);
		*rt = wire_msg_encode(b, &y, e2);
		if (!*rt && !same(&x, &y))
			*rt = errmsg_set(e2, -EILSEQ, "second encoding differs");
	}
	wire_msg_free(a);
	wire_msg_free(b);
	buf_free(&x);
	buf_free(&y);
	return r;
}

static int check_result(const uint8_t *p, size_t n, struct buf *d1, struct buf *d2,
			struct errmsg *e, int *rt, struct errmsg *e2)
{
	struct wire_result a, b;
	struct buf x, y;
	int r;

	buf_init(&x, 0);
	buf_init(&y, 0);
	r = wire_result_decode(p, n, &a, e);
	if (r < 0)
		return r;
	assert_int_equal(dump_result(&a, d1), 0);
	*rt = wire_result_encode(&a, &x, e2);
	if (!*rt)
		*rt = wire_result_decode(x.data, x.len, &b, e2);
	if (!*rt) {
		assert_int_equal(dump_result(&b, d2), 0);
		*rt = wire_result_encode(&b, &y, e2);
		if (!*rt && !same(&x, &y))
			*rt = errmsg_set(e2, -EILSEQ, "second encoding differs");
		wire_result_clear(&b);
	}
	wire_result_clear(&a);
	wire_result_clear(&a);	/* twice is safe */
	buf_free(&x);
	buf_free(&y);
	return r;
}

/* Encodes f (header + payload) and decodes it back through wire_frame_split. */
static int frame_roundtrip(const struct wire_frame *f, struct buf *x, struct wire_frame **ret,
			   struct errmsg *e2)
{
	const uint8_t *payload;
	size_t len;
	int r;

	r = wire_frame_encode(f, x, e2);
	if (r < 0)
		return r;
	r = wire_frame_split(x, &payload, &len);
	if (r != 1 || WIRE_FRAME_HEADER + len != x->len)
		return errmsg_set(e2, -EILSEQ, "wire_frame_split returned %d for a whole frame", r);
	return wire_frame_decode(payload, len, ret, e2);
}

static int check_frame(const uint8_t *p, size_t n, struct buf *d1, struct buf *d2,
		       struct errmsg *e, int *rt, struct errmsg *e2)
{
	struct wire_frame *a = NULL, *b = NULL, *c = NULL;
	struct buf x, y;
	int r;

	buf_init(&x, 0);
	buf_init(&y, 0);
	r = wire_frame_decode(p, n, &a, e);
	if (r < 0)
		return r;
	assert_int_equal(dump_frame(a, d1), 0);
	if (a->type == WIRE_FRAME_UNKNOWN) {
		/* receivers ignore unknown frames; nobody may send one */
		*rt = wire_frame_encode(a, &x, e2) == -EINVAL && x.len == 0 ? 1 : -EILSEQ;
		goto out;
	}
	*rt = frame_roundtrip(a, &x, &b, e2);
	if (!*rt) {
		assert_int_equal(dump_frame(b, d2), 0);
		*rt = frame_roundtrip(b, &y, &c, e2);
		if (!*rt && !same(&x, &y))
			*rt = errmsg_set(e2, -EILSEQ, "second encoding differs");
	}
out:
	wire_frame_free(a);
	wire_frame_free(b);
	wire_frame_free(c);
	buf_free(&x);
	buf_free(&y);
	return r;
}

static int check_template(const uint8_t *p, size_t n, struct buf *d1, struct buf *d2,
			  struct errmsg *e, int *rt, struct errmsg *e2)
{
	struct wire_template *a = NULL, *b = NULL;
	struct buf x, y;
	int r;

	buf_init(&x, 0);
	buf_init(&y, 0);
	r = wire_template_decode(p, n, &a, e);
	if (r < 0) {
		assert_null(a);
		return r;
	}
	assert_int_equal(dump_template(a, d1), 0);
	*rt = wire_template_encode(a, &x, e2);
	if (!*rt)
		*rt = wire_template_decode(x.data, x.len, &b, e2);
	if (!*rt) {
		assert_int_equal(dump_template(b, d2), 0);
		*rt = wire_template_encode(b, &y, e2);
		if (!*rt && !same(&x, &y))
			*rt = errmsg_set(e2, -EILSEQ, "second encoding differs");
	}
	wire_template_free(a);
	wire_template_free(b);
	buf_free(&x);
	buf_free(&y);
	return r;
}

const char *vectors_dir(void)
{
	const char *d = getenv("WIRE_VECTORS_DIR");

	return d && *d ? d : WIRE_VECTORS_DEFAULT;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rbe");
	uint8_t *data;
	size_t n;

	if (!f)
		return NULL;
	data = malloc(VECTOR_FILE_MAX + 1);
	n = data ? fread(data, 1, VECTOR_FILE_MAX + 1, f) : 0;
	fclose(f);
	if (!data || n > VECTOR_FILE_MAX) {
		free(data);
		return NULL;
	}
	*len = n;
	return data;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted list of "<name>" for every <name>.msgpack in dir. */
static size_t list_vectors(const char *dir, char **names)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < VECTORS_PER_DIR_MAX) {
		size_t l = strlen(de->d_name);

		if (l > 8 && strcmp(de->d_name + l - 8, ".msgpack") == 0)
			names[n++] = strndup(de->d_name, l - 8);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	return n;
}

struct run {
	const char *kind;
	check_fn fn;
	int failures;
};

static void failf(struct run *run, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void failf(struct run *run, const char *name, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	print_error("%s/%s: %s\n", run->kind, name, msg);
	run->failures++;
}

static bool dump_has_line(const struct buf *dump, const char *line, size_t len)
{
	const char *d = (const char *)dump->data;
	size_t n = dump->len;

	for (size_t i = 0; i + len < n + 1; i++) {
		if ((i == 0 || d[i - 1] == '\n') && memcmp(d + i, line, len) == 0 &&
		    i + len < n && d[i + len] == '\n')
			return true;
	}
	return false;
}

/* Every proper prefix of a valid message, and the message plus one byte, must be refused. */
static void check_edges(struct run *run, const char *name, const uint8_t *p, size_t n)
{
	struct buf d1, d2;
	struct errmsg e, e2;
	uint8_t *longer;
	int rt, r;

	buf_init(&d1, 0);
	buf_init(&d2, 0);
	for (size_t cut = 0; cut < n; cut++) {
		if (n > PREFIX_ALL_MAX && cut > 64 && cut < n - 64 && cut % 4099)
			continue;
		buf_reset(&d1);
		r = run->fn(p, cut, &d1, &d2, &e, &rt, &e2);
		if (r >= 0) {
			failf(run, name, "prefix of %zu bytes decoded", cut);
			break;
		}
	}
	longer = malloc(n + 1);
	assert_non_null(longer);
	memcpy(longer, p, n);
	longer[n] = 0xc0;
	buf_reset(&d1);
	if (run->fn(longer, n + 1, &d1, &d2, &e, &rt, &e2) >= 0)
		failf(run, name, "decoded with a trailing byte");
	free(longer);
	buf_free(&d1);
	buf_free(&d2);
}

static void run_valid(struct run *run, const char *name, const uint8_t *p, size_t n,
		      char *expect)
{
	struct errmsg e = { "" }, e2 = { "" };
	struct buf d1, d2;
	int rt = -EILSEQ, r;

	buf_init(&d1, 0);
	buf_init(&d2, 0);
	r = run->fn(p, n, &d1, &d2, &e, &rt, &e2);
	if (r < 0) {
		failf(run, name, "valid vector refused: %s (%d)", e.msg, r);
		goto out;
	}
	if (r != 0)
		failf(run, name, "decoder returned %d, not 0", r);
	for (char *line = strtok(expect, "\n"); line; line = strtok(NULL, "\n")) {
		if (!dump_has_line(&d1, line, strlen(line)))
			failf(run, name, "dump lacks line '%s'; dump:\n%.*s", line,
			      (int)(d1.len > 800 ? 800 : d1.len), (const char *)d1.data);
	}
	if (rt < 0)
		failf(run, name, "round trip failed: %s (%d)", e2.msg, rt);
	else if (rt == 0 && !same(&d1, &d2))
		failf(run, name, "round trip changed fields:\n%.*s---\n%.*s", (int)d1.len,
		      (const char *)d1.data, (int)d2.len, (const char *)d2.data);
	check_edges(run, name, p, n);
out:
	buf_free(&d1);
	buf_free(&d2);
}

static void run_invalid(struct run *run, const char *name, const uint8_t *p, size_t n,
			char *expect)
{
	struct errmsg e = { "" }, e2 = { "" };
	struct buf d1, d2;
	char *nl = strchr(expect, '\n');
	int rt, r;

	if (nl)
		*nl = '\0';
	buf_init(&d1, 0);
	buf_init(&d2, 0);
	r = run->fn(p, n, &d1, &d2, &e, &rt, &e2);
	if (r >= 0)
		failf(run, name, "invalid vector decoded");
	else if (!expect[0] || !strstr(e.msg, expect))
		failf(run, name, "error '%s' lacks '%s'", e.msg, expect);
	buf_free(&d1);
	buf_free(&d2);
}

static int run_dir(struct run *run, const char *validity)
{
	char dir[4096], path[4200];
	char *names[VECTORS_PER_DIR_MAX];
	size_t n;

	snprintf(dir, sizeof(dir), "%s/%s/%s", vectors_dir(), run->kind, validity);
	n = list_vectors(dir, names);
	for (size_t i = 0; i < n; i++) {
		uint8_t *data, *expect;
		size_t len, elen;

		snprintf(path, sizeof(path), "%s/%s.msgpack", dir, names[i]);
		data = read_file(path, &len);
		snprintf(path, sizeof(path), "%s/%s.expect", dir, names[i]);
		expect = read_file(path, &elen);
		if (!data || !expect) {
			failf(run, names[i], "cannot read %s", !data ? "the vector" : path);
		} else {
			expect[elen] = '\0';
			if (strcmp(validity, "valid") == 0)
				run_valid(run, names[i], data, len, (char *)expect);
			else
				run_invalid(run, names[i], data, len, (char *)expect);
		}
		free(data);
		free(expect);
		free(names[i]);
	}
	return (int)n;
}

static void run_kind(const char *kind, check_fn fn)
{
	struct run run = { kind, fn, 0 };
	int nv, ni;

	nv = run_dir(&run, "valid");
	ni = run_dir(&run, "invalid");
	print_message("%s: %d valid, %d invalid vectors, %d failures\n", kind, nv, ni,
		      run.failures);
	/* a runner that found nothing must not pass */
	if (nv < 5 || ni < 10)
		fail_msg("%s: only %d valid / %d invalid vectors under %s", kind, nv, ni,
			 vectors_dir());
	if (run.failures)
		fail_msg("%s: %d vector failures (see above)", kind, run.failures);
}

void test_vectors_job(void **state)
{
	run_kind("job", check_job);
}

void test_vectors_msg(void **state)
{
	run_kind("msg", check_msg);
}

void test_vectors_result(void **state)
{
	run_kind("result", check_result);
}

void test_vectors_frame(void **state)
{
	run_kind("frame", check_frame);
}

void test_vectors_template(void **state)
{
	run_kind("template", check_template);
}
