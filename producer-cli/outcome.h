/*
 * outcome: what a job's ending means to a shell: the exit code of `corral run` (the job's code,
 * 128+signal, 124 timed out, 125 anything Corral-side), the one-line reason on stderr, and the
 * human-readable form of a result record. Pure apart from the printing functions.
 */
#ifndef CORRAL_OUTCOME_H
#define CORRAL_OUTCOME_H

#include <stdio.h>

#include "wire.h"

/* Exit code for a result. */
int outcome_exit_code(const struct wire_result *r);
/* The one-line note for endings that are not a plain exit (NULL for those), into buf. */
const char *outcome_note(const struct wire_result *r, char *buf, size_t size);
/* Human-readable, one field per line. */
void outcome_print(FILE *f, const struct wire_result *r);

#endif
