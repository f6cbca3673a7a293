/*
 * Unit tests of fetch/policy.c (URL parsing, allow patterns, the decision without DNS, address
 * classification) and fetch/sha256.c (the mirror key). Pure functions: no DNS, no sockets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

void sha256(const void *data, size_t len, uint8_t out[32]);

static enum addr_class cls(const char *text)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };

	if (inet_pton(AF_INET, text, &in.sin_addr) == 1)
		return policy_addr_classify((struct sockaddr *)&in);
	assert_int_equal(inet_pton(AF_INET6, text, &in6.sin6_addr), 1);
	return policy_addr_classify((struct sockaddr *)&in6);
}

static void test_classify_v4(void **state)
{
	(void)state;
	assert_int_equal(cls("127.0.0.1"), ADDR_LOOPBACK);
	assert_int_equal(cls("127.255.1.2"), ADDR_LOOPBACK);
	assert_int_equal(cls("10.1.2.3"), ADDR_PRIVATE);
	assert_int_equal(cls("172.16.0.1"), ADDR_PRIVATE);
	assert_int_equal(cls("172.31.255.255"), ADDR_PRIVATE);
	assert_int_equal(cls("172.32.0.1"), ADDR_PUBLIC);
	assert_int_equal(cls("192.168.1.1"), ADDR_PRIVATE);
	assert_int_equal(cls("100.64.0.1"), ADDR_PRIVATE);
	assert_int_equal(cls("169.254.169.254"), ADDR_LINKLOCAL);
	assert_int_equal(cls("0.0.0.0"), ADDR_UNSPECIFIED);
	assert_int_equal(cls("224.0.0.1"), ADDR_MULTICAST);
	assert_int_equal(cls("239.255.255.250"), ADDR_MULTICAST);
	assert_int_equal(cls("255.255.255.255"), ADDR_RESERVED);
	assert_int_equal(cls("8.8.8.8"), ADDR_PUBLIC);
	assert_int_equal(cls("140.82.121.4"), ADDR_PUBLIC);
	assert_int_equal(cls("11.0.0.1"), ADDR_PUBLIC);
}

static void test_classify_v6(void **state)
{
	(void)state;
	assert_int_equal(cls("::1"), ADDR_LOOPBACK);
	assert_int_equal(cls("::"), ADDR_UNSPECIFIED);
	assert_int_equal(cls("fc00::1"), ADDR_PRIVATE);
	assert_int_equal(cls("fd12:3456::1"), ADDR_PRIVATE);
	assert_int_equal(cls("fe80::1"), ADDR_LINKLOCAL);
	assert_int_equal(cls("febf::1"), ADDR_LINKLOCAL);
	assert_int_equal(cls("ff02::1"), ADDR_MULTICAST);
	assert_int_equal(cls("::ffff:127.0.0.1"), ADDR_LOOPBACK);
	assert_int_equal(cls("::ffff:169.254.169.254"), ADDR_LINKLOCAL);
	assert_int_equal(cls("::ffff:8.8.8.8"), ADDR_PUBLIC);
	assert_int_equal(cls("64:ff9b::10.0.0.1"), ADDR_PRIVATE);
	assert_int_equal(cls("2001:db8::1"), ADDR_RESERVED);
	assert_int_equal(cls("2a00:1450:4001::64"), ADDR_PUBLIC);
}

static void test_parse(void **state)
{
	struct url_parts u;

	(void)state;
	assert_int_equal(policy_url_parse("https://github.com/a/b.git", &u, NULL), 0);
	assert_int_equal(u.scheme, URL_HTTPS);
	assert_string_equal(u.host, "github.com");
	assert_int_equal(u.port, 0);
	assert_int_equal(policy_url_parse("HTTPS://Example.COM:8443/x", &u, NULL), 0);
	assert_int_equal(u.scheme, URL_HTTPS);
	assert_string_equal(u.host, "Example.COM");
	assert_int_equal(u.port, 8443);
	assert_int_equal(policy_url_parse("git://[::1]:9418/r", &u, NULL), 0);
	assert_int_equal(u.scheme, URL_GIT);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 9418);
	assert_int_equal(policy_url_parse("git@github.com:a/b.git", &u, NULL), 0);
	assert_int_equal(u.scheme, URL_SSH);
	assert_true(u.has_user);
	assert_false(u.has_password);
	assert_string_equal(u.host, "github.com");
	assert_int_equal(policy_url_parse("/srv/git/x", &u, NULL), 0);
	assert_int_equal(u.scheme, URL_LOCAL);
	assert_int_equal(policy_url_parse("file:///srv/git/x", &u, NULL), 0);
	assert_int_equal(u.scheme, URL_FILE);
	assert_int_equal(policy_url_parse("https://u:p@h.com/x", &u, NULL), 0);
	assert_true(u.has_password);
	/* refused shapes */
	assert_int_equal(policy_url_parse("ext::sh -c x", &u, NULL), -EINVAL);
	assert_int_equal(policy_url_parse("ftp://h/x", &u, NULL), -EPROTONOSUPPORT);
	assert_int_equal(policy_url_parse("https://h%2e.com/x", &u, NULL), -EINVAL);
	assert_int_equal(policy_url_parse("https:///x", &u, NULL), -EINVAL);
	assert_int_equal(policy_url_parse("https://h:0/x", &u, NULL), -EINVAL);
	assert_int_equal(policy_url_parse("https://h:99999/x", &u, NULL), -EINVAL);
	assert_int_equal(policy_url_parse("https://h/a\nb", &u, NULL), -EINVAL);
	assert_int_equal(policy_url_parse("-uhttps://x", &u, NULL), -EINVAL);
	assert_int_equal(policy_url_parse("file://evil.com/x", &u, NULL), -EINVAL);
	assert_int_equal(policy_url_parse("", &u, NULL), -EINVAL);
}

static void test_decision(void **state)
{
	const char *allow[] = { "file:///srv/git/*", "git://127.0.0.1/*",
				"https://git.internal/*" };
	struct errmsg e;
	bool dns;

	(void)state;
	/* https is always allowed; names need the DNS check */
	assert_int_equal(policy_check_url(NULL, 0, "https://github.com/a/b", NULL, &dns, &e), 0);
	assert_true(dns);
	assert_int_equal(policy_check_url(NULL, 0, "https://8.8.8.8/a", NULL, &dns, &e), 0);
	assert_false(dns);
	/* other transports only through a pattern */
	assert_int_equal(policy_check_url(NULL, 0, "http://h.com/a", NULL, &dns, &e), -EPERM);
	assert_non_null(strstr(e.msg, "repo: http URL"));
	assert_int_equal(policy_check_url(NULL, 0, "git://127.0.0.1/r", NULL, &dns, &e), -EPERM);
	assert_int_equal(policy_check_url(allow, 3, "git://127.0.0.1/r", NULL, &dns, &e), 0);
	assert_false(dns);
	assert_int_equal(policy_check_url(allow, 3, "git://127.0.0.1:9/r", NULL, &dns, &e),
			 -EPERM);	/* the pattern is over the whole URL */
	assert_int_equal(policy_check_url(NULL, 0, "file:///srv/git/r", NULL, &dns, &e), -EPERM);
	assert_int_equal(policy_check_url(allow, 3, "file:///srv/git/r", NULL, &dns, &e), 0);
	assert_int_equal(policy_check_url(allow, 3, "file:///etc/r", NULL, &dns, &e), -EPERM);
	assert_int_equal(policy_check_url(allow, 3, "/srv/git/r", NULL, &dns, &e), -EPERM);
	assert_int_equal(policy_check_url(allow, 3, "ssh://h.com/r", NULL, &dns, &e), -EPERM);
	/* non-public literals over https, unless a pattern says so */
	assert_int_equal(policy_check_url(NULL, 0, "https://127.0.0.1/r", NULL, &dns, &e), -EPERM);
	assert_non_null(strstr(e.msg, "loopback"));
	assert_int_equal(policy_check_url(NULL, 0, "https://169.254.169.254/latest", NULL, &dns,
					  &e), -EPERM);
	assert_non_null(strstr(e.msg, "link-local"));
	assert_int_equal(policy_check_url(NULL, 0, "https://[::1]/r", NULL, &dns, &e), -EPERM);
	assert_int_equal(policy_check_url(NULL, 0, "https://[fd00::5]:443/r", NULL, &dns, &e),
			 -EPERM);
	assert_int_equal(policy_check_url(NULL, 0, "https://10.0.0.5/r", NULL, &dns, &e), -EPERM);
	/* credentials in the URL: refused even when a pattern matches */
	assert_int_equal(policy_check_url(allow, 3, "https://git.internal@x/r", NULL, &dns, &e),
			 -EPERM);
	assert_int_equal(policy_check_url(allow, 3, "https://u:p@git.internal/r", NULL, &dns, &e),
			 -EPERM);
	assert_non_null(strstr(e.msg, "credentials"));
	assert_int_equal(policy_check_url(NULL, 0, "https://tok@github.com/r", NULL, &dns, &e),
			 -EPERM);
	/* the message never carries more than a capped, printable copy of the URL */
	{
		char url[600];

		memset(url, 'a', sizeof(url));
		memcpy(url, "http://h.com/", 13);
		url[sizeof(url) - 1] = '\0';
		assert_int_equal(policy_check_url(NULL, 0, url, NULL, &dns, &e), -EPERM);
		assert_true(strlen(e.msg) < 256);
	}
}

static void test_show(void **state)
{
	char out[POLICY_SHOW_MAX + 4];
	char big[300];

	(void)state;
	assert_string_equal(policy_show(out, sizeof(out), "a\x01" "b"), "a?b");
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	policy_show(out, sizeof(out), big);
	assert_int_equal(strlen(out), POLICY_SHOW_MAX + 3);
	assert_string_equal(out + POLICY_SHOW_MAX, "...");
}

static void hex(const uint8_t *h, char *out)
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

static void test_sha256(void **state)
{
	uint8_t h[32];
	char out[65];
	char m[1000];

	(void)state;
	sha256("", 0, h);
	hex(h, out);
	assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256("abc", 3, h);
	hex(h, out);
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, h);
	hex(h, out);
	assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(m, 'a', sizeof(m));
	sha256(m, sizeof(m), h);
	hex(h, out);
	assert_string_equal(out, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_v4), cmocka_unit_test(test_classify_v6),
		cmocka_unit_test(test_parse),	    cmocka_unit_test(test_decision),
		cmocka_unit_test(test_show),	    cmocka_unit_test(test_sha256),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
