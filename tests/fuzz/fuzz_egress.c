/*
 * fuzz_egress: the egress proxy's parsers of bytes a job controls. The first input byte picks
 * the parser, the rest is the input:
 *   0: worker/egress_tls.c egress_tls_sni (the first bytes of a CONNECT tunnel); an SNI it
 *      returns must be lower-case [a-z0-9._-] and NUL-terminated within its buffer;
 *   1: worker/egress_http.c egress_http_feed on a request stream, fed in pieces whose sizes
 *      come from the input, checked against one whole feed of the same bytes (same result,
 *      same output); the output never exceeds its buffer cap;
 *   2: vm/agent/proxy_req.c, the agent's first-head parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "egress.h"

static void fuzz_sni(const uint8_t *p, size_t n)
{
	char sni[WIRE_NET_HOST_MAX + 2];
	const char *why = NULL;
	int r = egress_tls_sni(p, n, sni, sizeof(sni), &why);

	if (!why)
		abort();
	if (r == 1) {
		size_t len = strnlen(sni, sizeof(sni));

		if (len == 0 || len >= sizeof(sni))
			abort();
		for (size_t i = 0; i < len; i++)
			if (!((sni[i] >= 'a' && sni[i] <= 'z') || (sni[i] >= '0' && sni[i] <= '9') ||
			      sni[i] == '.' || sni[i] == '-' || sni[i] == '_'))
				abort();
	}
}

static void fuzz_http(const uint8_t *p, size_t n)
{
	struct egress_http a, b;
	struct buf oa, ob;
	char why[256];
	int ra, rb = 0;
	size_t off = 0, step = n ? (size_t)(p[0] % 7) + 1 : 1;

	egress_http_init(&a, "web.test", 8080);
	egress_http_init(&b, "web.test", 8080);
	buf_init(&oa, 1 << 20);
	buf_init(&ob, 1 << 20);
	ra = egress_http_feed(&a, p, n, &oa, why, sizeof(why));
	while (off < n && rb == 0) {
		size_t k = n - off < step ? n - off : step;

		rb = egress_http_feed(&b, p + off, k, &ob, why, sizeof(why));
		off += k;
	}
	if (ra != rb)
		abort();
	if (ra == 0 && (oa.len != ob.len || (oa.len && memcmp(oa.data, ob.data, oa.len))))
		abort();
	buf_free(&oa);
	buf_free(&ob);
	egress_http_free(&a);
	egress_http_free(&b);
}

static void fuzz_req(const uint8_t *p, size_t n)
{
	struct proxy_target t;
	const char *why = NULL;
	size_t end = proxy_req_head_end(p, n);

	if (end && proxy_req_parse(p, end, &t, &why) == 0 && strnlen(t.host, sizeof(t.host)) == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_sni(data + 1, size - 1);
		break;
	case 1:
		fuzz_http(data + 1, size - 1);
		break;
	default:
		fuzz_req(data + 1, size - 1);
		break;
	}
	return 0;
}
