/*
 * limits_calc: the pure half of the per-exec resource limits (limits.c does the I/O). It reads
 * one counter out of a cgroup "key value" events file (memory.events, pids.events) and decides,
 * from the counters an exec left behind, which limit it hit: memory (the OOM killer killed one of
 * its processes), pids (a fork or clone was refused at pids.max) or disk (the writable layer is
 * full). It must not touch files, the clock or memory allocation, so tests/unit/agent can check
 * every decision. limits_nproc() picks RLIMIT_NPROC the same way; limits_thrash_step() decides
 * when a memory-limited exec is thrashing (from PSI stall time).
 */
#include "agent.h"

#include <errno.h>
#include <string.h>

int limits_parse_event(const char *text, const char *key, uint64_t *ret)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == ' ') {
			uint64_t v = 0;
			size_t i = klen + 1;

			if (i >= len || p[i] < '0' || p[i] > '9')
				return -EINVAL;
			for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
				uint64_t d = (uint64_t)(p[i] - '0');

				if (v > (UINT64_MAX - d) / 10)
					return -ERANGE;
				v = v * 10 + d;
			}
			if (i != len)
				return -EINVAL;
			*ret = v;
			return 0;
		}
		p = eol ? eol + 1 : NULL;
	}
	return -ENOENT;
}

uint32_t limits_nproc(const struct limits_exec *le, uint32_t pids_max)
{
	if (pids_max == 0)
		return 0;
	if (le && le->name[0] && pids_max <= UINT32_MAX - LIMITS_NPROC_SLACK)
		return pids_max + LIMITS_NPROC_SLACK;
	return pids_max;
}

bool limits_disk_full(uint64_t free_bytes, uint64_t total_bytes)
{
	uint64_t slack = total_bytes / 100;

	if (total_bytes == 0)
		return false;
	if (slack < LIMITS_DISK_SLACK_MIN)
		slack = LIMITS_DISK_SLACK_MIN;
	return free_bytes <= slack;
}

int limits_parse_psi_full(const char *text, uint64_t *ret)
{
	const char *p = strstr(text, "full ");
	const char *t;

	if (!p || (p != text && p[-1] != '\n'))
		return -ENOENT;
	t = strstr(p, "total=");
	if (!t || (strchr(p, '\n') && t > strchr(p, '\n')))
		return -EINVAL;
	t += 6;
	if (*t < '0' || *t > '9')
		return -EINVAL;
	*ret = 0;
	for (; *t >= '0' && *t <= '9'; t++) {
		uint64_t d = (uint64_t)(*t - '0');

		if (*ret > (UINT64_MAX - d) / 10)
			return -ERANGE;
		*ret = *ret * 10 + d;
	}
	return 0;
}

bool limits_thrash_step(uint64_t stall_us, uint64_t dt_ms, uint64_t *thrash_ms)
{
	if (dt_ms == 0)
		return *thrash_ms >= LIMITS_THRASH_MS;
	if (stall_us / 1000 * 100 >= dt_ms * LIMITS_THRASH_PCT)
		*thrash_ms += dt_ms;
	else
		*thrash_ms = 0;
	return *thrash_ms >= LIMITS_THRASH_MS;
}

const char *limits_verdict(const struct limits_counters *c)
{
	if (c->oom_kill > 0 || c->thrash_killed)
		return "memory";
	if (c->pids_max_hits > 0)
		return "pids";
	if (c->disk_known && limits_disk_full(c->disk_free, c->disk_total))
		return "disk";
	return "";
}
