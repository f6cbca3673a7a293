/*
 * redis_addr: address parsing for the Redis contract. No I/O.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "redis_addr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CORRAL_DEFAULT_REDIS
#define CORRAL_DEFAULT_REDIS "unix:///var/run/corral/redis.sock"
#endif

int redis_addr_parse(const char *s, struct redis_addr *out, struct errmsg *reterr)
{
	const char *hostport, *colon;
	char *end;
	long port = 6379;
	size_t hl;

	memset(out, 0, sizeof(*out));
	if (strncmp(s, "unix://", 7) == 0) {
		if (s[7] != '/')
			return errmsg_set(reterr, -EINVAL, "redis address '%.64s': unix path must be absolute", s);
		if (strlen(s + 7) >= sizeof(out->path))
			return errmsg_set(reterr, -EINVAL, "redis address: unix path longer than %zu", sizeof(out->path) - 1);
		out->is_unix = 1;
		strcpy(out->path, s + 7);
		return 0;
	}
	if (strncmp(s, "redis://", 8) != 0)
		return errmsg_set(reterr, -EINVAL,
				  "redis address '%.64s': expected redis://host:port or unix:///path", s);
	hostport = s + 8;
	colon = strrchr(hostport, ':');
	hl = colon ? (size_t)(colon - hostport) : strlen(hostport);
	if (hl == 0 || hl >= sizeof(out->host))
		return errmsg_set(reterr, -EINVAL, "redis address '%.64s': bad host", s);
	if (colon) {
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno || *end != '\0' || port <= 0 || port > 65535)
			return errmsg_set(reterr, -EINVAL, "redis address '%.64s': bad port", s);
	}
	memcpy(out->host, hostport, hl);
	out->host[hl] = '\0';
	out->port = (int)port;
	return 0;
}

int redis_addr_resolve(const char *flag, struct redis_addr *out, struct errmsg *reterr)
{
	const char *s = flag;

	if (!s || !*s)
		s = getenv("CORRAL_REDIS");
	if (!s || !*s)
		s = CORRAL_DEFAULT_REDIS;
	return redis_addr_parse(s, out, reterr);
}
