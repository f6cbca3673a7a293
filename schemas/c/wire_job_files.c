/*
 * wire_job_files: the issue-5 keys of the job message (schemas/job.md): image, files, outputs,
 * artefacts_max's neighbours and repo. Decoding checks every item against its documented limit
 * before allocating and names the field in errors ("files[3].path: '..' path component not
 * allowed"); encoding writes only keys that differ from their default. It must not know how files
 * reach the guest or how a repo is fetched.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "wire_internal.h"

#define FILE_MODE_DEFAULT 0644u
#define REF_DEFAULT "HEAD"
#define SUBDIR_DEFAULT "repo"

void wire_job_files_free(struct wire_job *job)
{
	for (size_t i = 0; job->files && i < job->nfiles; i++) {
		free(job->files[i].path);
		free(job->files[i].data);
	}
	free(job->files);
	job->files = NULL;
	job->nfiles = 0;
	job->outputs = wire_strv_free(job->outputs);
	job->noutputs = 0;
	if (job->repo) {
		free(job->repo->url);
		free(job->repo->ref);
		free(job->repo->subdir);
		free(job->repo);
		job->repo = NULL;
	}
}

int wire_job_image(const msgpack_object *o, struct wire_job *job, struct errmsg *reterr)
{
	const char *p;
	size_t n;
	char q[64];
	int r;

	r = wire_get_strn(o, "image", false, WIRE_IMAGE_MAX, &p, &n, reterr);
	if (r <= 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')
			continue;
		wire_quote(q, sizeof(q), p, n);
		return errmsg_set(reterr, -EINVAL, "image: %s has a character outside [a-z0-9_-]",
				  q);
	}
	memcpy(job->image, p, n);
	job->image[n] = '\0';
	return 0;
}

enum { FF_PATH, FF_MODE, FF_DATA, FF_COUNT_ };
static const char *const file_keys[FF_COUNT_] = { "path", "mode", "data" };

static int job_file(const msgpack_object *o, uint32_t i, struct wire_file *f, size_t *total,
		    struct errmsg *reterr)
{
	const msgpack_object *k[FF_COUNT_];
	char name[WIRE_NAME_MAX + 16], ctx[32];
	const char *p;
	size_t n;
	uint64_t mode = FILE_MODE_DEFAULT;
	int r;

	snprintf(ctx, sizeof(ctx), "files[%" PRIu32 "]", i);
	if (o->type != MSGPACK_OBJECT_MAP)
		return errmsg_set(reterr, -EBADMSG, "%s: expected map, got %s", ctx,
				  wire_type_name(o));
	snprintf(name, sizeof(name), "%s.", ctx);
	r = wire_map_fields(o, file_keys, FF_COUNT_, k, name, reterr);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "%s.path", ctx);
	r = wire_get_strn(k[FF_PATH], name, true, WIRE_PATH_MAX, &p, &n, reterr);
	if (r < 0)
		return r;
	r = wire_check_path(name, p, n, reterr);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "%s.mode", ctx);
	r = wire_get_u64(k[FF_MODE], name, false, 0, WIRE_MODE_MAX, &mode, reterr);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "%s.data", ctx);
	r = wire_dup_bin(k[FF_DATA], name, true, WIRE_FILES_BYTES_MAX, &f->data, &f->len, reterr);
	if (r < 0)
		return r;
	f->mode = (uint32_t)mode;
	*total += f->len;
	if (*total > WIRE_FILES_BYTES_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "files: more than %u bytes of data in total "
				  "(at %s)", WIRE_FILES_BYTES_MAX, ctx);
	f->path = strndup(p, n);
	if (!f->path)
		return errmsg_set(reterr, -ENOMEM, "%s: out of memory", ctx);
	return 0;
}

int wire_job_files(const msgpack_object *o, struct wire_job *job, struct errmsg *reterr)
{
	size_t total = 0;
	uint32_t n;
	int r;

	if (wire_absent(o))
		return 0;
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return errmsg_set(reterr, -EBADMSG, "files: expected array, got %s",
				  wire_type_name(o));
	n = o->via.array.size;
	if (n == 0)
		return 0;
	if (n > WIRE_FILES_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "files: %" PRIu32 " items, more than %d", n,
				  WIRE_FILES_MAX);
	job->files = calloc(n, sizeof(*job->files));
	if (!job->files)
		return errmsg_set(reterr, -ENOMEM, "files: out of memory");
	for (uint32_t i = 0; i < n; i++) {
		job->nfiles = i + 1;
		r = job_file(&o->via.array.ptr[i], i, &job->files[i], &total, reterr);
		if (r < 0)
			return r;
		for (uint32_t j = 0; j < i; j++)
			if (strcmp(job->files[j].path, job->files[i].path) == 0)
				return errmsg_set(reterr, -EINVAL, "files[%" PRIu32 "].path: "
						  "duplicate of files[%" PRIu32 "]", i, j);
	}
	return 0;
}

int wire_job_outputs(const msgpack_object *o, struct wire_job *job, struct errmsg *reterr)
{
	int r = wire_get_patterns(o, "outputs", WIRE_OUTPUTS_MAX, false, &job->outputs,
				  &job->noutputs, reterr);

	return r < 0 ? r : 0;
}

enum { RF_URL, RF_REF, RF_DEPTH, RF_SUBDIR, RF_COUNT_ };
static const char *const repo_keys[RF_COUNT_] = { "url", "ref", "depth", "subdir" };

static int repo_url(const msgpack_object *o, struct wire_repo *repo, struct errmsg *reterr)
{
	const char *p;
	size_t n;
	int r;

	r = wire_get_strn(o, "repo.url", true, WIRE_URL_MAX, &p, &n, reterr);
	if (r < 0)
		return r;
	if (n == 0)
		return errmsg_set(reterr, -EINVAL, "repo.url: empty");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x21 || p[i] == 0x7f)
			return errmsg_set(reterr, -EINVAL, "repo.url: contains a space or control "
					  "character at byte %zu", i);
	repo->url = strndup(p, n);
	return repo->url ? 0 : errmsg_set(reterr, -ENOMEM, "repo: out of memory");
}

static int repo_fields(const msgpack_object **k, struct wire_repo *repo, struct errmsg *reterr)
{
	const char *p = REF_DEFAULT;
	size_t n = strlen(REF_DEFAULT);
	uint64_t depth = 0;
	int r;

	r = repo_url(k[RF_URL], repo, reterr);
	if (r < 0)
		return r;
	r = wire_get_strn(k[RF_REF], "repo.ref", false, WIRE_REF_MAX, &p, &n, reterr);
	if (r < 0)
		return r;
	r = wire_check_ref("repo.ref", p, n, reterr);
	if (r < 0)
		return r;
	repo->ref = strndup(p, n);
	if (!repo->ref)
		return errmsg_set(reterr, -ENOMEM, "repo: out of memory");
	r = wire_get_u64(k[RF_DEPTH], "repo.depth", false, 0, WIRE_DEPTH_LIMIT, &depth, reterr);
	if (r < 0)
		return r;
	repo->depth = (uint32_t)depth;
	p = SUBDIR_DEFAULT;
	n = strlen(SUBDIR_DEFAULT);
	r = wire_get_strn(k[RF_SUBDIR], "repo.subdir", false, WIRE_SUBDIR_MAX, &p, &n, reterr);
	if (r < 0)
		return r;
	r = wire_check_subdir("repo.subdir", p, n, reterr);
	if (r < 0)
		return r;
	repo->subdir = strndup(p, n);
	return repo->subdir ? 0 : errmsg_set(reterr, -ENOMEM, "repo: out of memory");
}

int wire_job_repo(const msgpack_object *o, struct wire_job *job, struct errmsg *reterr)
{
	const msgpack_object *k[RF_COUNT_];
	int r;

	if (wire_absent(o))
		return 0;
	if (o->type != MSGPACK_OBJECT_MAP)
		return errmsg_set(reterr, -EBADMSG, "repo: expected map, got %s",
				  wire_type_name(o));
	r = wire_map_fields(o, repo_keys, RF_COUNT_, k, "repo.", reterr);
	if (r < 0)
		return r;
	job->repo = calloc(1, sizeof(*job->repo));
	if (!job->repo)
		return errmsg_set(reterr, -ENOMEM, "repo: out of memory");
	return repo_fields(k, job->repo, reterr);
}

size_t wire_job_extra_count(const struct wire_job *job)
{
	return 1 + (job->image[0] != '\0') + (job->nfiles > 0) + (job->noutputs > 0) +
	       (job->repo != NULL);
}

static int pack_files(const struct wire_job *job, struct wire_out *w)
{
	int r = wire_pack_key(w, "files");

	if (!r)
		r = wire_out_status(w, msgpack_pack_array(&w->pk, job->nfiles));
	for (size_t i = 0; !r && i < job->nfiles; i++) {
		const struct wire_file *f = &job->files[i];

		r = wire_pack_map(w, 3);
		if (!r)
			r = wire_kv_str(w, "path", f->path);
		if (!r)
			r = wire_kv_u64(w, "mode", f->mode);
		if (!r)
			r = wire_kv_bin(w, "data", f->data, f->len);
	}
	return r;
}

static int pack_repo(const struct wire_repo *repo, struct wire_out *w)
{
	int r = wire_pack_key(w, "repo");

	if (!r)
		r = wire_pack_map(w, 4);
	if (!r)
		r = wire_kv_str(w, "url", repo->url);
	if (!r)
		r = wire_kv_str(w, "ref", repo->ref ? repo->ref : REF_DEFAULT);
	if (!r)
		r = wire_kv_u64(w, "depth", repo->depth);
	if (!r)
		r = wire_kv_str(w, "subdir", repo->subdir ? repo->subdir : SUBDIR_DEFAULT);
	return r;
}

int wire_job_pack_extra(const struct wire_job *job, struct wire_out *w)
{
	int r = wire_kv_u64(w, "artefacts_max", job->artefacts_max);

	if (!r && job->image[0])
		r = wire_kv_str(w, "image", job->image);
	if (!r && job->nfiles)
		r = pack_files(job, w);
	if (!r && job->noutputs)
		r = wire_kv_argv(w, "outputs", job->outputs, job->noutputs);
	if (!r && job->repo)
		r = pack_repo(job->repo, w);
	return r;
}
