/*
 * policy: which repository URLs Corral may fetch, as pure functions (no I/O) shared by
 * corral-fetch (which checks before any network use) and worker/repo.c (which checks before it
 * spawns anything). https:// is always allowed; every other transport (http, git, ssh, file, a
 * local path) only when an allow pattern (fnmatch(3), no flags, over the whole URL) matches.
 * Credentials inside a URL are refused whatever the patterns say. A host that is an address
 * literal is classified here; a name is resolved by policy_check_host() (policy_dns.c), which
 * blocks, so only corral-fetch calls it. Loopback, private, link-local, unspecified, multicast
 * and reserved addresses are refused unless an allow pattern matched the URL.
 * Messages are one line starting "repo: ".
 */
#ifndef CORRAL_FETCH_POLICY_H
#define CORRAL_FETCH_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "errmsg.h"

#define POLICY_URL_MAX 2048
#define POLICY_HOST_MAX 253
#define POLICY_ALLOW_MAX 64		/* allow patterns */
#define POLICY_SHOW_MAX 120		/* bytes of an untrusted string quoted in a message */

enum url_scheme { URL_HTTPS, URL_HTTP, URL_GIT, URL_SSH, URL_FILE, URL_LOCAL };

struct url_parts {
	enum url_scheme scheme;
	bool has_user;			/* "user@" present */
	bool has_password;		/* "user:pass@" present */
	char host[POLICY_HOST_MAX + 1];	/* without brackets; "" for file:// and local paths */
	unsigned port;			/* 0 = the scheme's default */
};

enum addr_class {
	ADDR_PUBLIC,
	ADDR_LOOPBACK,
	ADDR_PRIVATE,		/* RFC 1918, 100.64/10, fc00::/7, fec0::/10 */
	ADDR_LINKLOCAL,		/* 169.254/16 (cloud metadata), fe80::/10 */
	ADDR_UNSPECIFIED,	/* 0.0.0.0/8, :: */
	ADDR_MULTICAST,		/* 224/4, ff00::/8 */
	ADDR_RESERVED,		/* 240/4, broadcast, benchmarking, documentation, ::/96 */
};

/* Splits url into its parts. 0, -EINVAL (malformed, control bytes or spaces, '%' in the host),
 * -EMSGSIZE (too long), -EPROTONOSUPPORT (unknown scheme). */
int policy_url_parse(const char *url, struct url_parts *u, struct errmsg *reterr);

/* Whole-URL fnmatch against the patterns: true when one matches. */
bool policy_allow_match(const char *const *allow, size_t nallow, const char *url);

/* The full decision without DNS. 0 = allowed so far; *need_dns is then true when the host is a
 * name that must still go through policy_check_host(). -EPERM refused by policy (credentials in
 * the URL, transport not allowed, non-public address literal), or the errors of
 * policy_url_parse(). u (may be NULL) gets the parsed URL. */
int policy_check_url(const char *const *allow, size_t nallow, const char *url,
		     struct url_parts *u, bool *need_dns, struct errmsg *reterr);

/* Class of an AF_INET/AF_INET6 address (IPv4-mapped and NAT64 IPv6 by their IPv4 part). Any
 * other family is ADDR_RESERVED. */
enum addr_class policy_addr_classify(const struct sockaddr *sa);
const char *policy_addr_class_name(enum addr_class c);

/* Copies an untrusted string into out (size n) for a message: control bytes become '?', cut at
 * POLICY_SHOW_MAX with "...". Returns out. */
char *policy_show(char *out, size_t n, const char *s);

/* policy_dns.c: resolves host (blocking) and refuses it unless every address is public.
 * 0, -EPERM (a non-public address, named in reterr), -ENOENT (no such host), -EAGAIN (resolver
 * failure that a retry may fix). */
int policy_check_host(const char *host, struct errmsg *reterr);

#endif
