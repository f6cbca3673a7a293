/*
 * redis_keys: formats the Redis key names of a queue. Pure string work; it never talks to Redis.
 */
#include "redis_keys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int prefix_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f)
			return 0;
		if (c == '{' || c == '}')
			return 0;
	}
	return 1;
}

static int queue_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > REDIS_KEYS_QUEUE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int redis_keys_init(struct redis_keys *k, const char *prefix, const char *queue,
		    struct errmsg *reterr)
{
	if (!prefix_ok(prefix, REDIS_KEYS_PREFIX_MAX))
		return errmsg_set(reterr, -EINVAL,
				  "prefix: up to %d printable characters without spaces or braces",
				  REDIS_KEYS_PREFIX_MAX);
	if (!queue_ok(queue))
		return errmsg_set(reterr, -EINVAL, "queue: 1 to %d characters of [A-Za-z0-9._-]",
				  REDIS_KEYS_QUEUE_MAX);
	snprintf(k->base, sizeof(k->base), "%s{%s}:", prefix, queue);
	snprintf(k->jobs, sizeof(k->jobs), "%sjobs", k->base);
	snprintf(k->dead, sizeof(k->dead), "%sdead", k->base);
	return 0;
}

void redis_keys_out(const struct redis_keys *k, const char *job, char out[REDIS_KEYS_NAME_MAX])
{
	snprintf(out, REDIS_KEYS_NAME_MAX, "%sout:%s", k->base, job);
}

void redis_keys_result(const struct redis_keys *k, const char *job,
		       char out[REDIS_KEYS_NAME_MAX])
{
	snprintf(out, REDIS_KEYS_NAME_MAX, "%sresult:%s", k->base, job);
}
