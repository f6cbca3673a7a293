/*
 * tmpl_resolve: what a job runs with, from its template (schemas/template.md) and its own
 * fields: image (the job's if set), vCPUs, memory, disk, pids, timeout (the job's if non-zero),
 * env (the template's, then the job's; the job's wins per key), network. Also the built-in
 * templates (`default`, and an --image X served as template X) and the guest memory limit the
 * exec gets. Pure: no Redis, no VM; unit-tested.
 */
#ifndef CORRALD_TMPL_RESOLVE_H
#define CORRALD_TMPL_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define TMPL_DEFAULT "default"
#define TMPL_AGENT_RESERVE_MIB 48u	/* guest kernel + agent, kept out of the job's memory.max */
#define TMPL_ENV_MAX (WIRE_ENVC_MAX + 64)	/* job env + template env */

struct tmpl_eff {
	char image[WIRE_IMAGE_MAX + 1];
	uint32_t vcpus, memory_mib, disk_mib, pids_max, timeout_ms;
	bool network;
};

/* The effective settings of job j on template t. */
void tmpl_effective(const struct wire_template *t, const struct wire_job *j, struct tmpl_eff *out);
/* Template env then job env, a template item dropped when the job sets the same key. *ret is a
 * new NULL-terminated array of copies (NULL with *retn 0 when both are empty). 0, -ENOMEM or
 * -E2BIG (over TMPL_ENV_MAX). */
int tmpl_merge_env(char *const *tenv, size_t tn, char *const *jenv, size_t jn, char ***ret,
		   size_t *retn);
void tmpl_env_free(char **env, size_t n);
/* The built-in record of name when Redis has none: `default` (every default), or, when
 * image_sugar (corrald --image NAME), a template NAME whose image is NAME. NULL otherwise (or no
 * memory). Caller owns it. */
struct wire_template *tmpl_builtin(const char *name, bool image_sugar);
/* The memory limit of the job's processes in bytes: memory_mib minus TMPL_AGENT_RESERVE_MIB
 * (at least half the memory). */
uint64_t tmpl_mem_max_bytes(uint32_t memory_mib);
/* The limits of an exec in a VM of this size (issue 6): all of its memory but what the guest
 * kernel and the agent need (tmpl_mem_max_bytes), its pids, and a writable layer of disk_mib but
 * at most half the memory (the layer lives in guest RAM and its files count against the exec's
 * memory, so a layer as big as the memory limit would always hit that one first). Used for jobs
 * (job.c) and for the pool's per-clone warm-up (wpool.c), so a job finds the layer already sized
 * and the cgroup paths warm. */
void tmpl_exec_limits(uint32_t memory_mib, uint32_t disk_mib, uint32_t pids_max,
		      uint64_t *mem_max, uint64_t *disk_max, uint32_t *pids);
/* The VM-level name of a template's pool and snapshot ([a-z0-9_-]{1,32}, vm.h): the name
 * lower-cased with other characters as '-', cut to 23, plus "-" and 8 hex of a hash of the
 * exact name when that changed anything. out must hold 33 bytes. */
void tmpl_vm_name(const char *name, char out[33]);

#endif
