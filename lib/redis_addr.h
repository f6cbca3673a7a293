/*
 * redis_addr: parses the one Redis address contract shared by corrald, corral and the tools:
 * `--redis ADDR` or $CORRAL_REDIS, as `redis://host:port` or `unix:///path/to/socket`,
 * defaulting to the demo's socket `<checkout>/run/redis.sock`. Parsing only: no sockets here.
 */
#ifndef CORRAL_REDIS_ADDR_H
#define CORRAL_REDIS_ADDR_H

#include "errmsg.h"

#define REDIS_ADDR_MAX 512

struct redis_addr {
	int is_unix;
	char path[REDIS_ADDR_MAX];	/* unix socket path */
	char host[256];
	int port;
};

/* Parses s. 0, or -EINVAL with reterr naming what is wrong. */
int redis_addr_parse(const char *s, struct redis_addr *out, struct errmsg *reterr);

/* Picks the address: flag if non-NULL, else $CORRAL_REDIS, else the default socket of the demo,
 * CORRAL_DEFAULT_REDIS (compiled in: <source dir>/run/redis.sock). */
int redis_addr_resolve(const char *flag, struct redis_addr *out, struct errmsg *reterr);

#endif
