/*
 * proxy_req: reads the first request head a client sends to the agent's HTTP proxy and says
 * where it wants to go: `CONNECT host:port HTTP/1.x` (a tunnel) or `METHOD http://host[:port]/...
 * HTTP/1.x` (plain HTTP in absolute form, port 80 by default). The host is lower-cased and must be
 * a name or IPv4 literal of [a-z0-9._-] (what a net_open frame carries); userinfo, IPv6
 * literals, https:// targets and origin-form requests are refused with a reason for the 400
 * answer. Pure: no I/O, no allocation. The agent only routes: the worker's egress proxy checks
 * and rewrites every request itself, so nothing here is a security decision.
 */
#include "agent.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

/* Finds the end of the head ("\r\n\r\n"): offset just past it, or 0 when not there yet. */
size_t proxy_req_head_end(const uint8_t *p, size_t n)
{
	for (size_t i = 3; i < n; i++)
		if (p[i] == '\n' && p[i - 1] == '\r' && p[i - 2] == '\n' && p[i - 3] == '\r')
			return i + 1;
	return 0;
}

static int set_why(const char **why, const char *msg)
{
	*why = msg;
	return -EINVAL;
}

/* "host[:port]" of n bytes into r (port default def). */
static int parse_authority(const char *a, size_t n, unsigned def, struct proxy_target *r,
			   const char **why)
{
	size_t hlen = n;
	unsigned long port = def;
	const char *colon = memchr(a, ':', n);

	if (memchr(a, '@', n))
		return set_why(why, "credentials in the proxy target are not supported");
	if (n > 0 && a[0] == '[')
		return set_why(why, "IPv6 literals are not supported by the proxy");
	if (colon) {
		hlen = (size_t)(colon - a);
		port = 0;
		if (colon + 1 == a + n)
			return set_why(why, "empty port");
		for (const char *q = colon + 1; q < a + n; q++) {
			if (*q < '0' || *q > '9' || port > 65535)
				return set_why(why, "bad port");
			port = port * 10 + (unsigned long)(*q - '0');
		}
	}
	if (port == 0 || port > 65535)
		return set_why(why, "port out of range");
	if (hlen == 0 || hlen > WIRE_NET_HOST_MAX)
		return set_why(why, "bad host length");
	for (size_t i = 0; i < hlen; i++) {
		char c = a[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == '_'))
			return set_why(why, "bad character in host");
		r->host[i] = c;
	}
	r->host[hlen] = '\0';
	r->port = (uint16_t)port;
	return 0;
}

int proxy_req_parse(const uint8_t *head, size_t n, struct proxy_target *r, const char **why)
{
	const char *p = (const char *)head, *end = memchr(p, '\r', n), *sp1, *sp2;
	size_t line;

	*why = "";
	if (!end)
		return set_why(why, "no request line");
	line = (size_t)(end - p);
	sp1 = memchr(p, ' ', line);
	if (!sp1)
		return set_why(why, "malformed request line");
	sp2 = memchr(sp1 + 1, ' ', line - (size_t)(sp1 + 1 - p));
	if (!sp2 || sp2 == sp1 + 1)
		return set_why(why, "malformed request line");
	if ((size_t)(end - sp2) < 9 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return set_why(why, "not an HTTP/1.x request");
	if (sp1 - p == 7 && memcmp(p, "CONNECT", 7) == 0) {
		r->kind = WIRE_NET_CONNECT;
		if (!memchr(sp1 + 1, ':', (size_t)(sp2 - sp1 - 1)))
			return set_why(why, "CONNECT needs host:port");
		return parse_authority(sp1 + 1, (size_t)(sp2 - sp1 - 1), 0, r, why);
	}
	for (const char *q = p; q < sp1; q++)
		if (*q < 'A' || *q > 'Z')
			return set_why(why, "malformed method");
	if ((size_t)(sp2 - sp1 - 1) >= 7 && strncasecmp(sp1 + 1, "http://", 7) == 0) {
		const char *a = sp1 + 8, *ae = a;

		while (ae < sp2 && *ae != '/' && *ae != '?' && *ae != '#')
			ae++;
		r->kind = WIRE_NET_HTTP;
		return parse_authority(a, (size_t)(ae - a), 80, r, why);
	}
	if ((size_t)(sp2 - sp1 - 1) >= 8 && strncasecmp(sp1 + 1, "https://", 8) == 0)
		return set_why(why, "use CONNECT for https:// (set HTTPS_PROXY)");
	return set_why(why, "this is a proxy: send CONNECT or an absolute http:// URI");
}
