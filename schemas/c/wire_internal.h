/*
 * wire_internal: shared decode/encode helpers of libwire (not a public API; only libwire .c files
 * include it). Decoding is two steps: wire_doc_parse() first walks the raw bytes without
 * allocating (size, truncation, nesting depth, object count, trailing bytes), and only then lets
 * msgpack-c build objects, so hostile input can never make msgpack-c allocate more than a bounded
 * multiple of its length. The field getters name the field in every error. Nothing here keeps a
 * pointer into the input after the caller's decode returns.
 */
#ifndef CORRAL_WIRE_INTERNAL_H
#define CORRAL_WIRE_INTERNAL_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "errmsg.h"
#include "wire.h"

#define WIRE_DEPTH_MAX 16	/* nested arrays/maps, the top-level map counts as 1 */
#define WIRE_OBJECTS_MAX 16384	/* msgpack objects in one message, keys and values */
#define WIRE_NAME_MAX 48	/* formatted field names such as "argv[12]" */

/* One parsed message: the unpacked tree lives in u's zone until wire_doc_free(). */
struct wire_doc {
	msgpack_unpacked u;
	const msgpack_object *map;	/* the top-level map */
	bool live;
};

/* Size check against max, structural pre-scan, unpack, top-level map, "v" == WIRE_VERSION. */
int wire_doc_parse(struct wire_doc *doc, const void *data, size_t len, size_t max,
		   struct errmsg *reterr);
/* Only the pre-scan and unpack (no map or version check). For best-effort peeks. */
int wire_doc_parse_any(struct wire_doc *doc, const void *data, size_t len, size_t max,
		       struct errmsg *reterr);
void wire_doc_free(struct wire_doc *doc);

/* Looks up names[0..n) in map: vals[i] = the value or NULL when absent. Keys must be strings (or
 * bin); a known key given twice is -EBADMSG "<ctx><name>: duplicate key". ctx prefixes names in
 * errors (e.g. "timings."). Unknown keys are ignored. */
int wire_map_fields(const msgpack_object *map, const char *const *names, size_t n,
		    const msgpack_object **vals, const char *ctx, struct errmsg *reterr);

/* "nil", "bool", "int", "float", "string", "bin", "array", "map", "ext". */
const char *wire_type_name(const msgpack_object *o);
/* True when o is NULL (absent) or nil. */
bool wire_absent(const msgpack_object *o);

/* Getters. o may be NULL (key absent). When absent or nil and !required, *ret is left alone and
 * 0 is returned; when present and valid, *ret is set and 1 is returned; else negative errno with
 * the field named. */
int wire_get_u64(const msgpack_object *o, const char *field, bool required, uint64_t min,
		 uint64_t max, uint64_t *ret, struct errmsg *reterr);
int wire_get_i64(const msgpack_object *o, const char *field, bool required, int64_t min,
		 int64_t max, int64_t *ret, struct errmsg *reterr);
int wire_get_bool(const msgpack_object *o, const char *field, bool required, bool *ret,
		  struct errmsg *reterr);
/* str or bin; borrowed bytes (valid while the doc lives); ≤ max bytes; NUL bytes refused. */
int wire_get_strn(const msgpack_object *o, const char *field, bool required, size_t max,
		  const char **ptr, size_t *len, struct errmsg *reterr);
/* Copies into dst[dstsize] (max = dstsize - 1), NUL-terminated. */
int wire_copy_str(const msgpack_object *o, const char *field, bool required, char *dst,
		  size_t dstsize, struct errmsg *reterr);
/* malloc()ed, NUL-terminated copy (≤ max bytes). */
int wire_dup_str(const msgpack_object *o, const char *field, bool required, size_t max,
		 char **ret, struct errmsg *reterr);
/* bin or str, may contain any byte; malloc()ed copy (NULL when len 0). */
int wire_dup_bin(const msgpack_object *o, const char *field, bool required, size_t max,
		 uint8_t **ret, size_t *retlen, struct errmsg *reterr);
/* Checks the [A-Za-z0-9._-]{1,max} charset of ids and template names. */
int wire_check_name(const char *field, const char *s, size_t len, size_t max,
		    struct errmsg *reterr);

/* An optional limit name (wire_limit_valid()) into dst[WIRE_LIMIT_NAME_MAX + 1]; absent leaves
 * dst alone. 1 when present, 0 when absent, -EINVAL naming field otherwise. */
int wire_get_limit(const msgpack_object *o, const char *field, bool frame, char *dst,
		   struct errmsg *reterr);

/* A state name (schemas/event.md) given as a string. */
int wire_get_state(const msgpack_object *o, const char *field, enum wire_state *ret,
		   struct errmsg *reterr);

/* argv: non-empty array of strings, ≤ WIRE_ARGC_MAX items of ≤ WIRE_ARG_MAX bytes, argv[0]
 * non-empty. *ret is a NULL-terminated malloc()ed vector. */
int wire_get_argv(const msgpack_object *o, const char *field, char ***ret, size_t *retc,
		  struct errmsg *reterr);
/* Checks one "KEY=VALUE" item (key non-empty, no '=' in key) of total length len. */
int wire_check_env_item(const char *field, const char *s, size_t len, struct errmsg *reterr);
/* Frees a NULL-terminated vector (NULL allowed); returns NULL. */
char **wire_strv_free(char **v);

/* Writes a printable, quoted, capped rendering of untrusted bytes (for error messages). */
void wire_quote(char *dst, size_t dstsize, const char *s, size_t len);

/* For encoders: fixed-size char arrays in the public structs must hold a NUL. 0 or -EINVAL. */
int wire_check_cstr(const char *s, size_t size, const char *field, struct errmsg *reterr);

/* Encoding: a msgpack packer appending to a struct buf. */
struct wire_out {
	struct buf *b;
	int err;	/* first buf error, e.g. -EMSGSIZE */
	msgpack_packer pk;
};
void wire_out_init(struct wire_out *w, struct buf *b);
int wire_pack_key(struct wire_out *w, const char *key);
int wire_pack_str(struct wire_out *w, const char *s);
int wire_pack_strn(struct wire_out *w, const char *s, size_t len);
int wire_pack_bin(struct wire_out *w, const void *p, size_t len);
int wire_pack_u64(struct wire_out *w, uint64_t v);
int wire_pack_i64(struct wire_out *w, int64_t v);
int wire_pack_argv(struct wire_out *w, char *const *v, size_t n);
/* key + value pairs; each returns 0 or negative errno. */
int wire_kv_u64(struct wire_out *w, const char *key, uint64_t v);
int wire_kv_i64(struct wire_out *w, const char *key, int64_t v);
int wire_kv_str(struct wire_out *w, const char *key, const char *s);
int wire_kv_bin(struct wire_out *w, const char *key, const void *p, size_t len);
int wire_kv_bool(struct wire_out *w, const char *key, bool v);
int wire_kv_argv(struct wire_out *w, const char *key, char *const *v, size_t n);
int wire_pack_map(struct wire_out *w, size_t n);
/* Turns a packer's return into 0 or negative errno (w->err when the buf refused). */
int wire_out_status(struct wire_out *w, int packer_ret);

/* Job additions (wire_job_files.c): image, files, outputs, artefacts_max, repo. Each decodes
 * one key of the job map into job; the packers write key + value. */
int wire_job_image(const msgpack_object *o, struct wire_job *job, struct errmsg *reterr);
int wire_job_files(const msgpack_object *o, struct wire_job *job, struct errmsg *reterr);
int wire_job_outputs(const msgpack_object *o, struct wire_job *job, struct errmsg *reterr);
int wire_job_repo(const msgpack_object *o, struct wire_job *job, struct errmsg *reterr);
void wire_job_files_free(struct wire_job *job);
/* Number of map entries wire_job_pack_extra() writes. */
size_t wire_job_extra_count(const struct wire_job *job);
int wire_job_pack_extra(const struct wire_job *job, struct wire_out *w);
/* Non-empty array of ≤ max absolute paths/patterns (≤ WIRE_PATH_MAX bytes), NULL-terminated copy. */
int wire_get_patterns(const msgpack_object *o, const char *field, size_t max, bool required,
		      char ***ret, size_t *retc, struct errmsg *reterr);

#endif
