/*
 * egress_cfg: parsers for the --egress-allow-addr and --egress-resolve flags and the lookups
 * egress.c makes in them (egress_cfg.h). Pure: no I/O, no allocation.
 */
#include "egress_cfg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int egress_cidr_parse(const char *s, struct egress_cidr *ret, struct errmsg *reterr)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long bits;
	char *end;

	memset(ret, 0, sizeof(*ret));
	if (alen == 0 || alen >= sizeof(tmp))
		return errmsg_set(reterr, -EINVAL, "--egress-allow-addr: expected ADDR[/BITS]");
	memcpy(tmp, s, alen);
	tmp[alen] = '\0';
	if (inet_pton(AF_INET, tmp, ret->addr) == 1)
		ret->family = AF_INET;
	else if (inet_pton(AF_INET6, tmp, ret->addr) == 1)
		ret->family = AF_INET6;
	else
		return errmsg_set(reterr, -EINVAL, "--egress-allow-addr: '%.64s' is not an IP address",
				  tmp);
	ret->bits = ret->family == AF_INET ? 32 : 128;
	if (slash) {
		errno = 0;
		bits = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || errno || bits > ret->bits)
			return errmsg_set(reterr, -EINVAL, "--egress-allow-addr: bad prefix length in "
					  "'%.64s'", s);
		ret->bits = (unsigned)bits;
	}
	return 0;
}

static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

bool egress_cidr_contains(const struct egress_cidr *c, const struct sockaddr *sa)
{
	if (sa->sa_family != c->family)
		return false;
	if (c->family == AF_INET)
		return prefix_eq(c->addr,
				 (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)
					 ->sin_addr,
				 c->bits);
	return prefix_eq(c->addr,
			 ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr,
			 c->bits);
}

int egress_resolve_parse(const char *s, struct egress_resolve *ret, struct errmsg *reterr)
{
	const char *eq = strchr(s, '=');
	size_t nlen = eq ? (size_t)(eq - s) : 0;

	memset(ret, 0, sizeof(*ret));
	if (!eq || nlen == 0 || nlen > EGRESS_NAME_MAX)
		return errmsg_set(reterr, -EINVAL, "--egress-resolve: expected NAME=IP");
	for (size_t i = 0; i < nlen; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == '_'))
			return errmsg_set(reterr, -EINVAL,
					  "--egress-resolve: the name holds a character other than "
					  "[A-Za-z0-9._-]");
		ret->name[i] = c;
	}
	ret->name[nlen] = '\0';
	if (inet_pton(AF_INET, eq + 1,
		      &((struct sockaddr_in *)(void *)&ret->addr)->sin_addr) == 1) {
		ret->addr.ss_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, eq + 1,
		      &((struct sockaddr_in6 *)(void *)&ret->addr)->sin6_addr) == 1) {
		ret->addr.ss_family = AF_INET6;
		return 0;
	}
	return errmsg_set(reterr, -EINVAL, "--egress-resolve %.*s: '%.64s' is not an IP address",
			  (int)(nlen > 64 ? 64 : nlen), s, eq + 1);
}

int egress_cfg_add(struct egress_cfg *cfg, const char *which, const char *value,
		   struct errmsg *reterr)
{
	if (strcmp(which, "egress-allow-addr") == 0) {
		if (cfg->nallow >= EGRESS_ALLOW_ADDR_MAX)
			return errmsg_set(reterr, -E2BIG, "--egress-allow-addr: more than %d ranges",
					  EGRESS_ALLOW_ADDR_MAX);
		if (egress_cidr_parse(value, &cfg->allow[cfg->nallow], reterr) < 0)
			return -EINVAL;
		cfg->nallow++;
		return 0;
	}
	if (strcmp(which, "egress-resolve") == 0) {
		struct egress_resolve r;

		if (egress_resolve_parse(value, &r, reterr) < 0)
			return -EINVAL;
		for (unsigned i = 0; i < cfg->nresolve; i++) {
			if (strcmp(cfg->resolve[i].name, r.name) == 0) {
				cfg->resolve[i] = r;	/* the later one wins */
				return 0;
			}
		}
		if (cfg->nresolve >= EGRESS_RESOLVE_MAX)
			return errmsg_set(reterr, -E2BIG, "--egress-resolve: more than %d names",
					  EGRESS_RESOLVE_MAX);
		cfg->resolve[cfg->nresolve++] = r;
		return 0;
	}
	return errmsg_set(reterr, -EINVAL, "unknown egress option '%s'", which);
}

const struct sockaddr_storage *egress_cfg_lookup(const struct egress_cfg *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->nresolve; i++)
		if (strcmp(cfg->resolve[i].name, name) == 0)
			return &cfg->resolve[i].addr;
	return NULL;
}

bool egress_cfg_addr_allowed(const struct egress_cfg *cfg, const struct sockaddr *sa)
{
	for (unsigned i = 0; i < cfg->nallow; i++)
		if (egress_cidr_contains(&cfg->allow[i], sa))
			return true;
	return false;
}
