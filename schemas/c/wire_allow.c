/*
 * wire_allow: the egress allow-list of a template (schemas/template.md): checks one pattern
 * ("example.com", "*.example.com", either with an optional ":port") and decides whether a
 * host:port is allowed. "*.suffix" matches sub-domains of suffix at any depth, never suffix
 * itself; a pattern without a port allows 80 and 443 only. It only compares names: it must not
 * resolve anything or know about addresses, proxies or TLS.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wire.h"
#include "wire_internal.h"

#define LABEL_MAX 63
#define PORT_DIGITS_MAX 5

/* A host name: dot-separated labels of [a-z0-9-], 1..63 bytes, no '-' at either end. With
 * fold, upper-case letters count as their lower-case ones. NULL or "" when valid, else why. */
static const char *host_problem(const char *s, size_t len, bool fold)
{
	size_t label = 0;

	if (len == 0)
		return "empty host";
	if (len > WIRE_HOST_MAX)
		return "host longer than 253 bytes";
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return "empty label";
			if (s[i - 1] == '-')
				return "label ends with '-'";
			label = 0;
			continue;
		}
		if (fold && c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return c >= 'A' && c <= 'Z' ? "upper-case letter (patterns are lower-case)"
						    : "character outside [a-z0-9.-]";
		if (c == '-' && label == 0)
			return "label starts with '-'";
		if (++label > LABEL_MAX)
			return "label longer than 63 bytes";
	}
	if (label == 0)
		return "empty label";
	if (s[len - 1] == '-')
		return "label ends with '-'";
	return NULL;
}

/* Splits "host[:port]". *port 0 when absent; -1 when the port part is malformed. */
static int split_port(const char *s, size_t len, size_t *hostlen, unsigned *port)
{
	const char *colon = memchr(s, ':', len);
	unsigned v = 0;
	size_t n;

	*hostlen = len;
	*port = 0;
	if (!colon)
		return 0;
	*hostlen = (size_t)(colon - s);
	n = len - *hostlen - 1;
	if (n == 0 || n > PORT_DIGITS_MAX || colon[1] == '0')
		return -1;
	for (size_t i = 1; i <= n; i++) {
		if (colon[i] < '0' || colon[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(colon[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = v;
	return 0;
}

int wire_check_allow(const char *field, const char *s, size_t len, struct errmsg *reterr)
{
	const char *why, *host = s;
	size_t hostlen;
	unsigned port;
	char q[64];

	wire_quote(q, sizeof(q), s, len);
	if (len == 0)
		return errmsg_set(reterr, -EINVAL, "%s: empty pattern", field);
	if (len > WIRE_HOST_MAX + 1 + PORT_DIGITS_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "%s: %zu bytes, longer than %d", field, len,
				  WIRE_HOST_MAX + 1 + PORT_DIGITS_MAX);
	if (memchr(s, '\0', len))
		return errmsg_set(reterr, -EINVAL, "%s: contains a NUL byte", field);
	if (split_port(s, len, &hostlen, &port) < 0)
		return errmsg_set(reterr, -EINVAL, "%s: %s: port must be 1..65535", field, q);
	if (hostlen > WIRE_HOST_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "%s: host part %zu bytes, longer than %d",
				  field, hostlen, WIRE_HOST_MAX);
	if (hostlen >= 2 && host[0] == '*' && host[1] == '.') {
		host += 2;
		hostlen -= 2;
	}
	if (memchr(host, '*', hostlen))
		return errmsg_set(reterr, -EINVAL, "%s: %s: '*' only as a whole first label "
				  "('*.example.com')", field, q);
	why = host_problem(host, hostlen, false);
	if (why)
		return errmsg_set(reterr, -EINVAL, "%s: %s: %s", field, q, why);
	return 0;
}

static bool name_eq(const char *a, const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char x = a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

/* pattern is valid (checked at decode); host is a valid host name of hlen bytes. */
static bool pattern_matches(const char *pattern, const char *host, size_t hlen, unsigned port)
{
	size_t plen;
	unsigned pport;

	if (split_port(pattern, strlen(pattern), &plen, &pport) < 0)
		return false;
	if (pport ? port != pport : port != 80 && port != 443)
		return false;
	if (plen >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* ".suffix" must end host, with at least one label before it */
		const char *suffix = pattern + 1;
		size_t slen = plen - 1;

		return hlen > slen && name_eq(host + hlen - slen, suffix, slen);
	}
	return hlen == plen && name_eq(host, pattern, plen);
}

bool wire_template_allows(const struct wire_template *t, const char *host, unsigned port)
{
	size_t hlen;

	if (!t || !t->network || !t->allow || !host || port < 1 || port > 65535)
		return false;
	hlen = strnlen(host, WIRE_HOST_MAX + 1);
	if (host_problem(host, hlen, true))
		return false;
	for (size_t i = 0; i < t->nallow && t->allow[i]; i++)
		if (pattern_matches(t->allow[i], host, hlen, port))
			return true;
	return false;
}
