/*
 * tmpl_resolve: see tmpl_resolve.h. Copies out everything it returns; never keeps pointers into
 * the job or the template.
 */
#include "tmpl_resolve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tmpl_effective(const struct wire_template *t, const struct wire_job *j, struct tmpl_eff *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->image, sizeof(out->image), "%s", j && j->image[0] ? j->image : t->image);
	if (!out->image[0])
		snprintf(out->image, sizeof(out->image), "%s", WIRE_TEMPLATE_IMAGE_DEFAULT);
	out->vcpus = t->vcpus;
	out->memory_mib = t->memory_mib;
	out->disk_mib = t->disk_mib;
	out->pids_max = t->pids_max;
	out->timeout_ms = j && j->timeout_ms ? j->timeout_ms : t->timeout_ms;
	out->network = t->network;
}

static size_t key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');

	return eq ? (size_t)(eq - kv) : strlen(kv);
}

static bool has_key(char *const *env, size_t n, const char *kv)
{
	size_t k = key_len(kv);

	for (size_t i = 0; i < n; i++)
		if (key_len(env[i]) == k && memcmp(env[i], kv, k) == 0)
			return true;
	return false;
}

void tmpl_env_free(char **env, size_t n)
{
	if (!env)
		return;
	for (size_t i = 0; i < n; i++)
		free(env[i]);
	free(env);
}

int tmpl_merge_env(char *const *tenv, size_t tn, char *const *jenv, size_t jn, char ***ret,
		   size_t *retn)
{
	char **out;
	size_t n = 0;

	*ret = NULL;
	*retn = 0;
	if (tn + jn == 0)
		return 0;
	if (tn + jn > TMPL_ENV_MAX)
		return -E2BIG;
	out = calloc(tn + jn + 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < tn; i++) {
		if (has_key(jenv, jn, tenv[i]))
			continue;	/* the job's value wins */
		if (!(out[n++] = strdup(tenv[i])))
			goto nomem;
	}
	for (size_t i = 0; i < jn; i++)
		if (!(out[n++] = strdup(jenv[i])))
			goto nomem;
	*ret = out;
	*retn = n;
	return 0;
nomem:
	tmpl_env_free(out, n);
	return -ENOMEM;
}

struct wire_template *tmpl_builtin(const char *name, bool image_sugar)
{
	struct wire_template *t;

	if (strcmp(name, TMPL_DEFAULT) != 0 && !image_sugar)
		return NULL;
	t = wire_template_new(name);
	if (t && strcmp(name, TMPL_DEFAULT) != 0)
		snprintf(t->image, sizeof(t->image), "%s", name);
	return t;
}

uint64_t tmpl_mem_max_bytes(uint32_t memory_mib)
{
	uint32_t mib = memory_mib > 2 * TMPL_AGENT_RESERVE_MIB ? memory_mib - TMPL_AGENT_RESERVE_MIB
							       : memory_mib / 2;

	return (uint64_t)mib << 20;
}

void tmpl_exec_limits(uint32_t memory_mib, uint32_t disk_mib, uint32_t pids_max,
		      uint64_t *mem_max, uint64_t *disk_max, uint32_t *pids)
{
	uint64_t disk = disk_mib;

	if (disk > memory_mib / 2)
		disk = memory_mib / 2;
	*mem_max = tmpl_mem_max_bytes(memory_mib);
	*disk_max = disk << 20;
	*pids = pids_max;
}

void tmpl_vm_name(const char *name, char out[33])
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	bool changed = false;
	size_t i = 0;

	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	for (; name[i] && i < 32; i++) {
		char c = name[i];

		if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
			changed = true;
		} else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
			     c == '-')) {
			c = '-';
			changed = true;
		}
		out[i] = c;
	}
	if (name[i])
		changed = true;
	if (i == 0)
		changed = true;
	if (changed) {
		if (i > 23)
			i = 23;
		snprintf(out + i, 33 - i, "-%08x", h);
		return;
	}
	out[i] = '\0';
}
