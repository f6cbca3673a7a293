/*
 * test_egress: the egress proxy's pure parsers. egress_tls_sni on ClientHellos built here byte
 * by byte (one record, split over records, truncated, no SNI, two names, ECH, not TLS);
 * egress_http_feed on request streams (rewrite to origin form, proxy headers dropped, Host and
 * URI checks on every request of a keep-alive stream, Content-Length and chunked bodies, the
 * framings it refuses, byte-at-a-time feeding giving the same output); egress_cfg parsers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "egress.h"

/* ---- ClientHello builder ---- */
struct hb {
	uint8_t b[4096];
	size_t n;
};

static void put8(struct hb *h, unsigned v) { h->b[h->n++] = (uint8_t)v; }
static void put16(struct hb *h, unsigned v) { put8(h, v >> 8); put8(h, v & 0xff); }
static void put(struct hb *h, const void *p, size_t n) { memcpy(h->b + h->n, p, n); h->n += n; }

static void ext_sni(struct hb *e, const char *const *names, size_t n)
{
	size_t list = 0;

	for (size_t i = 0; i < n; i++)
		list += 3 + strlen(names[i]);
	put16(e, 0x0000);
	put16(e, (unsigned)(2 + list));
	put16(e, (unsigned)list);
	for (size_t i = 0; i < n; i++) {
		put8(e, 0);
		put16(e, (unsigned)strlen(names[i]));
		put(e, names[i], strlen(names[i]));
	}
}

/* A ClientHello handshake message with the extension bytes given. */
static void hello(struct hb *out, const struct hb *ext)
{
	struct hb body = { .n = 0 };
	uint8_t random[32] = { 1, 2, 3 };

	put16(&body, 0x0303);
	put(&body, random, 32);
	put8(&body, 0);			/* session id */
	put16(&body, 4);		/* two cipher suites */
	put16(&body, 0x1301);
	put16(&body, 0x1302);
	put8(&body, 1);
	put8(&body, 0);			/* null compression */
	put16(&body, (unsigned)ext->n);
	put(&body, ext->b, ext->n);
	out->n = 0;
	put8(out, 1);
	put8(out, 0);
	put16(out, (unsigned)body.n);
	put(out, body.b, body.n);
}

/* TLS records of at most frag bytes each carrying hs. */
static void records(struct hb *out, const struct hb *hs, size_t frag)
{
	out->n = 0;
	for (size_t off = 0; off < hs->n; off += frag) {
		size_t k = hs->n - off < frag ? hs->n - off : frag;

		put8(out, 22);
		put16(out, 0x0301);
		put16(out, (unsigned)k);
		put(out, hs->b + off, k);
	}
}

static int sni_of(const char *const *names, size_t n, bool ech, size_t frag, size_t cut,
		  char *sni)
{
	struct hb ext = { .n = 0 }, hs, rec;
	const char *why;

	put16(&ext, 0x002b);	/* supported_versions, some other extension first */
	put16(&ext, 3);
	put8(&ext, 2);
	put16(&ext, 0x0304);
	if (n)
		ext_sni(&ext, names, n);
	if (ech) {
		put16(&ext, 0xfe0d);
		put16(&ext, 2);
		put16(&ext, 0);
	}
	hello(&hs, &ext);
	records(&rec, &hs, frag);
	return egress_tls_sni(rec.b, cut ? cut : rec.n, sni, WIRE_NET_HOST_MAX + 2, &why);
}

static void test_sni(void **state)
{
	const char *one[] = { "PyPI.org" }, *two[] = { "a.org", "b.org" };
	char sni[WIRE_NET_HOST_MAX + 2];

	(void)state;
	assert_int_equal(sni_of(one, 1, false, 16384, 0, sni), 1);
	assert_string_equal(sni, "pypi.org");
	assert_int_equal(sni_of(one, 1, false, 7, 0, sni), 1);	/* split over many records */
	assert_string_equal(sni, "pypi.org");
	assert_int_equal(sni_of(one, 1, false, 16384, 30, sni), 0);	/* more bytes needed */
	assert_int_equal(sni_of(one, 1, false, 16384, 3, sni), 0);
	assert_int_equal(sni_of(NULL, 0, false, 16384, 0, sni), -ENOENT);
	assert_int_equal(sni_of(two, 2, false, 16384, 0, sni), -EPROTO);
	assert_int_equal(sni_of(one, 1, true, 16384, 0, sni), -EPROTO);
}

static void test_sni_not_tls(void **state)
{
	static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const uint8_t app[] = { 23, 3, 3, 0, 1, 0 };
	static const uint8_t zero_len[] = { 22, 3, 1, 0, 0 };
	char sni[WIRE_NET_HOST_MAX + 2];
	const char *why;

	(void)state;
	assert_int_equal(egress_tls_sni((const uint8_t *)get, sizeof(get) - 1, sni, sizeof(sni),
					&why), -EPROTO);
	assert_int_equal(egress_tls_sni(app, sizeof(app), sni, sizeof(sni), &why), -EPROTO);
	assert_int_equal(egress_tls_sni(zero_len, sizeof(zero_len), sni, sizeof(sni), &why),
			 -EPROTO);
}

/* ---- HTTP request stream ---- */
static int feed(struct egress_http *h, const char *in, struct buf *out, bool bytewise)
{
	char why[256] = "";
	size_t n = strlen(in);

	if (!bytewise)
		return egress_http_feed(h, (const uint8_t *)in, n, out, why, sizeof(why));
	for (size_t i = 0; i < n; i++) {
		int r = egress_http_feed(h, (const uint8_t *)in + i, 1, out, why, sizeof(why));

		if (r < 0)
			return r;
	}
	return 0;
}

static int run(const char *in, const char *expect, bool bytewise)
{
	struct egress_http h;
	struct buf out;
	int r;

	egress_http_init(&h, "web.test", 8080);
	buf_init(&out, 1 << 20);
	r = feed(&h, in, &out, bytewise);
	if (r == 0 && expect) {
		assert_int_equal(out.len, strlen(expect));
		assert_memory_equal(out.data, expect, out.len);
	}
	buf_free(&out);
	egress_http_free(&h);
	return r;
}

static void test_http_ok(void **state)
{
	static const char in[] =
		"GET http://web.test:8080/a?b=1 HTTP/1.1\r\nHost: Web.Test:8080\r\n"
		"Proxy-Connection: keep-alive\r\nProxy-Authorization: Basic eA==\r\nX-A:  1 \r\n\r\n"
		"POST /p HTTP/1.1\r\nHost: web.test:8080\r\nContent-Length: 5\r\n\r\nhello"
		"PUT http://web.test:8080 HTTP/1.1\r\nHost: web.test:8080\r\n"
		"Transfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n"
		"GET /last HTTP/1.0\r\n\r\n";
	static const char out[] =
		"GET /a?b=1 HTTP/1.1\r\nHost: Web.Test:8080\r\nX-A:  1 \r\n\r\n"
		"POST /p HTTP/1.1\r\nHost: web.test:8080\r\nContent-Length: 5\r\n\r\nhello"
		"PUT / HTTP/1.1\r\nHost: web.test:8080\r\n"
		"Transfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n"
		"GET /last HTTP/1.0\r\n\r\n";

	(void)state;
	assert_int_equal(run(in, out, false), 0);
	assert_int_equal(run(in, out, true), 0);
	/* a body that looks like a request for another host is just a body */
	assert_int_equal(run("POST / HTTP/1.1\r\nHost: web.test:8080\r\nContent-Length: 40\r\n\r\n"
			     "GET http://evil/ HTTP/1.1\r\nHost: evil\r\n\r\n", NULL, false), 0);
}

static void test_http_refused(void **state)
{
	static const struct {
		const char *in;
		int err;
	} cases[] = {
		{ "GET http://evil.test:8080/ HTTP/1.1\r\nHost: web.test:8080\r\n\r\n", -EPERM },
		{ "GET / HTTP/1.1\r\nHost: evil.test:8080\r\n\r\n", -EPERM },
		{ "GET / HTTP/1.1\r\nHost: web.test\r\n\r\n", -EPERM },		/* port 80 ≠ 8080 */
		{ "GET / HTTP/1.1\r\nHost: web.test:8080\r\nHost: web.test:8080\r\n\r\n", -EPERM },
		{ "GET / HTTP/1.1\r\n\r\n", -EPERM },
		{ "GET / HTTP/1.1\r\nHost: web.test:8080\r\n\r\n"
		  "GET / HTTP/1.1\r\nHost: evil.test:8080\r\n\r\n", -EPERM },
		{ "GET / HTTP/1.1\r\nHost: web.test:8080\r\nContent-Length: 2\r\n\r\nab"
		  "GET http://evil.test:8080/ HTTP/1.1\r\nHost: web.test:8080\r\n\r\n", -EPERM },
		{ "CONNECT web.test:8080 HTTP/1.1\r\nHost: web.test:8080\r\n\r\n", -EPERM },
		{ "GET / HTTP/1.1\r\nHost: web.test:8080\r\nUpgrade: websocket\r\n\r\n", -EPERM },
		{ "GET / HTTP/1.1\r\nHost: web.test:8080\r\nTransfer-Encoding: gzip\r\n\r\n",
		  -EPROTO },
		{ "GET / HTTP/1.1\r\nHost: web.test:8080\r\nContent-Length: 1\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n", -EPROTO },
		{ "GET / HTTP/1.1\r\nHost: web.test:8080\r\nContent-Length: 1\r\n"
		  "Content-Length: 2\r\n\r\n", -EPROTO },
		{ "GET / HTTP/1.1\r\nHost: web.test:8080\r\nX: a\r\n b\r\n\r\n", -EPROTO },
		{ "GET / HTTP/1.1\r\nHost: web.test:8080\r\nX: a\nY: b\r\n\r\n", -EPROTO },
		{ "GET / HTTP/2\r\nHost: web.test:8080\r\n\r\n", -EPROTO },
		{ "GET https://web.test:8080/ HTTP/1.1\r\nHost: web.test:8080\r\n\r\n", -EPROTO },
		{ "GET / HTTP/1.1\r\nHost: web.test:8080\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "zz\r\n", -EPROTO },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = run(cases[i].in, NULL, false);

		if (r != cases[i].err)
			fail_msg("case %zu: got %d, expected %d", i, r, cases[i].err);
		assert_int_equal(run(cases[i].in, NULL, true), cases[i].err);
	}
}

static void test_http_head_max(void **state)
{
	struct egress_http h;
	struct buf out;
	char why[256];
	static char big[EGRESS_HTTP_HEAD_MAX + 10];

	(void)state;
	memset(big, 'a', sizeof(big));
	egress_http_init(&h, "web.test", 80);
	buf_init(&out, 1 << 20);
	assert_int_equal(egress_http_feed(&h, (const uint8_t *)big, sizeof(big), &out, why,
					  sizeof(why)), -EMSGSIZE);
	buf_free(&out);
	egress_http_free(&h);
}

/* ---- flags ---- */
static void test_cfg(void **state)
{
	struct egress_cfg cfg = { .nallow = 0 };
	struct errmsg em = { "" };
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct sockaddr_in6 b = { .sin6_family = AF_INET6 };

	(void)state;
	assert_int_equal(egress_cfg_add(&cfg, "egress-allow-addr", "127.0.0.1/32", &em), 0);
	assert_int_equal(egress_cfg_add(&cfg, "egress-allow-addr", "10.1.0.0/16", &em), 0);
	assert_int_equal(egress_cfg_add(&cfg, "egress-allow-addr", "::1", &em), 0);
	assert_int_equal(egress_cfg_add(&cfg, "egress-allow-addr", "10.0.0.0/33", &em), -EINVAL);
	assert_int_equal(egress_cfg_add(&cfg, "egress-allow-addr", "x/8", &em), -EINVAL);
	inet_pton(AF_INET, "10.1.200.3", &a.sin_addr);
	assert_true(egress_cfg_addr_allowed(&cfg, (struct sockaddr *)&a));
	inet_pton(AF_INET, "10.2.0.1", &a.sin_addr);
	assert_false(egress_cfg_addr_allowed(&cfg, (struct sockaddr *)&a));
	inet_pton(AF_INET6, "::1", &b.sin6_addr);
	assert_true(egress_cfg_addr_allowed(&cfg, (struct sockaddr *)&b));
	inet_pton(AF_INET6, "::2", &b.sin6_addr);
	assert_false(egress_cfg_addr_allowed(&cfg, (struct sockaddr *)&b));
	assert_int_equal(egress_cfg_add(&cfg, "egress-resolve", "Web.Test=127.0.0.1", &em), 0);
	assert_int_equal(egress_cfg_add(&cfg, "egress-resolve", "web.test=::1", &em), 0);
	assert_int_equal(cfg.nresolve, 1);		/* the later one wins */
	assert_int_equal(egress_cfg_lookup(&cfg, "web.test")->ss_family, AF_INET6);
	assert_null(egress_cfg_lookup(&cfg, "other.test"));
	assert_int_equal(egress_cfg_add(&cfg, "egress-resolve", "web.test", &em), -EINVAL);
	assert_int_equal(egress_cfg_add(&cfg, "egress-resolve", "a b=1.2.3.4", &em), -EINVAL);
	assert_int_equal(egress_cfg_add(&cfg, "egress-resolve", "web.test=nope", &em), -EINVAL);
	for (unsigned i = cfg.nallow; i < EGRESS_ALLOW_ADDR_MAX; i++)
		assert_int_equal(egress_cfg_add(&cfg, "egress-allow-addr", "1.2.3.4", &em), 0);
	assert_int_equal(egress_cfg_add(&cfg, "egress-allow-addr", "1.2.3.4", &em), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sni),
		cmocka_unit_test(test_sni_not_tls),
		cmocka_unit_test(test_http_ok),
		cmocka_unit_test(test_http_refused),
		cmocka_unit_test(test_http_head_max),
		cmocka_unit_test(test_cfg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
