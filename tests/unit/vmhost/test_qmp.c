/*
 * Unit tests of qmp_parse: a transcript recorded from QEMU 7.2.22 (greeting, capabilities,
 * query-status, an unknown command, stop/cont/quit with their events) fed through the line
 * framer in every chunk size, then hostile input (bad JSON, wrong types, oversize lines, deep
 * nesting) and the command encoder.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qmp.h"

/* Recorded from qemu-system-x86_64 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3), -M microvm -S. */
static const char transcript[] =
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, "
	"\"package\": \"Debian 1:7.2+dfsg-7+deb12u18+b3\"}, \"capabilities\": [\"oob\"]}}\r\n"
	"{\"return\": {}, \"id\": 1}\r\n"
	"{\"return\": {\"status\": \"prelaunch\", \"singlestep\": false, \"running\": false}, "
	"\"id\": 2}\r\n"
	"{\"id\": 3, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
	"no-such-cmd has not been found\"}}\r\n"
	"{\"return\": {}, \"id\": 4}\r\n"
	"{\"timestamp\": {\"seconds\": 1796051731, \"microseconds\": 697370}, \"event\": "
	"\"RESUME\"}\r\n"
	"{\"return\": {}, \"id\": 5}\r\n"
	"{\"timestamp\": {\"seconds\": 1796051731, \"microseconds\": 997669}, \"event\": "
	"\"SHUTDOWN\", \"data\": {\"guest\": false, \"reason\": \"host-qmp-quit\"}}\r\n"
	"{\"return\": {}, \"id\": 6}\r\n";

struct want {
	enum qmp_msg_kind kind;
	int id;		/* -1: no id */
	const char *name;
	const char *status;
};

static const struct want wants[] = {
	{ QMP_MSG_GREETING, -1, "", "" },
	{ QMP_MSG_RETURN, 1, "", "" },
	{ QMP_MSG_RETURN, 2, "", "prelaunch" },
	{ QMP_MSG_ERROR, 3, "CommandNotFound", "" },
	{ QMP_MSG_RETURN, 4, "", "" },
	{ QMP_MSG_EVENT, -1, "RESUME", "" },
	{ QMP_MSG_RETURN, 5, "", "" },
	{ QMP_MSG_EVENT, -1, "SHUTDOWN", "" },
	{ QMP_MSG_RETURN, 6, "", "" },
};

/* Feeds the transcript in chunks of `chunk` bytes, checks every message in order. */
static void run_transcript(size_t chunk)
{
	struct errmsg em = { "" };
	struct qmp_msg m;
	struct buf in;
	size_t off = 0, nmsg = 0, total = strlen(transcript);
	const char *line;
	size_t len;
	int r;

	buf_init(&in, QMP_LINE_MAX + 1);
	while (off < total) {
		size_t n = total - off < chunk ? total - off : chunk;

		assert_int_equal(buf_append(&in, transcript + off, n), 0);
		off += n;
		while ((r = qmp_line_next(&in, &line, &len)) == 1) {
			const struct want *w = &wants[nmsg++];

			assert_int_equal(qmp_parse(line, len, &m, &em), 0);
			assert_int_equal(m.kind, w->kind);
			assert_int_equal(m.has_id, w->id >= 0);
			if (w->id >= 0)
				assert_int_equal(m.id, (uint64_t)w->id);
			assert_string_equal(m.name, w->name);
			assert_string_equal(m.status, w->status);
			buf_consume(&in, len + 1);
		}
		assert_int_equal(r, 0);
	}
	assert_int_equal(nmsg, sizeof(wants) / sizeof(wants[0]));
	assert_int_equal(in.len, 0);
	buf_free(&in);
}

static void test_transcript(void **state)
{
	for (size_t chunk = 1; chunk <= 64; chunk++)
		run_transcript(chunk);
	run_transcript(strlen(transcript));
}

static void test_details(void **state)
{
	struct errmsg em = { "" };
	struct qmp_msg m;
	const char *greet = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, "
			    "\"major\": 7}}, \"capabilities\": []}}";
	const char *err = "{\"id\": 3, \"error\": {\"class\": \"GenericError\", \"desc\": "
			  "\"boom\"}}";
	const char *ev = "{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": "
			 "\"guest-reset\"}}";

	assert_int_equal(qmp_parse(greet, strlen(greet), &m, &em), 0);
	assert_int_equal(m.version[0], 7);
	assert_int_equal(m.version[1], 2);
	assert_int_equal(m.version[2], 22);
	assert_int_equal(qmp_parse(err, strlen(err), &m, &em), 0);
	assert_string_equal(m.name, "GenericError");
	assert_string_equal(m.desc, "boom");
	assert_int_equal(qmp_parse(ev, strlen(ev), &m, &em), 0);
	assert_int_equal(m.kind, QMP_MSG_EVENT);
	assert_non_null(strstr(m.desc, "guest-reset"));
}

static void expect_bad(const char *line, const char *msg_part)
{
	struct errmsg em = { "" };
	struct qmp_msg m;

	assert_int_equal(qmp_parse(line, strlen(line), &m, &em), -EBADMSG);
	if (msg_part && !strstr(em.msg, msg_part))
		fail_msg("'%s': message '%s' lacks '%s'", line, em.msg, msg_part);
}

static void test_hostile(void **state)
{
	char name[QMP_NAME_MAX + 40];

	expect_bad("", "not JSON");
	expect_bad("{\"return\": ", "not JSON");
	expect_bad("[1, 2]", "not an object");
	expect_bad("{}", "no return, error, event or QMP");
	expect_bad("{\"return\": {}, \"id\": -1}", "id");
	expect_bad("{\"return\": {}, \"id\": \"x\"}", "id");
	expect_bad("{\"return\": {}, \"id\": 1.5}", "id");
	expect_bad("{\"error\": \"x\"}", "error");
	expect_bad("{\"error\": {\"desc\": \"no class\"}}", "error");
	expect_bad("{\"event\": 7}", "event");
	expect_bad("{\"event\": \"\"}", "event");
	expect_bad("{\"QMP\": 1}", "QMP");
	expect_bad("{\"return\": 1, \"return\": 2}", "not JSON");	/* duplicate keys */
	snprintf(name, sizeof(name), "{\"event\": \"%0*d\"}", QMP_NAME_MAX, 0);
	expect_bad(name, "over");
}

static void test_hostile_sizes(void **state)
{
	struct errmsg em = { "" };
	struct qmp_msg m;
	struct buf in;
	const char *line;
	size_t len, depth = 100000;
	char *deep = malloc(2 * depth + 1);

	/* A line that never ends is refused at QMP_LINE_MAX, not buffered forever. */
	buf_init(&in, 0);
	assert_int_equal(buf_reserve(&in, QMP_LINE_MAX + 1), 0);
	memset(in.data, 'x', QMP_LINE_MAX);
	in.len = QMP_LINE_MAX;
	assert_int_equal(qmp_line_next(&in, &line, &len), 0);
	in.data[in.len++] = 'x';
	assert_int_equal(qmp_line_next(&in, &line, &len), -EMSGSIZE);
	assert_int_equal(qmp_parse((const char *)in.data, in.len, &m, &em), -EMSGSIZE);
	buf_free(&in);

	/* Deep nesting must fail cleanly (jansson's depth limit), not overflow the stack. */
	assert_non_null(deep);
	memset(deep, '[', depth);
	memset(deep + depth, ']', depth);
	deep[2 * depth] = '\0';
	assert_int_equal(qmp_parse(deep, 2 * depth, &m, &em), -EBADMSG);
	free(deep);

	/* Huge return values are cut in desc, not copied whole. */
	{
		size_t n = 100000;
		char *big = malloc(n + 64);

		assert_non_null(big);
		len = (size_t)sprintf(big, "{\"return\": \"");
		memset(big + len, 'y', n);
		len += n;
		len += (size_t)sprintf(big + len, "\", \"id\": 9}");
		assert_int_equal(qmp_parse(big, len, &m, &em), 0);
		assert_int_equal(m.id, 9);
		assert_true(strlen(m.desc) < QMP_DESC_MAX);
		free(big);
	}
}

static void test_encode(void **state)
{
	struct errmsg em = { "" };
	struct buf out;

	buf_init(&out, 0);
	assert_int_equal(qmp_encode_cmd("query-status", NULL, 7, &out, &em), 0);
	assert_int_equal(out.len, strlen("{\"execute\":\"query-status\",\"id\":7}\r\n"));
	assert_memory_equal(out.data, "{\"execute\":\"query-status\",\"id\":7}\r\n", out.len);
	buf_reset(&out);
	assert_int_equal(qmp_encode_cmd("migrate", "{\"uri\": \"fd:mig\"}", 8, &out, &em), 0);
	assert_non_null(memmem(out.data, out.len, "\"arguments\":{\"uri\":\"fd:mig\"}", 28));
	buf_reset(&out);
	assert_int_equal(qmp_encode_cmd("migrate", "[1]", 9, &out, &em), -EINVAL);
	assert_int_equal(qmp_encode_cmd("migrate", "{bad", 9, &out, &em), -EINVAL);
	assert_int_equal(out.len, 0);
	buf_free(&out);

	buf_init(&out, 10);	/* a full queue refuses, appends nothing */
	assert_int_equal(qmp_encode_cmd("query-status", NULL, 1, &out, &em), -EMSGSIZE);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transcript), cmocka_unit_test(test_details),
		cmocka_unit_test(test_hostile),	   cmocka_unit_test(test_hostile_sizes),
		cmocka_unit_test(test_encode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
