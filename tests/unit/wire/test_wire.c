/*
 * test_wire: unit tests of libwire. The vector runner (wire_vectors.c) covers the decoders and
 * encoders against schemas/vectors; this file adds what vectors cannot express: frame splitting
 * of a byte stream, the state table, JSON escaping (checked by parsing the output with jansson),
 * encoder refusals that must leave the output buffer untouched, and hostile inputs built in code.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "wire_test.h"

static void put_header(struct buf *b, uint32_t n)
{
	uint8_t h[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };

	assert_int_equal(buf_append(b, h, 4), 0);
}

static void test_frame_split(void **state)
{
	struct wire_frame f = { .type = WIRE_FRAME_STARTED, .id = 5, .pid = 99 };
	struct wire_frame *g = NULL;
	const uint8_t *p = NULL;
	struct buf in, two;
	size_t len = 0, whole;

	buf_init(&in, 0);
	buf_init(&two, 0);
	assert_int_equal(wire_frame_split(&in, &p, &len), 0);		/* empty */
	assert_int_equal(buf_append(&in, "\0\0", 2), 0);
	assert_int_equal(wire_frame_split(&in, &p, &len), 0);		/* partial header */
	buf_reset(&in);
	put_header(&in, 10);
	assert_int_equal(buf_append(&in, "12345", 5), 0);
	assert_int_equal(wire_frame_split(&in, &p, &len), 0);		/* partial payload */
	assert_int_equal(buf_append(&in, "6789", 4), 0);
	assert_int_equal(wire_frame_split(&in, &p, &len), 0);		/* one byte short */
	assert_int_equal(buf_append(&in, "0", 1), 0);
	assert_int_equal(wire_frame_split(&in, &p, &len), 1);
	assert_int_equal(len, 10);
	assert_ptr_equal(p, in.data + 4);
	assert_memory_equal(p, "1234567890", 10);

	buf_reset(&in);
	put_header(&in, WIRE_FRAME_MAX + 1);				/* oversize header */
	assert_int_equal(wire_frame_split(&in, &p, &len), -EMSGSIZE);
	buf_reset(&in);
	put_header(&in, 0xffffffffu);
	assert_int_equal(wire_frame_split(&in, &p, &len), -EMSGSIZE);
	buf_reset(&in);
	put_header(&in, WIRE_FRAME_MAX);				/* at the limit: wait */
	assert_int_equal(wire_frame_split(&in, &p, &len), 0);
	buf_reset(&in);
	put_header(&in, 0);						/* empty payload */
	assert_int_equal(wire_frame_split(&in, &p, &len), 1);
	assert_int_equal(len, 0);
	assert_int_equal(wire_frame_decode(p, len, &g, NULL), -EBADMSG);

	/* two frames back to back, fed one byte at a time */
	assert_int_equal(wire_frame_encode(&f, &two, NULL), 0);
	whole = two.len;
	f.pid = 100;
	assert_int_equal(wire_frame_encode(&f, &two, NULL), 0);
	assert_int_equal(two.len, 2 * whole);
	buf_reset(&in);
	int got = 0;
	for (size_t i = 0; i < two.len; i++) {
		assert_int_equal(buf_append(&in, two.data + i, 1), 0);
		int r = wire_frame_split(&in, &p, &len);

		assert_true(r == 0 || r == 1);
		if (r == 0)
			continue;
		assert_int_equal(wire_frame_decode(p, len, &g, NULL), 0);
		assert_int_equal(g->type, WIRE_FRAME_STARTED);
		assert_int_equal(g->pid, got == 0 ? 99 : 100);
		g = wire_frame_free(g);
		buf_consume(&in, WIRE_FRAME_HEADER + len);
		got++;
	}
	assert_int_equal(got, 2);
	assert_int_equal(in.len, 0);
	buf_free(&in);
	buf_free(&two);
}

static void test_states(void **state)
{
	static const char *const names[] = { "queued", "claimed", "starting", "running",
					     "succeeded", "failed", "timed_out", "cancelled",
					     "dead" };
	enum wire_state s;

	assert_int_equal(WIRE_STATE_COUNT_, 9);
	for (int i = 0; i < WIRE_STATE_COUNT_; i++) {
		assert_string_equal(wire_state_name((enum wire_state)i), names[i]);
		assert_int_equal(wire_state_parse(names[i], &s), 0);
		assert_int_equal(s, i);
		assert_int_equal(wire_state_final(s), i >= WIRE_STATE_SUCCEEDED);
	}
	assert_int_equal(wire_state_parse("", &s), -EINVAL);
	assert_int_equal(wire_state_parse("Running", &s), -EINVAL);
	assert_int_equal(wire_state_parse("running ", &s), -EINVAL);
	assert_int_equal(wire_state_parse(NULL, &s), -EINVAL);
	assert_string_equal(wire_state_name(WIRE_STATE_COUNT_), "invalid");
	assert_false(wire_state_final(WIRE_STATE_COUNT_));
}

static void test_result_json(void **state)
{
	struct wire_result r = { .state = WIRE_STATE_FAILED, .attempt = 2, .signal = 9,
				 .stdout_bytes = 9007199254740993ull, .truncated = true };
	json_error_t jerr;
	json_t *j;
	struct buf out;

	buf_init(&out, 0);
	strcpy(r.id, "job-1");
	/* quote, backslash, newline, tab, ^A, DEL, é, U+1F600, a lone 0xff, an overlong '/',
	 * a UTF-16 surrogate, a truncated 3-byte sequence at the end */
	strcpy(r.reason, "q\" b\\ n\n t\t c\x01 d\x7f \xc3\xa9 \xf0\x9f\x98\x80 \xff \xc0\xaf "
			 "\xed\xa0\x80 \xe2\x82");
	strcpy(r.worker, "w\x1f");
	strcpy(r.accel, "tcg");
	r.t.exited_ms = 1767225600123ull;
	assert_int_equal(buf_append(&out, "prefix", 6), 0);
	assert_int_equal(wire_result_to_json(&r, &out), 0);
	assert_memory_equal(out.data, "prefix", 6);
	j = json_loadb((const char *)out.data + 6, out.len - 6, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		fail_msg("invalid JSON (%s): %.*s", jerr.text, (int)out.len, (const char *)out.data);
	assert_string_equal(json_string_value(json_object_get(j, "reason")),
			    "q\" b\\ n\n t\t c\x01 d\x7f \xc3\xa9 \xf0\x9f\x98\x80 \xef\xbf\xbd "
			    "\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
			    "\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(json_string_value(json_object_get(j, "worker")), "w\x1f");
	assert_string_equal(json_string_value(json_object_get(j, "state")), "failed");
	assert_true(json_is_null(json_object_get(j, "exit_code")));
	assert_int_equal(json_integer_value(json_object_get(j, "signal")), 9);
	assert_true(json_is_true(json_object_get(j, "truncated")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "timings"),
							    "exited_ms")), 1767225600123ll);
	assert_int_equal(json_integer_value(json_object_get(j, "v")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "stdout_bytes")),
			 9007199254740993ll);
	json_decref(j);
	/* the raw text escapes control characters, never emits them */
	for (size_t i = 6; i < out.len; i++)
		assert_true(out.data[i] >= 0x20 && out.data[i] != 0x7f);

	buf_reset(&out);
	r.has_exit_code = true;
	r.exit_code = 0;
	assert_int_equal(wire_result_to_json(&r, &out), 0);
	j = json_loadb((const char *)out.data, out.len, 0, &jerr);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "exit_code")), 0);
	json_decref(j);

	buf_free(&out);
	buf_init(&out, 40);				/* too small: refused, untouched */
	assert_int_equal(wire_result_to_json(&r, &out), -EMSGSIZE);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

static struct wire_job *make_job(void)
{
	struct wire_job *j = wire_job_new();

	assert_non_null(j);
	strcpy(j->id, "enc-1");
	j->argv = calloc(3, sizeof(char *));
	j->argv[0] = strdup("sh");
	j->argv[1] = strdup("-c");
	j->argc = 2;
	j->env = calloc(2, sizeof(char *));
	j->env[0] = strdup("A=b=c");
	j->envc = 1;
	return j;
}

static void test_job_encode(void **state)
{
	struct wire_job *j = make_job(), *d = NULL;
	struct errmsg e = { "" };
	char id[WIRE_ID_MAX + 1];
	struct buf out;

	buf_init(&out, 0);
	assert_string_equal(j->template_name, "default");
	assert_int_equal(j->timeout_ms, 0);	/* the template's timeout */
	assert_int_equal(j->max_attempts, WIRE_ATTEMPTS_DEFAULT);
	assert_int_equal(j->output_max, WIRE_OUTPUT_MAX_DEFAULT);
	assert_int_equal(buf_append(&out, "xy", 2), 0);
	assert_int_equal(wire_job_encode(j, &out, &e), 0);
	assert_int_equal(wire_job_decode(out.data + 2, out.len - 2, &d, &e), 0);
	assert_string_equal(d->env[0], "A=b=c");
	assert_string_equal(d->argv[1], "-c");
	assert_null(d->argv[2]);
	assert_null(d->env[1]);
	assert_int_equal(d->timeout_ms, 0);	/* not written, decodes as absent */
	assert_null(memmem(out.data, out.len, "timeout_ms", 10));
	assert_int_equal(wire_job_peek_id(out.data + 2, out.len - 2, id), 0);
	assert_string_equal(id, "enc-1");
	d = wire_job_free(d);

	/* refusals leave what was in out before untouched */
	size_t before = out.len;
	j->timeout_ms = 90000000;
	assert_int_equal(wire_job_encode(j, &out, &e), -EINVAL);
	assert_string_equal(e.msg, "timeout_ms: 90000000 exceeds 86400000");
	assert_int_equal(out.len, before);
	j->timeout_ms = 1000;
	strcpy(j->id, "bad id");
	assert_int_equal(wire_job_encode(j, &out, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "id:"));
	memset(j->id, 'a', sizeof(j->id));			/* not NUL-terminated */
	assert_int_equal(wire_job_encode(j, &out, &e), -EINVAL);
	assert_string_equal(e.msg, "id: not NUL-terminated");
	strcpy(j->id, "ok");
	free(j->env[0]);
	j->env[0] = strdup("NOEQUALS");
	assert_int_equal(wire_job_encode(j, &out, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "env[0]"));
	free(j->env[0]);
	j->env[0] = strdup("=x");
	assert_int_equal(wire_job_encode(j, &out, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "env[0]: empty key"));
	j->envc = 0;
	j->argc = 0;
	assert_int_equal(wire_job_encode(j, &out, &e), -EINVAL);
	assert_string_equal(e.msg, "argv: empty");
	assert_int_equal(out.len, before);
	j->argc = 2;
	buf_free(&out);
	buf_init(&out, 16);					/* bounded output */
	assert_int_equal(wire_job_encode(j, &out, &e), -EMSGSIZE);
	assert_int_equal(out.len, 0);
	buf_free(&out);
	wire_job_free(j);
	assert_null(wire_job_free(NULL));
}

static void test_job_peek_id(void **state)
{
	/* {"v":1,"id":"peek-me"} : argv missing, still yields the id for a dead letter */
	static const uint8_t no_argv[] = "\x82\xa1v\x01\xa2id\xa7peek-me";
	static const uint8_t bad_id[] = "\x81\xa2id\xa3" "a/b";
	char id[WIRE_ID_MAX + 1];
	struct wire_job *j = NULL;
	struct errmsg e;

	assert_int_equal(wire_job_decode(no_argv, sizeof(no_argv) - 1, &j, &e), -EBADMSG);
	assert_string_equal(e.msg, "argv: missing");
	assert_int_equal(wire_job_peek_id(no_argv, sizeof(no_argv) - 1, id), 0);
	assert_string_equal(id, "peek-me");
	assert_true(wire_job_peek_id(bad_id, sizeof(bad_id) - 1, id) < 0);
	assert_true(wire_job_peek_id("\xc1", 1, id) < 0);
	assert_true(wire_job_peek_id("", 0, id) < 0);
	assert_true(wire_job_peek_id("\x91\x01", 2, id) < 0);
}

static void test_id_valid(void **state)
{
	char big[WIRE_ID_MAX + 2];

	assert_true(wire_id_valid("a", 1));
	assert_true(wire_id_valid("A.z_0-9", 7));
	assert_false(wire_id_valid("", 0));
	assert_false(wire_id_valid("a b", 3));
	assert_false(wire_id_valid("a/b", 3));
	assert_false(wire_id_valid("a\0b", 3));
	assert_false(wire_id_valid("é", 2));
	assert_false(wire_id_valid(NULL, 0));
	memset(big, 'x', sizeof(big));
	assert_true(wire_id_valid(big, WIRE_ID_MAX));
	assert_false(wire_id_valid(big, WIRE_ID_MAX + 1));
}

static void test_msg_frame_encode_refusals(void **state)
{
	static uint8_t chunk[WIRE_CHUNK_MAX + 1];
	struct wire_msg m = { .kind = WIRE_MSG_OUTPUT, .attempt = 1, .fd = 1, .data = chunk,
			      .len = sizeof(chunk) };
	struct wire_frame f = { .type = WIRE_FRAME_OUTPUT, .id = 1, .fd = 1, .data = chunk,
				.len = sizeof(chunk) };
	struct errmsg e;
	struct buf out;

	buf_init(&out, 0);
	assert_int_equal(wire_msg_encode(&m, &out, &e), -EMSGSIZE);
	assert_int_equal(wire_frame_encode(&f, &out, &e), -EMSGSIZE);
	m.len = f.len = WIRE_CHUNK_MAX;
	assert_int_equal(wire_msg_encode(&m, &out, &e), 0);
	buf_reset(&out);
	assert_int_equal(wire_frame_encode(&f, &out, &e), 0);
	buf_reset(&out);
	m.fd = 3;
	assert_int_equal(wire_msg_encode(&m, &out, &e), -EINVAL);
	assert_string_equal(e.msg, "fd: 3 exceeds 2");
	m.fd = 1;
	m.attempt = 0;
	assert_int_equal(wire_msg_encode(&m, &out, &e), -EINVAL);
	m.kind = WIRE_MSG_EVENT;				/* events may carry attempt 0 */
	m.state = WIRE_STATE_QUEUED;
	assert_int_equal(wire_msg_encode(&m, &out, &e), 0);
	buf_reset(&out);
	m.state = WIRE_STATE_COUNT_;
	assert_int_equal(wire_msg_encode(&m, &out, &e), -EINVAL);
	f.type = WIRE_FRAME_UNKNOWN;
	assert_int_equal(wire_frame_encode(&f, &out, &e), -EINVAL);
	f.type = WIRE_FRAME_EXIT;				/* neither code nor signal: code 0 */
	f.exit_code = -1;
	f.signal = 0;
	assert_int_equal(wire_frame_encode(&f, &out, &e), -EINVAL);
	assert_int_equal(out.len, 0);
	f.type = WIRE_FRAME_EXEC;
	f.argc = 0;
	assert_int_equal(wire_frame_encode(&f, &out, &e), -EINVAL);
	assert_string_equal(e.msg, "argv: empty");
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

static void test_result_encode_refusals(void **state)
{
	struct wire_result r = { .state = WIRE_STATE_RUNNING, .attempt = 1 };
	struct errmsg e;
	struct buf out;

	buf_init(&out, 0);
	strcpy(r.id, "r1");
	assert_int_equal(wire_result_encode(&r, &out, &e), -EINVAL);
	assert_string_equal(e.msg, "state: 'running' is not a final state");
	r.state = WIRE_STATE_SUCCEEDED;
	r.has_exit_code = true;
	r.exit_code = 300;
	assert_int_equal(wire_result_encode(&r, &out, &e), -EINVAL);
	assert_string_equal(e.msg, "exit_code: 300 exceeds 255");
	r.exit_code = 0;
	strcpy(r.accel, "kvm");
	assert_int_equal(wire_result_encode(&r, &out, &e), 0);
	assert_true(out.len > 0);
	buf_free(&out);
}

/* Containers announcing more items than there are bytes must fail before msgpack-c allocates
 * (under ASan a 2^32-slot allocation would abort the test). */
static void test_hostile_headers(void **state)
{
	static const uint8_t cases[][16] = {
		{ 0xdd, 0xff, 0xff, 0xff, 0xff },
		{ 0xdf, 0xff, 0xff, 0xff, 0xff },
		{ 0x81, 0xa1, 'v', 0xdd, 0x7f, 0xff, 0xff, 0xff },
		{ 0xdb, 0xff, 0xff, 0xff, 0xf0 },
		{ 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01 },
		{ 0x81, 0xc1, 0x01 },
	};
	struct wire_frame *f = NULL;
	struct wire_job *j = NULL;
	struct wire_msg *m = NULL;
	struct wire_result r;
	struct errmsg e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = 16;

		while (n > 1 && cases[i][n - 1] == 0)
			n--;
		assert_true(wire_job_decode(cases[i], n, &j, &e) < 0);
		assert_true(wire_msg_decode(cases[i], n, &m, &e) < 0);
		assert_true(wire_result_decode(cases[i], n, &r, &e) < 0);
		assert_true(wire_frame_decode(cases[i], n, &f, &e) < 0);
	}
	assert_null(j);
	assert_null(m);
	assert_null(f);
}

/* Deep nesting just inside and just outside the limit. */
static void test_nesting(void **state)
{
	uint8_t buf[64];
	struct wire_job *j = NULL;
	struct errmsg e;
	size_t n = 0;

	/* {"v":1,"id":"n","argv":["x"],"x":[[[...]]]} with 15 levels of arrays */
	memcpy(buf, "\x84\xa1v\x01\xa2id\xa1n\xa4" "argv\x91\xa1x\xa1x", 19);
	n = 19;
	for (int i = 0; i < 14; i++)
		buf[n++] = 0x91;
	buf[n++] = 0x90;
	assert_int_equal(wire_job_decode(buf, n, &j, &e), 0);
	j = wire_job_free(j);
	n = 19;
	for (int i = 0; i < 15; i++)
		buf[n++] = 0x91;
	buf[n++] = 0x90;
	assert_int_equal(wire_job_decode(buf, n, &j, &e), -EMSGSIZE);
	assert_string_equal(e.msg, "nested deeper than 16 levels");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_job),
		cmocka_unit_test(test_vectors_msg),
		cmocka_unit_test(test_vectors_result),
		cmocka_unit_test(test_vectors_frame),
		cmocka_unit_test(test_frame_split),
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_result_json),
		cmocka_unit_test(test_job_encode),
		cmocka_unit_test(test_job_peek_id),
		cmocka_unit_test(test_id_valid),
		cmocka_unit_test(test_msg_frame_encode_refusals),
		cmocka_unit_test(test_result_encode_refusals),
		cmocka_unit_test(test_hostile_headers),
		cmocka_unit_test(test_nesting),
	};

	if (argc > 1)
		setenv("WIRE_VECTORS_DIR", argv[1], 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
