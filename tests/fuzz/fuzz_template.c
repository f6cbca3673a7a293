/*
 * fuzz_template: libFuzzer target for the template record decoder (what every corrald reads
 * from <prefix>templates). A decoded record must re-encode, the re-encoding must decode and
 * encode to the same bytes (a fixed point), a failed decode must leave *ret NULL, and
 * wire_template_allows() must be total on the decoded patterns: the same answer for a host and
 * its upper-case form, never for port 0, never for the apex of a lone "*.suffix", never with
 * network off. Seeds: schemas/vectors/template.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static void check_allows(struct wire_template *t)
{
	static const unsigned ports[] = { 80, 443, 8443, 0, 65535 };
	char host[WIRE_HOST_MAX + 8], upper[sizeof(host)];

	for (size_t i = 0; i < t->nallow; i++) {
		const char *p = t->allow[i];
		size_t l;

		if (p[0] == '*')	/* a sub-domain of the suffix */
			snprintf(host, sizeof(host), "x%.*s", (int)strcspn(p + 1, ":"), p + 1);
		else
			snprintf(host, sizeof(host), "%.*s", (int)strcspn(p, ":"), p);
		l = strlen(host);
		for (size_t k = 0; k <= l; k++)
			upper[k] = host[k] >= 'a' && host[k] <= 'z' ? (char)(host[k] - 32) : host[k];
		for (size_t k = 0; k < sizeof(ports) / sizeof(ports[0]); k++) {
			bool a = wire_template_allows(t, host, ports[k]);

			if (a != wire_template_allows(t, upper, ports[k]))
				__builtin_trap();
			if (ports[k] == 0 && a)
				__builtin_trap();
		}
		/* with one pattern "*.suffix", the apex "suffix" never matches */
		if (p[0] == '*' && t->nallow == 1 && wire_template_allows(t, host + 2, 443))
			__builtin_trap();
	}
	t->network = false;
	for (size_t i = 0; i < t->nallow; i++)
		if (wire_template_allows(t, t->allow[i], 443))
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct wire_template *t = NULL, *t2 = NULL;
	struct errmsg e;
	struct buf b, b2;

	if (wire_template_decode(d, n, &t, &e) != 0) {
		if (t)
			__builtin_trap();
		return 0;
	}
	buf_init(&b, 0);
	buf_init(&b2, 0);
	if (wire_template_encode(t, &b, &e) != 0)
		__builtin_trap();
	if (wire_template_decode(b.data, b.len, &t2, &e) != 0)
		__builtin_trap();
	if (wire_template_encode(t2, &b2, &e) != 0 || b.len != b2.len ||
	    memcmp(b.data, b2.data, b.len))
		__builtin_trap();
	check_allows(t);
	wire_template_free(t);
	wire_template_free(t2);
	buf_free(&b);
	buf_free(&b2);
	return 0;
}
