/*
 * wire_job: decode, validate and encode the job message (schemas/job.md). The decoder is the
 * trust boundary between clients and corrald: everything a job carries is checked against its
 * documented type and limit here, so later code can rely on a struct wire_job being valid. It
 * must not know about Redis, signatures or how jobs run.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "wire_internal.h"

enum { J_ID, J_ARGV, J_ENV, J_CWD, J_TEMPLATE, J_TIMEOUT, J_OUTPUT_MAX, J_ATTEMPTS, J_SUBMITTED,
       J_IMAGE, J_FILES, J_OUTPUTS, J_ARTEFACTS_MAX, J_REPO, J_COUNT_ };
static const char *const job_keys[J_COUNT_] = {
	"id", "argv", "env", "cwd", "template", "timeout_ms", "output_max", "max_attempts",
	"submitted_ms", "image", "files", "outputs", "artefacts_max", "repo",
};

struct wire_job *wire_job_new(void)
{
	struct wire_job *job = calloc(1, sizeof(*job));

	if (!job)
		return NULL;
	strcpy(job->template_name, "default");
	job->timeout_ms = 0;	/* the template's timeout */
	job->output_max = WIRE_OUTPUT_MAX_DEFAULT;
	job->max_attempts = WIRE_ATTEMPTS_DEFAULT;
	job->artefacts_max = WIRE_ARTEFACTS_MAX_DEFAULT;
	return job;
}

struct wire_job *wire_job_free(struct wire_job *job)
{
	if (!job)
		return NULL;
	wire_strv_free(job->argv);
	wire_strv_free(job->env);
	free(job->cwd);
	wire_job_files_free(job);
	free(job);
	return NULL;
}

/* env: map of string → string; stored as "KEY=VALUE" items. */
static int job_env(const msgpack_object *o, struct wire_job *job, struct errmsg *reterr)
{
	char name[WIRE_NAME_MAX];
	uint32_t n;
	int r;

	if (wire_absent(o))
		return 0;
	if (o->type != MSGPACK_OBJECT_MAP)
		return errmsg_set(reterr, -EBADMSG, "env: expected map, got %s",
				  wire_type_name(o));
	n = o->via.map.size;
	if (n == 0)
		return 0;
	if (n > WIRE_ENVC_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "env: %" PRIu32 " items, more than %d", n,
				  WIRE_ENVC_MAX);
	job->env = calloc(n + 1, sizeof(*job->env));
	if (!job->env)
		return errmsg_set(reterr, -ENOMEM, "env: out of memory");
	for (uint32_t i = 0; i < n; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];
		const char *k, *v;
		size_t kl, vl;
		char *item;

		snprintf(name, sizeof(name), "env[%" PRIu32 "] key", i);
		r = wire_get_strn(&kv->key, name, true, WIRE_ENV_ITEM_MAX, &k, &kl, reterr);
		if (r < 0)
			return r;
		snprintf(name, sizeof(name), "env[%" PRIu32 "] value", i);
		r = wire_get_strn(&kv->val, name, true, WIRE_ENV_ITEM_MAX, &v, &vl, reterr);
		if (r < 0)
			return r;
		if (kl == 0)
			return errmsg_set(reterr, -EINVAL, "env[%" PRIu32 "]: empty key", i);
		if (memchr(k, '=', kl))
			return errmsg_set(reterr, -EINVAL, "env[%" PRIu32 "]: key contains '='", i);
		if (kl + 1 + vl > WIRE_ENV_ITEM_MAX)
			return errmsg_set(reterr, -EMSGSIZE, "env[%" PRIu32 "]: %zu bytes, longer "
					  "than %d", i, kl + 1 + vl, WIRE_ENV_ITEM_MAX);
		for (uint32_t j = 0; j < i; j++) {
			if (strncmp(job->env[j], k, kl) == 0 && job->env[j][kl] == '=')
				return errmsg_set(reterr, -EINVAL, "env[%" PRIu32 "]: duplicate key",
						  i);
		}
		item = malloc(kl + 1 + vl + 1);
		if (!item)
			return errmsg_set(reterr, -ENOMEM, "env: out of memory");
		memcpy(item, k, kl);
		item[kl] = '=';
		if (vl)
			memcpy(item + kl + 1, v, vl);
		item[kl + 1 + vl] = '\0';
		job->env[i] = item;
		job->envc = i + 1;
	}
	return 0;
}

static int job_fields(const msgpack_object **f, struct wire_job *job, struct errmsg *reterr)
{
	const char *p;
	size_t n;
	uint64_t u;
	int r;

	r = wire_get_strn(f[J_ID], "id", true, WIRE_ID_MAX, &p, &n, reterr);
	if (r < 0)
		return r;
	r = wire_check_name("id", p, n, WIRE_ID_MAX, reterr);
	if (r < 0)
		return r;
	memcpy(job->id, p, n);
	job->id[n] = '\0';
	r = wire_get_argv(f[J_ARGV], "argv", &job->argv, &job->argc, reterr);
	if (r < 0)
		return r;
	r = job_env(f[J_ENV], job, reterr);
	if (r < 0)
		return r;
	r = wire_dup_str(f[J_CWD], "cwd", false, WIRE_CWD_MAX, &job->cwd, reterr);
	if (r < 0)
		return r;
	if (job->cwd && job->cwd[0] != '/')
		return errmsg_set(reterr, -EINVAL, "cwd: not an absolute path");
	r = wire_get_strn(f[J_TEMPLATE], "template", false, WIRE_TEMPLATE_MAX, &p, &n, reterr);
	if (r < 0)
		return r;
	if (r > 0) {
		r = wire_check_name("template", p, n, WIRE_TEMPLATE_MAX, reterr);
		if (r < 0)
			return r;
		memcpy(job->template_name, p, n);
		job->template_name[n] = '\0';
	}
	u = job->timeout_ms;
	r = wire_get_u64(f[J_TIMEOUT], "timeout_ms", false, 1, WIRE_TIMEOUT_MS_MAX, &u, reterr);
	if (r < 0)
		return r;
	job->timeout_ms = (uint32_t)u;
	r = wire_get_u64(f[J_OUTPUT_MAX], "output_max", false, 0, WIRE_OUTPUT_MAX_LIMIT,
			 &job->output_max, reterr);
	if (r < 0)
		return r;
	u = job->max_attempts;
	r = wire_get_u64(f[J_ATTEMPTS], "max_attempts", false, 1, WIRE_ATTEMPTS_MAX, &u, reterr);
	if (r < 0)
		return r;
	job->max_attempts = (uint32_t)u;
	r = wire_get_u64(f[J_SUBMITTED], "submitted_ms", false, 0, INT64_MAX, &job->submitted_ms,
			 reterr);
	if (r < 0)
		return r;
	r = wire_job_image(f[J_IMAGE], job, reterr);
	if (r < 0)
		return r;
	r = wire_job_files(f[J_FILES], job, reterr);
	if (r < 0)
		return r;
	r = wire_job_outputs(f[J_OUTPUTS], job, reterr);
	if (r < 0)
		return r;
	r = wire_get_u64(f[J_ARTEFACTS_MAX], "artefacts_max", false, 0, WIRE_ARTEFACTS_MAX_LIMIT,
			 &job->artefacts_max, reterr);
	if (r < 0)
		return r;
	return wire_job_repo(f[J_REPO], job, reterr);
}

int wire_job_decode(const void *data, size_t len, struct wire_job **ret, struct errmsg *reterr)
{
	const msgpack_object *f[J_COUNT_];
	struct wire_doc doc;
	struct wire_job *job = NULL;
	int r;

	r = wire_doc_parse(&doc, data, len, WIRE_JOB_ENCODED_MAX, reterr);
	if (r < 0)
		return r;
	r = wire_map_fields(doc.map, job_keys, J_COUNT_, f, "", reterr);
	if (r < 0)
		goto out;
	job = wire_job_new();
	if (!job) {
		r = errmsg_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	r = job_fields(f, job, reterr);
	if (r < 0)
		goto out;
	r = 0;
	*ret = job;
	job = NULL;
out:
	wire_job_free(job);
	wire_doc_free(&doc);
	return r;
}

int wire_job_peek_id(const void *data, size_t len, char id[WIRE_ID_MAX + 1])
{
	static const char *const names[] = { "id" };
	const msgpack_object *v;
	struct wire_doc doc;
	const char *p;
	size_t n;
	int r;

	r = wire_doc_parse_any(&doc, data, len, WIRE_JOB_ENCODED_MAX, NULL);
	if (r < 0)
		return r;
	r = -EBADMSG;
	if (doc.u.data.type != MSGPACK_OBJECT_MAP)
		goto out;
	if (wire_map_fields(&doc.u.data, names, 1, &v, "", NULL) < 0)
		goto out;
	if (wire_get_strn(v, "id", true, WIRE_ID_MAX, &p, &n, NULL) < 0)
		goto out;
	if (wire_check_name("id", p, n, WIRE_ID_MAX, NULL) < 0) {
		r = -EINVAL;
		goto out;
	}
	memcpy(id, p, n);
	id[n] = '\0';
	r = 0;
out:
	wire_doc_free(&doc);
	return r;
}

static int job_pack(const struct wire_job *job, struct wire_out *w)
{
	size_t n = 7 + (job->envc > 0) + (job->cwd != NULL) + (job->timeout_ms != 0) +
		   wire_job_extra_count(job);
	int r;

	r = wire_pack_map(w, n);
	if (!r)
		r = wire_kv_u64(w, "v", WIRE_VERSION);
	if (!r)
		r = wire_kv_str(w, "id", job->id);
	if (!r)
		r = wire_kv_argv(w, "argv", job->argv, job->argc);
	if (!r && job->envc) {
		r = wire_pack_key(w, "env");
		if (!r)
			r = wire_pack_map(w, job->envc);
		for (size_t i = 0; !r && i < job->envc; i++) {
			const char *eq = strchr(job->env[i], '=');

			r = wire_pack_strn(w, job->env[i], (size_t)(eq - job->env[i]));
			if (!r)
				r = wire_pack_str(w, eq + 1);
		}
	}
	if (!r && job->cwd)
		r = wire_kv_str(w, "cwd", job->cwd);
	if (!r)
		r = wire_kv_str(w, "template", job->template_name);
	if (!r && job->timeout_ms)
		r = wire_kv_u64(w, "timeout_ms", job->timeout_ms);
	if (!r)
		r = wire_kv_u64(w, "output_max", job->output_max);
	if (!r)
		r = wire_kv_u64(w, "max_attempts", job->max_attempts);
	if (!r)
		r = wire_kv_u64(w, "submitted_ms", job->submitted_ms);
	if (!r)
		r = wire_job_pack_extra(job, w);
	return r;
}

int wire_job_encode(const struct wire_job *job, struct buf *out, struct errmsg *reterr)
{
	struct wire_job *check = NULL;
	struct wire_out w;
	size_t start = out->len;
	int r;

	if (!job->argv && job->argc)
		return errmsg_set(reterr, -EINVAL, "argv: NULL with argc %zu", job->argc);
	if (!job->env && job->envc)
		return errmsg_set(reterr, -EINVAL, "env: NULL with envc %zu", job->envc);
	if (wire_check_cstr(job->id, sizeof(job->id), "id", reterr) < 0 ||
	    wire_check_cstr(job->template_name, sizeof(job->template_name), "template",
			    reterr) < 0)
		return -EINVAL;
	for (size_t i = 0; i < job->envc; i++)
		if (!job->env[i] || !strchr(job->env[i], '='))
			return errmsg_set(reterr, -EINVAL, "env[%zu]: no '=' (expected KEY=VALUE)",
					  i);
	for (size_t i = 0; i < job->argc; i++)
		if (!job->argv[i])
			return errmsg_set(reterr, -EINVAL, "argv[%zu]: NULL", i);
	if (wire_check_cstr(job->image, sizeof(job->image), "image", reterr) < 0)
		return -EINVAL;
	if ((!job->files && job->nfiles) || (!job->outputs && job->noutputs))
		return errmsg_set(reterr, -EINVAL, "files/outputs: NULL with a count");
	for (size_t i = 0; i < job->nfiles; i++)
		if (!job->files[i].path || (!job->files[i].data && job->files[i].len))
			return errmsg_set(reterr, -EINVAL, "files[%zu]: NULL path or data", i);
	for (size_t i = 0; i < job->noutputs; i++)
		if (!job->outputs[i])
			return errmsg_set(reterr, -EINVAL, "outputs[%zu]: NULL", i);
	if (job->repo && !job->repo->url)
		return errmsg_set(reterr, -EINVAL, "repo.url: NULL");
	wire_out_init(&w, out);
	r = job_pack(job, &w);
	if (r < 0) {
		r = errmsg_set(reterr, r, "encoding job: %s", errno_name(r));
		goto fail;
	}
	/* the encoder promises only what the decoder accepts */
	r = wire_job_decode(out->data + start, out->len - start, &check, reterr);
	wire_job_free(check);
	if (r < 0)
		goto fail;
	return 0;
fail:
	out->len = start;
	return r;
}
