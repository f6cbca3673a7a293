/*
 * wire_limit: the names of the resource limits a job can hit (issue 6), shared by the result's
 * `limit` key and the EXIT frame's `limit` key. The agent can only report what it measures inside
 * the guest (memory, pids, disk); the worker adds what it enforces itself (time, output). It must
 * not decide which limit was hit: the agent and the worker do.
 */
#include <errno.h>
#include <string.h>

#include "wire.h"
#include "wire_internal.h"

/* Guest-reported names first: the frame accepts the first FRAME_LIMITS entries. */
static const char *const limit_names[] = { "", "memory", "pids", "disk", "time", "output" };
#define FRAME_LIMITS 4
#define ALL_LIMITS (sizeof(limit_names) / sizeof(limit_names[0]))

bool wire_limit_valid(const char *s, bool frame)
{
	size_t n = frame ? FRAME_LIMITS : ALL_LIMITS;

	for (size_t i = 0; s && i < n; i++)
		if (strcmp(s, limit_names[i]) == 0)
			return true;
	return false;
}

int wire_get_limit(const msgpack_object *o, const char *field, bool frame, char *dst,
		   struct errmsg *reterr)
{
	char name[WIRE_LIMIT_NAME_MAX + 1] = "";
	char q[64];
	const char *p;
	size_t len;
	int r;

	r = wire_get_strn(o, field, false, WIRE_REASON_MAX, &p, &len, reterr);
	if (r <= 0)
		return r;
	if (len < sizeof(name)) {
		memcpy(name, p, len);
		name[len] = '\0';
	}
	if (len >= sizeof(name) || !wire_limit_valid(name, frame)) {
		wire_quote(q, sizeof(q), p, len);
		return errmsg_set(reterr, -EINVAL, "%s: unknown limit %s (expected %s)", field, q,
				  frame ? "memory, pids or disk" :
					  "time, memory, pids, disk or output");
	}
	memcpy(dst, name, len + 1);
	return 1;
}
