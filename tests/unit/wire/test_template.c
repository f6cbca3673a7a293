/*
 * test_template: the template record (schemas/template.md): every vector under
 * schemas/vectors/template, the defaults of wire_template_new(), encoder refusals, and
 * wire_template_allows() on the host/port cases the egress proxy relies on (sub-domain wildcards
 * that must not match the apex or look-alike suffixes, default ports 80/443, explicit ports).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire_test.h"

static void test_new_defaults(void **state)
{
	struct wire_template *t = wire_template_new("default"), *d = NULL;
	struct errmsg e = { "" };
	struct buf b;

	(void)state;
	assert_non_null(t);
	assert_string_equal(t->name, "default");
	assert_int_equal(t->version, 1);
	assert_string_equal(t->image, "base");
	assert_int_equal(t->vcpus, 1);
	assert_int_equal(t->memory_mib, 256);
	assert_int_equal(t->disk_mib, 256);
	assert_int_equal(t->pids_max, 512);
	assert_int_equal(t->timeout_ms, 60000);
	assert_string_equal(t->warmup, "python3 -c pass");
	assert_false(t->network);
	assert_int_equal(t->envc, 0);
	assert_int_equal(t->nallow, 0);
	buf_init(&b, 0);
	assert_int_equal(wire_template_encode(t, &b, &e), 0);
	assert_int_equal(wire_template_decode(b.data, b.len, &d, &e), 0);
	assert_string_equal(d->name, "default");
	assert_string_equal(d->warmup, "python3 -c pass");
	wire_template_free(d);
	buf_free(&b);
	wire_template_free(t);
	assert_null(wire_template_new("a/b"));
	assert_null(wire_template_new(""));
	assert_null(wire_template_new(NULL));
	assert_null(wire_template_free(NULL));
}

static void test_encode_refusals(void **state)
{
	struct wire_template *t = wire_template_new("t1");
	char *env[] = { "A=1", NULL }, *allow[] = { "pypi.org", NULL };
	struct errmsg e = { "" };
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, "zz", 2), 0);
	t->vcpus = 9;
	assert_int_equal(wire_template_encode(t, &b, &e), -EINVAL);
	assert_string_equal(e.msg, "vcpus: 9 exceeds 8");
	assert_int_equal(b.len, 2);	/* refusals leave out as it was */
	t->vcpus = 2;
	t->network = true;
	assert_int_equal(wire_template_encode(t, &b, &e), -EINVAL);
	assert_string_equal(e.msg, "allow: empty, but network is 'allow' (give at least one "
			    "pattern)");
	t->allow = allow;
	t->nallow = 1;
	t->env = env;
	t->envc = 1;
	assert_int_equal(wire_template_encode(t, &b, &e), 0);
	assert_true(b.len > 2);
	t->nallow = 2;	/* allow[1] is NULL */
	assert_int_equal(wire_template_encode(t, &b, &e), -EINVAL);
	assert_string_equal(e.msg, "allow[1]: NULL");
	t->allow = NULL;
	t->env = NULL;
	t->nallow = t->envc = 0;
	t->network = false;
	free(t->warmup);
	t->warmup = NULL;
	assert_int_equal(wire_template_encode(t, &b, &e), -EINVAL);
	assert_string_equal(e.msg, "warmup: NULL (use \"\" for none)");
	t->warmup = strdup("");
	memset(t->image, 'x', sizeof(t->image));
	assert_int_equal(wire_template_encode(t, &b, &e), -EINVAL);
	assert_string_equal(e.msg, "image: not NUL-terminated");
	strcpy(t->image, "base");
	t->version = 0;
	assert_int_equal(wire_template_encode(t, &b, &e), -EINVAL);
	assert_string_equal(e.msg, "version: 0 is below 1");
	buf_free(&b);
	wire_template_free(t);
}

static struct wire_template *with_allow(char **patterns, size_t n)
{
	struct wire_template *t = wire_template_new("net"), *d = NULL;
	struct errmsg e = { "" };
	struct buf b;

	/* through the codec, so the patterns are the decoder's checked copies */
	t->network = true;
	t->allow = patterns;
	t->nallow = n;
	buf_init(&b, 0);
	if (wire_template_encode(t, &b, &e) < 0)
		fail_msg("encode: %s", e.msg);
	assert_int_equal(wire_template_decode(b.data, b.len, &d, &e), 0);
	buf_free(&b);
	t->allow = NULL;
	t->nallow = 0;
	wire_template_free(t);
	return d;
}

struct allow_case {
	const char *host;
	unsigned port;
	bool want;
};

static void check_cases(const struct wire_template *t, const struct allow_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (wire_template_allows(t, c[i].host, c[i].port) != c[i].want)
			fail_msg("allows(%s, %u) should be %s", c[i].host ? c[i].host : "NULL",
				 c[i].port, c[i].want ? "true" : "false");
	}
}

static void test_allows_exact(void **state)
{
	char *p[] = { "example.com", "10.0.0.1:8080", NULL };
	struct wire_template *t = with_allow(p, 2);
	const struct allow_case c[] = {
		{ "example.com", 443, true },
		{ "example.com", 80, true },
		{ "EXAMPLE.com", 443, true },		/* DNS names are case-insensitive */
		{ "example.com", 8443, false },		/* no port: 80 and 443 only */
		{ "example.com", 22, false },
		{ "www.example.com", 443, false },	/* exact: no sub-domains */
		{ "xexample.com", 443, false },
		{ "example.co", 443, false },
		{ "example.com.", 443, false },		/* trailing dot refused */
		{ "example.com.evil.org", 443, false },
		{ "example.com:443", 443, false },
		{ "", 443, false },
		{ NULL, 443, false },
		{ "example.com", 0, false },
		{ "example.com", 65536 + 443, false },
		{ "10.0.0.1", 8080, true },
		{ "10.0.0.1", 443, false },
		{ "10.0.0.10", 8080, false },
	};

	(void)state;
	check_cases(t, c, sizeof(c) / sizeof(c[0]));
	/* network off: nothing, even with the same patterns */
	t->network = false;
	assert_false(wire_template_allows(t, "example.com", 443));
	t->network = true;
	assert_false(wire_template_allows(NULL, "example.com", 443));
	wire_template_free(t);
}

static void test_allows_wildcard(void **state)
{
	char *p[] = { "*.example.com", "*.internal.test:8443", NULL };
	struct wire_template *t = with_allow(p, 2);
	char longhost[300];
	const struct allow_case c[] = {
		{ "a.example.com", 443, true },
		{ "a.example.com", 80, true },
		{ "a.b.c.example.com", 443, true },	/* any depth */
		{ "example.com", 443, false },		/* never the apex */
		{ "xexample.com", 443, false },		/* not a label boundary */
		{ "a.xexample.com", 443, false },
		{ ".example.com", 443, false },
		{ "a..example.com", 443, false },
		{ "a.example.com.evil.org", 443, false },
		{ "example.com.a", 443, false },
		{ "a.example.com", 8443, false },
		{ "a.example.co", 443, false },
		{ "-a.example.com", 443, false },	/* not a host name */
		{ "a_b.example.com", 443, false },
		{ "*.example.com", 443, false },
		{ "svc.internal.test", 8443, true },
		{ "svc.internal.test", 443, false },	/* explicit port only */
		{ "internal.test", 8443, false },
	};

	(void)state;
	check_cases(t, c, sizeof(c) / sizeof(c[0]));
	/* a host over 253 bytes never matches, even with the right suffix */
	memset(longhost, 'a', sizeof(longhost));
	for (size_t i = 63; i < 240; i += 64)
		longhost[i] = '.';
	strcpy(longhost + 241, ".example.com");	/* 253 bytes */
	assert_int_equal(strlen(longhost), 253);
	assert_true(wire_template_allows(t, longhost, 443));
	memmove(longhost + 193, longhost + 192, strlen(longhost + 192) + 1);	/* 254 bytes */
	assert_int_equal(strlen(longhost), 254);
	assert_false(wire_template_allows(t, longhost, 443));
	wire_template_free(t);
}

static void test_check_allow(void **state)
{
	struct errmsg e = { "" };

	(void)state;
	assert_int_equal(wire_check_allow("p", "pypi.org", 8, &e), 0);
	assert_int_equal(wire_check_allow("p", "*.pypi.org:443", 14, &e), 0);
	assert_int_equal(wire_check_allow("p", "localhost", 9, &e), 0);
	assert_int_equal(wire_check_allow("p", "Pypi.org", 8, &e), -EINVAL);
	assert_string_equal(e.msg, "p: 'Pypi.org': upper-case letter (patterns are lower-case)");
	assert_int_equal(wire_check_allow("p", "*.*.org", 7, &e), -EINVAL);
	assert_int_equal(wire_check_allow("p", "a.org:99999", 11, &e), -EINVAL);
	assert_string_equal(e.msg, "p: 'a.org:99999': port must be 1..65535");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_template),
		cmocka_unit_test(test_new_defaults),
		cmocka_unit_test(test_encode_refusals),
		cmocka_unit_test(test_allows_exact),
		cmocka_unit_test(test_allows_wildcard),
		cmocka_unit_test(test_check_allow),
	};

	if (argc > 1)
		setenv("WIRE_VECTORS_DIR", argv[1], 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
