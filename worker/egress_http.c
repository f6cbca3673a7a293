/*
 * egress_http: the request side of a plain-HTTP egress stream (net_open kind http), parsed
 * strictly as HTTP/1.x and rewritten for the origin server. Each request head (≤
 * EGRESS_HTTP_HEAD_MAX) must name the stream's host: an absolute-form target's authority and
 * the one Host header must both equal the host (and port) the stream was opened for, so a
 * keep-alive stream cannot switch to another site. The target becomes origin-form, the proxy's
 * own headers (Proxy-Connection, Proxy-Authorization) are dropped, then the credential hook
 * (egress_http_hook_headers) may add headers. Bodies pass through by Content-Length or chunked
 * framing (parsed, so the next head is found); anything else — both framings, another
 * Transfer-Encoding, obs-fold, bare LF, Upgrade, CONNECT inside the stream — is refused. Pure:
 * no I/O; responses are not parsed (they flow back untouched).
 */
#include "egress.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HTTP_CHUNK_LINE_MAX 1024

void egress_http_init(struct egress_http *h, const char *host, uint16_t port)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->host, sizeof(h->host), "%s", host);
	h->port = port;
	buf_init(&h->head, EGRESS_HTTP_HEAD_MAX);
}

void egress_http_free(struct egress_http *h)
{
	buf_free(&h->head);
}

/* Credential injection point (not used yet): called once per request after the client's
 * headers were copied to out, before the blank line. A later version appends e.g.
 * "Authorization: Bearer ..." for hosts the operator configured; the token never reaches the
 * guest. Return 0 or -errno (the stream is then closed). */
int egress_http_hook_headers(const char *host, uint16_t port, struct buf *out)
{
	(void)host;
	(void)port;
	(void)out;
	return 0;
}

static int refuse(char *why, size_t whysz, int err, const char *fmt, const char *arg)
{
	snprintf(why, whysz, fmt, arg);
	return err;
}

static bool tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* "host[:port]" (n bytes) names h's host and port (port omitted = 80). */
static bool authority_is(const struct egress_http *h, const char *a, size_t n)
{
	const char *colon = memchr(a, ':', n);
	size_t hlen = colon ? (size_t)(colon - a) : n;
	unsigned long port = 80;

	if (colon) {
		port = 0;
		if (colon + 1 == a + n)
			return false;
		for (const char *q = colon + 1; q < a + n; q++) {
			if (*q < '0' || *q > '9' || port > 65535)
				return false;
			port = port * 10 + (unsigned long)(*q - '0');
		}
	}
	return port == h->port && hlen == strlen(h->host) && strncasecmp(a, h->host, hlen) == 0;
}

static void show(char *out, size_t n, const char *s, size_t len)
{
	size_t k = 0;

	for (size_t i = 0; i < len && k + 4 < n && i < 80; i++)
		out[k++] = (s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	out[k] = '\0';
}

/* One complete head (without the final CRLF CRLF, hlen bytes) → out. */
static int do_head(struct egress_http *h, const char *p, size_t hlen, struct buf *out, char *why,
		   size_t whysz)
{
	const char *eol = memmem(p, hlen, "\r\n", 2), *sp1, *sp2, *target, *line, *end = p + hlen;
	size_t tlen, nhost = 0, ncl = 0;
	bool chunked = false, http10;
	char shown[96];
	uint64_t cl = 0;
	int r;

	if (!eol)
		eol = end;
	sp1 = memchr(p, ' ', (size_t)(eol - p));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (!sp1 || !sp2 || sp1 == p || sp2 == sp1 + 1 || eol - sp2 != 9 ||
	    (memcmp(sp2 + 1, "HTTP/1.1", 8) && memcmp(sp2 + 1, "HTTP/1.0", 8)))
		return refuse(why, whysz, -EPROTO, "malformed HTTP request line%s", "");
	http10 = sp2[8] == '0';
	for (const char *q = p; q < sp1; q++)
		if (!tchar(*q))
			return refuse(why, whysz, -EPROTO, "malformed HTTP method%s", "");
	if (sp1 - p == 7 && memcmp(p, "CONNECT", 7) == 0)
		return refuse(why, whysz, -EPERM, "CONNECT inside a plain HTTP stream%s", "");
	target = sp1 + 1;
	tlen = (size_t)(sp2 - target);
	for (size_t i = 0; i < tlen; i++)
		if ((unsigned char)target[i] <= 0x20 || target[i] == 0x7f)
			return refuse(why, whysz, -EPROTO, "bad request target%s", "");
	if (tlen >= 7 && strncasecmp(target, "http://", 7) == 0) {
		const char *a = target + 7, *ae = a;

		while (ae < sp2 && *ae != '/' && *ae != '?' && *ae != '#')
			ae++;
		if (!authority_is(h, a, (size_t)(ae - a))) {
			show(shown, sizeof(shown), a, (size_t)(ae - a));
			return refuse(why, whysz, -EPERM,
				      "request for '%s' on a stream opened for another host", shown);
		}
		tlen = (size_t)(sp2 - ae);
		target = ae;
	} else if (tlen == 0 || target[0] != '/') {
		return refuse(why, whysz, -EPROTO, "request target must be http://... or /...%s",
			      "");
	}
	/* request line, origin-form */
	r = buf_append(out, p, (size_t)(sp1 - p) + 1);
	if (!r && (tlen == 0 || target[0] != '/'))
		r = buf_append(out, "/", 1);
	if (!r)
		r = buf_append(out, target, tlen);
	if (!r)
		r = buf_append(out, sp2, (size_t)(eol - sp2));
	if (!r)
		r = buf_append(out, "\r\n", 2);
	for (line = eol + 2; !r && line < end; ) {
		const char *le = memmem(line, (size_t)(end - line), "\r\n", 2), *colon, *v, *ve;
		size_t nlen;

		if (!le)
			le = end;
		if (*line == ' ' || *line == '\t')
			return refuse(why, whysz, -EPROTO, "folded header line%s", "");
		if (memchr(line, '\n', (size_t)(le - line)) || memchr(line, '\r', (size_t)(le - line)) ||
		    memchr(line, '\0', (size_t)(le - line)))
			return refuse(why, whysz, -EPROTO, "bare CR/LF or NUL in a header%s", "");
		colon = memchr(line, ':', (size_t)(le - line));
		if (!colon || colon == line)
			return refuse(why, whysz, -EPROTO, "malformed header line%s", "");
		nlen = (size_t)(colon - line);
		for (size_t i = 0; i < nlen; i++)
			if (!tchar(line[i]))
				return refuse(why, whysz, -EPROTO, "bad header name%s", "");
		v = colon + 1;
		ve = le;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
#define IS(name) (nlen == sizeof(name) - 1 && strncasecmp(line, name, nlen) == 0)
		if (IS("Host")) {
			if (++nhost > 1)
				return refuse(why, whysz, -EPERM, "two Host headers%s", "");
			if (!authority_is(h, v, (size_t)(ve - v))) {
				show(shown, sizeof(shown), v, (size_t)(ve - v));
				return refuse(why, whysz, -EPERM,
					      "Host '%s' on a stream opened for another host", shown);
			}
		} else if (IS("Content-Length")) {
			uint64_t x = 0;

			if (v == ve || ve - v > 15)
				return refuse(why, whysz, -EPROTO, "bad Content-Length%s", "");
			for (const char *q = v; q < ve; q++) {
				if (*q < '0' || *q > '9')
					return refuse(why, whysz, -EPROTO, "bad Content-Length%s", "");
				x = x * 10 + (uint64_t)(*q - '0');
			}
			if (ncl++ && x != cl)
				return refuse(why, whysz, -EPROTO, "conflicting Content-Length%s", "");
			cl = x;
		} else if (IS("Transfer-Encoding")) {
			if ((size_t)(ve - v) != 7 || strncasecmp(v, "chunked", 7) != 0 || chunked)
				return refuse(why, whysz, -EPROTO,
					      "Transfer-Encoding other than one 'chunked'%s", "");
			chunked = true;
		} else if (IS("Upgrade")) {
			return refuse(why, whysz, -EPERM, "Upgrade is not supported by the proxy%s",
				      "");
		} else if (IS("Proxy-Connection") || IS("Proxy-Authorization")) {
			line = le + 2;
			continue;	/* for the proxy, not the origin */
		}
#undef IS
		r = buf_append(out, line, (size_t)(le - line));
		if (!r)
			r = buf_append(out, "\r\n", 2);
		line = le + 2;
	}
	if (r)
		return refuse(why, whysz, -ENOBUFS, "request too large for the buffer%s", "");
	if (nhost == 0 && !http10)
		return refuse(why, whysz, -EPERM, "request without a Host header%s", "");
	if (chunked && ncl)
		return refuse(why, whysz, -EPROTO, "both Content-Length and chunked%s", "");
	r = egress_http_hook_headers(h->host, h->port, out);
	if (!r)
		r = buf_append(out, "\r\n", 2);
	if (r)
		return refuse(why, whysz, -ENOBUFS, "request too large for the buffer%s", "");
	h->requests++;
	h->st = chunked ? EH_CHUNK_SIZE : cl ? EH_BODY : EH_HEAD;
	h->left = cl;
	return 0;
}

/* One chunk-size line (without CRLF). */
static int chunk_size(const char *p, size_t n, uint64_t *ret)
{
	uint64_t x = 0;
	size_t i = 0;

	for (; i < n && i < 15; i++) {
		char c = p[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			break;
		x = x * 16 + d;
	}
	if (i == 0 || (i < n && p[i] != ';' && p[i] != ' ' && p[i] != '\t'))
		return -EPROTO;
	*ret = x;
	return 0;
}

int egress_http_feed(struct egress_http *h, const uint8_t *data, size_t n, struct buf *out,
		     char *why, size_t whysz)
{
	const char *p = (const char *)data;
	int r;

	while (n > 0) {
		size_t k;

		switch (h->st) {
		case EH_BODY:
		case EH_CHUNK_DATA:
			k = n < h->left ? n : (size_t)h->left;
			if (buf_append(out, p, k) < 0)
				return refuse(why, whysz, -ENOBUFS, "buffer full%s", "");
			p += k;
			n -= k;
			h->left -= k;
			if (h->left == 0)
				h->st = h->st == EH_BODY ? EH_HEAD : EH_CHUNK_CRLF;
			continue;
		default:
			break;
		}
		/* line-oriented states: take one byte at a time into head */
		if (buf_append(&h->head, p, 1) < 0)
			return refuse(why, whysz, -EMSGSIZE, "request head over %s bytes",
				      h->st == EH_HEAD ? "16384" : "1024");
		p++;
		n--;
		if (h->st == EH_HEAD) {
			size_t len = h->head.len;

			if (len == 2 && memcmp(h->head.data, "\r\n", 2) == 0) {
				buf_reset(&h->head);	/* a stray CRLF between requests */
				continue;
			}
			if (len < 4 || memcmp(h->head.data + len - 4, "\r\n\r\n", 4) != 0)
				continue;
			r = do_head(h, (const char *)h->head.data, len - 4, out, why, whysz);
			buf_reset(&h->head);
			if (r < 0)
				return r;
			continue;
		}
		if (h->head.len < 2 || memcmp(h->head.data + h->head.len - 2, "\r\n", 2) != 0) {
			if (h->head.len > HTTP_CHUNK_LINE_MAX)
				return refuse(why, whysz, -EPROTO, "chunk line too long%s", "");
			continue;
		}
		/* a whole line in the chunked framing: pass it on as is */
		if (buf_append(out, h->head.data, h->head.len) < 0)
			return refuse(why, whysz, -ENOBUFS, "buffer full%s", "");
		if (h->st == EH_CHUNK_CRLF) {
			if (h->head.len != 2)
				return refuse(why, whysz, -EPROTO, "chunk not followed by CRLF%s", "");
			h->st = EH_CHUNK_SIZE;
		} else if (h->st == EH_CHUNK_SIZE) {
			uint64_t sz;

			if (chunk_size((const char *)h->head.data, h->head.len - 2, &sz) < 0)
				return refuse(why, whysz, -EPROTO, "bad chunk size%s", "");
			h->left = sz;
			h->st = sz ? EH_CHUNK_DATA : EH_TRAILER;
		} else if (h->head.len == 2) {	/* EH_TRAILER: blank line ends the request */
			h->st = EH_HEAD;
		}
		buf_reset(&h->head);
	}
	return 0;
}
