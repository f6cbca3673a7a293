/*
 * artset: assembles a job's artefacts from the agent's `file` frames (schemas/agent-frame.md,
 * GET). Pure: no I/O, no clock; job_get.c feeds it, tests/unit/worker/test_artset.c checks it.
 * The guest is untrusted: at most `max` data bytes and WIRE_ARTEFACTS_COUNT_MAX artefacts are
 * kept whatever arrives; a frame continues the current artefact only with the same path, before
 * its `last`, at exactly the offset kept so far; a new artefact must start at offset 0; anything
 * else is dropped and marks the set (and the artefact) truncated.
 */
#ifndef CORRALD_ARTSET_H
#define CORRALD_ARTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

struct artset {
	struct wire_artefact *arts;
	size_t n, alloc;
	size_t cap;		/* allocated bytes of arts[n - 1].data */
	bool cur_open;		/* arts[n - 1] still takes chunks */
	uint64_t max, kept;
	bool truncated;
};

/* max: data bytes kept in total (capped at WIRE_ARTEFACTS_MAX_LIMIT). */
void artset_init(struct artset *s, uint64_t max);
/* Takes one FILE frame (copies what it keeps). Never fails: what cannot be kept is dropped and
 * marks the set truncated. */
void artset_add(struct artset *s, const struct wire_frame *f);
/* Moves the artefacts out (caller owns them: artefacts_free()); an artefact with fewer bytes
 * than its size is marked truncated. The set is empty afterwards. */
void artset_take(struct artset *s, struct wire_artefact **arts, size_t *n, bool *truncated);
void artset_fini(struct artset *s);
/* Frees an artefact array of n items. NULL-safe. */
void artefacts_free(struct wire_artefact *arts, size_t n);

#endif
