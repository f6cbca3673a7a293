/*
 * Unit tests for lib/: bounded buffers, log quoting of untrusted strings, Redis address parsing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "errmsg.h"
#include "log.h"
#include "redis_addr.h"
#include "util.h"

static void test_buf_cap(void **state)
{
	struct buf b;
	char big[100] = { 0 };

	(void)state;
	buf_init(&b, 64);
	assert_int_equal(buf_append(&b, big, 60), 0);
	assert_int_equal(buf_append(&b, big, 5), -EMSGSIZE);
	assert_int_equal(b.len, 60);
	assert_int_equal(buf_append(&b, big, 4), 0);
	buf_consume(&b, 10);
	assert_int_equal(b.len, 54);
	buf_consume(&b, 1000);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_append(&b, big, SIZE_MAX), -EMSGSIZE);
	buf_free(&b);
}

static void test_log_quote(void **state)
{
	char out[64];
	char longs[600];

	(void)state;
	log_quote(out, sizeof(out), "a\"b\\c\n", 6);
	assert_string_equal(out, "\"a\\\"b\\\\c\\x0a\"");
	memset(longs, 'x', sizeof(longs));
	log_quote(out, sizeof(out), longs, sizeof(longs));
	assert_true(strlen(out) < sizeof(out));
	assert_int_equal(out[0], '"');
	assert_int_equal(out[strlen(out) - 1], '"');
	log_quote(out, 2, "abc", 3);
	assert_string_equal(out, "");
}

static void test_redis_addr(void **state)
{
	struct redis_addr a;
	struct errmsg e = { "" };

	(void)state;
	assert_int_equal(redis_addr_parse("redis://127.0.0.1:6380", &a, &e), 0);
	assert_false(a.is_unix);
	assert_string_equal(a.host, "127.0.0.1");
	assert_int_equal(a.port, 6380);
	assert_int_equal(redis_addr_parse("redis://localhost", &a, &e), 0);
	assert_int_equal(a.port, 6379);
	assert_int_equal(redis_addr_parse("unix:///tmp/r.sock", &a, &e), 0);
	assert_true(a.is_unix);
	assert_string_equal(a.path, "/tmp/r.sock");
	assert_int_equal(redis_addr_parse("unix://rel", &a, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "absolute"));
	assert_int_equal(redis_addr_parse("redis://h:99999", &a, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "port"));
	assert_int_equal(redis_addr_parse("http://h", &a, &e), -EINVAL);
	assert_int_equal(redis_addr_parse("redis://:1", &a, &e), -EINVAL);
}

static void test_errmsg(void **state)
{
	struct errmsg e;

	(void)state;
	assert_int_equal(errmsg_set(&e, -EINVAL, "argv[%d]: bad", 3), -EINVAL);
	assert_string_equal(e.msg, "argv[3]: bad");
	assert_int_equal(errmsg_set(NULL, -ENOMEM, "x"), -ENOMEM);
	assert_string_equal(errno_name(-ENOENT), "ENOENT");
}

static void test_random_id(void **state)
{
	char a[33], b[33];

	(void)state;
	assert_int_equal(random_hex_id(a), 0);
	assert_int_equal(random_hex_id(b), 0);
	assert_int_equal(strlen(a), 32);
	assert_string_not_equal(a, b);
	assert_int_equal(strspn(a, "0123456789abcdef"), 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_cap),	   cmocka_unit_test(test_log_quote),
		cmocka_unit_test(test_redis_addr), cmocka_unit_test(test_errmsg),
		cmocka_unit_test(test_random_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
