/*
 * egress_cfg: the worker-wide egress proxy settings (corrald --egress-* flags) and their pure
 * parsers: CIDR ranges that may be connected to although not public (--egress-allow-addr, for
 * tests), fixed name → address answers (--egress-resolve NAME=IP, like curl --resolve), the
 * per-job byte cap and the idle timeout. No I/O: config.c calls it, unit tests drive it.
 */
#ifndef CORRALD_EGRESS_CFG_H
#define CORRALD_EGRESS_CFG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "errmsg.h"

#define EGRESS_ALLOW_ADDR_MAX 16
#define EGRESS_RESOLVE_MAX 64
#define EGRESS_NAME_MAX 253
#define EGRESS_MAX_BYTES_DEFAULT (1ull << 30)	/* 1 GiB per job, both directions */
#define EGRESS_MAX_BYTES_LIMIT (1ull << 40)
#define EGRESS_IDLE_DEFAULT_S 300u
#define EGRESS_IDLE_MAX_S 86400u

struct egress_cidr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network byte order; 4 used for AF_INET */
	unsigned bits;
};

struct egress_resolve {
	char name[EGRESS_NAME_MAX + 1];	/* lower-case */
	struct sockaddr_storage addr;	/* port 0 */
};

struct egress_cfg {
	struct egress_cidr allow[EGRESS_ALLOW_ADDR_MAX];
	unsigned nallow;
	struct egress_resolve resolve[EGRESS_RESOLVE_MAX];
	unsigned nresolve;
	uint64_t max_bytes;	/* per job; 0 = EGRESS_MAX_BYTES_DEFAULT */
	unsigned idle_s;	/* a stream with no bytes either way this long is closed; 0 = default */
};

/* Parses "ADDR[/BITS]" (IPv4 or IPv6; no /BITS = one address). 0 or -EINVAL with reterr. */
int egress_cidr_parse(const char *s, struct egress_cidr *ret, struct errmsg *reterr);
/* True when sa (AF_INET/AF_INET6) lies in c. */
bool egress_cidr_contains(const struct egress_cidr *c, const struct sockaddr *sa);
/* Parses "NAME=IP". 0 or -EINVAL with reterr. */
int egress_resolve_parse(const char *s, struct egress_resolve *ret, struct errmsg *reterr);
/* Adds one flag's value to cfg: which is "egress-allow-addr" or "egress-resolve". 0 or -EINVAL
 * with reterr naming the flag (-E2BIG: too many). */
int egress_cfg_add(struct egress_cfg *cfg, const char *which, const char *value,
		   struct errmsg *reterr);
/* The fixed answer for name (lower-case), or NULL. */
const struct sockaddr_storage *egress_cfg_lookup(const struct egress_cfg *cfg, const char *name);
/* True when sa is in one of the --egress-allow-addr ranges. */
bool egress_cfg_addr_allowed(const struct egress_cfg *cfg, const struct sockaddr *sa);

#endif
