/*
 * policy: pure URL policy (see policy.h). Parses the URL forms libgit2 accepts (scheme://,
 * scp-like "user@host:path", local paths), decides with the allow patterns, and classifies
 * address literals. No I/O, no allocation: corral-fetch and worker/repo.c both call it, and the
 * unit tests drive it directly. It must stay conservative: anything it does not understand is
 * refused, never guessed at.
 */
#include "policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	enum url_scheme scheme;
} schemes[] = {
	{ "https", URL_HTTPS }, { "http", URL_HTTP },	{ "git", URL_GIT },
	{ "ssh", URL_SSH },	{ "git+ssh", URL_SSH }, { "ssh+git", URL_SSH },
	{ "file", URL_FILE },
};

static const char *const scheme_names[] = {
	[URL_HTTPS] = "https", [URL_HTTP] = "http", [URL_GIT] = "git",
	[URL_SSH] = "ssh",     [URL_FILE] = "file", [URL_LOCAL] = "local path",
};

char *policy_show(char *out, size_t n, const char *s)
{
	size_t i, len = strlen(s), cut = len > POLICY_SHOW_MAX ? POLICY_SHOW_MAX : len;

	if (n == 0)
		return out;
	if (cut > n - 4)
		cut = n > 4 ? n - 4 : 0;
	for (i = 0; i < cut; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (cut < len && n >= 4) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

static bool host_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_';
}

/* host[:port] or [v6][:port] from an authority without userinfo. */
static int parse_hostport(const char *p, size_t n, struct url_parts *u, struct errmsg *reterr)
{
	size_t hlen;
	const char *h = p, *rest;

	if (n > 0 && p[0] == '[') {
		const char *end = memchr(p, ']', n);

		if (!end)
			return errmsg_set(reterr, -EINVAL, "repo: malformed IPv6 host in URL");
		h = p + 1;
		hlen = (size_t)(end - h);
		for (size_t i = 0; i < hlen; i++) {
			char c = h[i];

			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			      (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
				return errmsg_set(reterr, -EINVAL, "repo: malformed IPv6 host in URL");
		}
		rest = end + 1;
	} else {
		const char *colon = memchr(p, ':', n);

		hlen = colon ? (size_t)(colon - p) : n;
		for (size_t i = 0; i < hlen; i++) {
			if (!host_char_ok(p[i]))
				return errmsg_set(reterr, -EINVAL,
						  "repo: bad character in the URL's host");
		}
		rest = p + hlen;
	}
	if (hlen == 0)
		return errmsg_set(reterr, -EINVAL, "repo: URL has no host");
	if (hlen > POLICY_HOST_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "repo: URL host longer than %d bytes",
				  POLICY_HOST_MAX);
	memcpy(u->host, h, hlen);
	u->host[hlen] = '\0';
	if (rest < p + n) {
		unsigned long port = 0;

		if (*rest != ':' || rest + 1 == p + n)
			return errmsg_set(reterr, -EINVAL, "repo: malformed port in URL");
		for (rest++; rest < p + n; rest++) {
			if (*rest < '0' || *rest > '9' || port > 65535)
				return errmsg_set(reterr, -EINVAL, "repo: malformed port in URL");
			port = port * 10 + (unsigned long)(*rest - '0');
		}
		if (port == 0 || port > 65535)
			return errmsg_set(reterr, -EINVAL, "repo: port out of range in URL");
		u->port = (unsigned)port;
	}
	return 0;
}

/* Splits "userinfo@hostport"; the userinfo is never kept, only whether it had a password. */
static int parse_authority(const char *p, size_t n, struct url_parts *u, struct errmsg *reterr)
{
	const char *at = NULL;

	for (size_t i = 0; i < n; i++)
		if (p[i] == '@')
			at = p + i;
	if (at) {
		u->has_user = true;
		u->has_password = memchr(p, ':', (size_t)(at - p)) != NULL;
		n -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	return parse_hostport(p, n, u, reterr);
}

static int parse_scheme_url(const char *url, const char *sep, struct url_parts *u,
			    struct errmsg *reterr)
{
	size_t slen = (size_t)(sep - url), i;
	const char *auth = sep + 3, *end;
	char shown[16];

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (strlen(schemes[i].name) == slen && strncasecmp(url, schemes[i].name, slen) == 0)
			break;
	}
	if (i == sizeof(schemes) / sizeof(schemes[0])) {
		snprintf(shown, sizeof(shown), "%.*s", (int)(slen < 12 ? slen : 12), url);
		return errmsg_set(reterr, -EPROTONOSUPPORT, "repo: unsupported URL scheme '%s'",
				  policy_show((char[32]){ 0 }, 32, shown));
	}
	u->scheme = schemes[i].scheme;
	end = auth + strcspn(auth, "/?#");
	if (u->scheme == URL_FILE) {
		if (end != auth && !(end - auth == 9 && strncasecmp(auth, "localhost", 9) == 0))
			return errmsg_set(reterr, -EINVAL, "repo: file:// URL with a remote host");
		return 0;
	}
	return parse_authority(auth, (size_t)(end - auth), u, reterr);
}

int policy_url_parse(const char *url, struct url_parts *u, struct errmsg *reterr)
{
	size_t len = strnlen(url, POLICY_URL_MAX + 1);
	const char *sep, *colon, *slash;

	memset(u, 0, sizeof(*u));
	if (len == 0)
		return errmsg_set(reterr, -EINVAL, "repo: empty URL");
	if (len > POLICY_URL_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "repo: URL longer than %d bytes",
				  POLICY_URL_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)url[i];

		if (c <= 0x20 || c == 0x7f)
			return errmsg_set(reterr, -EINVAL,
					  "repo: URL contains a space or control byte");
	}
	if (url[0] == '-')
		return errmsg_set(reterr, -EINVAL, "repo: URL starts with '-'");
	sep = strstr(url, "://");
	slash = strchr(url, '/');
	if (sep && (!slash || sep < slash))
		return parse_scheme_url(url, sep, u, reterr);
	/* scp-like "[user@]host:path": a ':' before any '/' (what git and libgit2 treat as ssh). */
	colon = strchr(url, ':');
	if (colon && (!slash || colon < slash)) {
		u->scheme = URL_SSH;
		return parse_authority(url, (size_t)(colon - url), u, reterr);
	}
	u->scheme = URL_LOCAL;
	return 0;
}

bool policy_allow_match(const char *const *allow, size_t nallow, const char *url)
{
	for (size_t i = 0; i < nallow && i < POLICY_ALLOW_MAX; i++) {
		if (allow[i] && fnmatch(allow[i], url, 0) == 0)
			return true;
	}
	return false;
}

static bool v4_in(uint32_t a, uint32_t net, unsigned bits)
{
	uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);

	return (a & mask) == (net & mask);
}

static enum addr_class classify_v4(uint32_t a)
{
	if (v4_in(a, 0x00000000, 8))
		return ADDR_UNSPECIFIED;
	if (v4_in(a, 0x7f000000, 8))
		return ADDR_LOOPBACK;
	if (v4_in(a, 0x0a000000, 8) || v4_in(a, 0xac100000, 12) || v4_in(a, 0xc0a80000, 16) ||
	    v4_in(a, 0x64400000, 10))
		return ADDR_PRIVATE;
	if (v4_in(a, 0xa9fe0000, 16))
		return ADDR_LINKLOCAL;
	if (v4_in(a, 0xe0000000, 4))
		return ADDR_MULTICAST;
	if (v4_in(a, 0xf0000000, 4) || v4_in(a, 0xc0000000, 24) || v4_in(a, 0xc6120000, 15) ||
	    v4_in(a, 0xc0000200, 24) || v4_in(a, 0xc6336400, 24) || v4_in(a, 0xcb007100, 24))
		return ADDR_RESERVED;	/* 240/4, broadcast, 192.0.0/24, 198.18/15, TEST-NETs */
	return ADDR_PUBLIC;
}

static enum addr_class classify_v6(const uint8_t *b)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t zero[16];
	uint32_t v4 = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];

	if (memcmp(b, zero, 16) == 0)
		return ADDR_UNSPECIFIED;
	if (memcmp(b, zero, 15) == 0 && b[15] == 1)
		return ADDR_LOOPBACK;
	if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
		return classify_v4(v4);
	if (memcmp(b, zero, 12) == 0)
		return ADDR_RESERVED;	/* IPv4-compatible, deprecated */
	if ((b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0))
		return ADDR_PRIVATE;	/* fc00::/7, fec0::/10 */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return ADDR_LINKLOCAL;
	if (b[0] == 0xff)
		return ADDR_MULTICAST;
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
		return ADDR_RESERVED;	/* documentation */
	return ADDR_PUBLIC;
}

enum addr_class policy_addr_classify(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		return classify_v4(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		return classify_v6(in6->sin6_addr.s6_addr);
	}
	return ADDR_RESERVED;
}

const char *policy_addr_class_name(enum addr_class c)
{
	switch (c) {
	case ADDR_PUBLIC:
		return "public";
	case ADDR_LOOPBACK:
		return "loopback";
	case ADDR_PRIVATE:
		return "private";
	case ADDR_LINKLOCAL:
		return "link-local";
	case ADDR_UNSPECIFIED:
		return "unspecified";
	case ADDR_MULTICAST:
		return "multicast";
	case ADDR_RESERVED:
		break;
	}
	return "reserved";
}

/* A literal host: 1 and *ret set, 0 when host is a name. */
static int literal_class(const char *host, enum addr_class *ret)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };

	if (inet_pton(AF_INET, host, &in.sin_addr) == 1) {
		*ret = policy_addr_classify((struct sockaddr *)&in);
		return 1;
	}
	if (inet_pton(AF_INET6, host, &in6.sin6_addr) == 1) {
		*ret = policy_addr_classify((struct sockaddr *)&in6);
		return 1;
	}
	return 0;
}

int policy_check_url(const char *const *allow, size_t nallow, const char *url,
		     struct url_parts *ret_u, bool *need_dns, struct errmsg *reterr)
{
	struct url_parts u;
	enum addr_class c;
	char shown[POLICY_SHOW_MAX + 4];
	int r;

	*need_dns = false;
	r = policy_url_parse(url, &u, reterr);
	if (r < 0)
		return r;
	if (ret_u)
		*ret_u = u;
	if (u.has_password || (u.has_user && u.scheme != URL_SSH))
		return errmsg_set(reterr, -EPERM,
				  "repo: URL must not carry credentials (use repo credentials)");
	if (policy_allow_match(allow, nallow, url))
		return 0;
	if (u.scheme != URL_HTTPS)
		return errmsg_set(reterr, -EPERM,
				  "repo: %s URL '%s' not allowed (only https://, or a URL matching "
				  "an allow pattern)",
				  scheme_names[u.scheme], policy_show(shown, sizeof(shown), url));
	if (literal_class(u.host, &c) && c != ADDR_PUBLIC)
		return errmsg_set(reterr, -EPERM, "repo: host '%s' is a %s address, not allowed",
				  policy_show(shown, sizeof(shown), u.host),
				  policy_addr_class_name(c));
	*need_dns = !literal_class(u.host, &c);
	return 0;
}
