/*
 * policy_dns: the blocking half of the URL policy: resolves a host name and refuses it unless
 * every address it resolves to is public. Only corral-fetch calls it (worker/repo.c must not
 * block its loop). libgit2 resolves the name again when it connects, so a hostile DNS server
 * can still answer differently the second time (DNS rebinding); fetch/README.md says so.
 */
#include "policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <string.h>

#define POLICY_ADDRS_MAX 64	/* addresses examined per name */

int policy_check_host(const char *host, struct errmsg *reterr)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL, *ai;
	char shown[POLICY_SHOW_MAX + 4], addr[INET6_ADDRSTRLEN];
	unsigned n = 0;
	int r;

	policy_show(shown, sizeof(shown), host);
	r = getaddrinfo(host, NULL, &hints, &res);
	if (r == EAI_NONAME || r == EAI_NODATA)
		return errmsg_set(reterr, -ENOENT, "repo: host '%s' not found", shown);
	if (r != 0)
		return errmsg_set(reterr, -EAGAIN, "repo: cannot resolve host '%s': %s", shown,
				  gai_strerror(r));
	r = 0;
	for (ai = res; ai && n < POLICY_ADDRS_MAX; ai = ai->ai_next, n++) {
		enum addr_class c = policy_addr_classify(ai->ai_addr);
		const void *a;

		if (c == ADDR_PUBLIC)
			continue;
		if (ai->ai_family == AF_INET)
			a = &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr;
		else if (ai->ai_family == AF_INET6)
			a = &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr;
		else
			a = NULL;
		if (!a || !inet_ntop(ai->ai_family, a, addr, sizeof(addr)))
			strcpy(addr, "?");
		r = errmsg_set(reterr, -EPERM,
			       "repo: host '%s' resolves to a %s address (%s), not allowed", shown,
			       policy_addr_class_name(c), addr);
		break;
	}
	freeaddrinfo(res);
	return r;
}
