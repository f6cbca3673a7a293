/*
 * wire_result_int: the artefacts part of the result codec, shared by wire_result.c and
 * wire_artefact.c only (not a public API).
 */
#ifndef CORRAL_WIRE_RESULT_INT_H
#define CORRAL_WIRE_RESULT_INT_H

#include "wire_internal.h"

/* Decodes the "artefacts" array into res (res->artefacts owned; freed by wire_result_clear()). */
int wire_result_artefacts(const msgpack_object *o, struct wire_result *res,
			  struct errmsg *reterr);
/* Writes key "artefacts" and the array (always, possibly empty). */
int wire_result_pack_artefacts(const struct wire_result *res, struct wire_out *w);

#endif
