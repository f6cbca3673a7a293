/*
 * xfer: --put/--get/--repo/--image/--artefacts-max of run and submit, and saving artefacts after
 * a run. libwire has the last word on validity (the job is encoded before anything is queued);
 * this file checks early what it can name better (the local file, the 768 KiB total, the flag
 * syntax). Saved files never get set-uid/set-gid bits and never replace a directory.
 */
#include "xfer.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

char *xfer_remote_path(const char *remote)
{
	char *p;

	if (remote[0] == '/')
		return strdup(remote);
	if (asprintf(&p, "%s/%s", XFER_HOME, remote) < 0)
		return NULL;
	return p;
}

static bool is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Reads a whole regular file of at most max bytes. */
static int read_local(const char *path, size_t max, uint8_t **data, size_t *len, mode_t *mode)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	r = -EISDIR;
	if (S_ISDIR(st.st_mode))
		goto out;
	r = -EINVAL;
	if (!S_ISREG(st.st_mode))
		goto out;
	r = -EFBIG;
	if ((uint64_t)st.st_size > max)
		goto out;
	*mode = st.st_mode & 07777;
	r = -ENOMEM;
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf)
		goto out;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;	/* shrank: send what is there */
		got += (size_t)n;
	}
	*data = got ? buf : NULL;
	*len = got;
	if (!got)
		free(buf);
	buf = NULL;
	r = 0;
out:
	free(buf);
	fd_close(fd);
	return r;
}

int xfer_put(struct cli *cli, struct wire_job *job, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	struct errmsg em = { "" };
	size_t total = 0;
	struct wire_file *nf, f = { 0 };
	char *local = NULL, *remote = NULL;
	mode_t mode = 0644;
	int r = -EINVAL;

	if (!colon || colon == arg || !colon[1]) {
		cli_err(cli, "--put: expected LOCAL:REMOTE, got '%.80s'", arg);
		return -EINVAL;
	}
	local = strndup(arg, (size_t)(colon - arg));
	if (!local)
		return -ENOMEM;
	if (colon[strlen(colon) - 1] == '/') {	/* REMOTE dir/: keep the local name */
		char *tmp = strdup(local), *p = NULL;

		if (tmp && asprintf(&p, "%s%s", colon + 1, basename(tmp)) < 0)
			p = NULL;
		free(tmp);
		remote = p ? xfer_remote_path(p) : NULL;
		free(p);
	} else {
		remote = xfer_remote_path(colon + 1);
	}
	if (!remote) {
		r = -ENOMEM;
		goto out;
	}
	r = wire_check_path("path", remote, strlen(remote), &em);
	if (r < 0) {
		cli_err(cli, "--put %.80s: remote %s", arg, em.msg);
		goto out;
	}
	for (size_t i = 0; i < job->nfiles; i++) {
		total += job->files[i].len;
		if (strcmp(job->files[i].path, remote) == 0) {
			cli_err(cli, "--put %.80s: %s is already put by an earlier --put", arg,
				remote);
			r = -EINVAL;
			goto out;
		}
	}
	if (job->nfiles >= WIRE_FILES_MAX) {
		cli_err(cli, "--put %.80s: more than %d files", arg, WIRE_FILES_MAX);
		r = -E2BIG;
		goto out;
	}
	r = read_local(local, WIRE_FILES_BYTES_MAX - total, &f.data, &f.len, &mode);
	if (r == -EFBIG) {
		cli_err(cli, "--put %.80s: files over the %u-byte total (768 KiB) a job may carry; "
			"use --repo or fetch them in the job", arg, WIRE_FILES_BYTES_MAX);
		goto out;
	}
	if (r < 0) {
		cli_err(cli, "--put %.80s: %s: %s", arg, local,
			r == -EINVAL ? "not a regular file" : strerror(-r));
		goto out;
	}
	nf = realloc(job->files, (job->nfiles + 1) * sizeof(*nf));
	if (!nf) {
		free(f.data);
		r = -ENOMEM;
		goto out;
	}
	job->files = nf;
	f.path = remote;
	f.mode = mode;
	job->files[job->nfiles++] = f;
	remote = NULL;
	r = 0;
out:
	free(local);
	free(remote);
	return r;
}

int xfer_get(struct cli *cli, struct wire_job *job, const char *arg, bool need_local)
{
	const char *colon = strchr(arg, ':');
	struct cli_get g = { 0 };
	struct errmsg em = { "" };
	struct cli_get *ng;
	char **no;
	char *rem;
	size_t k;
	int r = -ENOMEM;

	if ((!colon && need_local) || colon == arg || (colon && !colon[1])) {
		cli_err(cli, "--get: expected REMOTE:LOCAL, got '%.80s'", arg);
		return -EINVAL;
	}
	rem = colon ? strndup(arg, (size_t)(colon - arg)) : strdup(arg);
	g.remote = rem ? xfer_remote_path(rem) : NULL;
	free(rem);
	if (!g.remote)
		goto fail;
	if (strlen(g.remote) > WIRE_PATH_MAX) {
		cli_err(cli, "--get %.80s: remote path longer than %d bytes", arg, WIRE_PATH_MAX);
		r = -EINVAL;
		goto fail;
	}
	if (!is_glob(g.remote) && wire_check_path("path", g.remote, strlen(g.remote), &em) < 0) {
		cli_err(cli, "--get %.80s: remote %s", arg, em.msg);
		r = -EINVAL;
		goto fail;
	}
	if (colon) {
		g.local = strdup(colon + 1);
		if (!g.local)
			goto fail;
		g.local_dir = is_glob(g.remote) || g.local[strlen(g.local) - 1] == '/';
	}
	for (k = 0; k < job->noutputs; k++)
		if (strcmp(job->outputs[k], g.remote) == 0)
			break;
	if (k == job->noutputs) {
		if (job->noutputs >= WIRE_OUTPUTS_MAX) {
			cli_err(cli, "--get %.80s: more than %d outputs", arg, WIRE_OUTPUTS_MAX);
			r = -E2BIG;
			goto fail;
		}
		no = realloc(job->outputs, (job->noutputs + 2) * sizeof(*no));
		if (!no)
			goto fail;
		job->outputs = no;
		no[job->noutputs] = strdup(g.remote);
		if (!no[job->noutputs])
			goto fail;
		no[++job->noutputs] = NULL;
	}
	ng = realloc(cli->gets, (cli->ngets + 1) * sizeof(*ng));
	if (!ng)
		goto fail;
	cli->gets = ng;
	cli->gets[cli->ngets++] = g;
	return 0;
fail:
	free(g.remote);
	free(g.local);
	return r;
}

static int repo_new(struct wire_job *job)
{
	if (job->repo)
		return 0;
	job->repo = calloc(1, sizeof(*job->repo));
	if (!job->repo)
		return -ENOMEM;
	job->repo->ref = strdup("HEAD");
	job->repo->subdir = strdup("repo");
	return job->repo->ref && job->repo->subdir ? 0 : -ENOMEM;
}

int xfer_repo_opt(struct cli *cli, struct wire_job *job, const char *flag, const char *arg)
{
	struct errmsg em = { "" };
	unsigned long long n;
	char *end, **slot;
	int r = repo_new(job);

	if (r < 0)
		return r;
	if (strcmp(flag, "depth") == 0) {
		errno = 0;
		n = strtoull(arg, &end, 10);
		if (errno || *end || end == arg || arg[0] == '-' || n > WIRE_DEPTH_LIMIT) {
			cli_err(cli, "--depth: expected 0..%u (0 = full history)", WIRE_DEPTH_LIMIT);
			return -EINVAL;
		}
		job->repo->depth = (uint32_t)n;
		cli->repo_opts = true;
		return 0;
	}
	if (strcmp(flag, "url") == 0) {
		if (!arg[0] || strlen(arg) > WIRE_URL_MAX) {
			cli_err(cli, "--repo: expected a URL of 1..%d bytes", WIRE_URL_MAX);
			return -EINVAL;
		}
		slot = &job->repo->url;
	} else if (strcmp(flag, "ref") == 0) {
		r = wire_check_ref("--ref", arg, strlen(arg), &em);
		slot = &job->repo->ref;
		cli->repo_opts = true;
	} else {
		r = wire_check_subdir("--subdir", arg, strlen(arg), &em);
		slot = &job->repo->subdir;
		cli->repo_opts = true;
	}
	if (r < 0) {
		cli_err(cli, "%s", em.msg);
		return r;
	}
	free(*slot);
	*slot = strdup(arg);
	return *slot ? 0 : -ENOMEM;
}

int xfer_finish(struct cli *cli, const struct wire_job *job)
{
	if (job->repo && !job->repo->url) {
		cli_err(cli, "--ref, --depth and --subdir need --repo URL");
		return -EINVAL;
	}
	return 0;
}

bool xfer_matches(const struct cli_get *g, const char *path)
{
	if (!is_glob(g->remote))
		return strcmp(g->remote, path) == 0;
	return fnmatch(g->remote, path, FNM_PATHNAME | FNM_PERIOD) == 0;
}

static int mkdir_p(const char *dir)
{
	char *p = strdup(dir);
	int r = 0;

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s && r == 0; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			r = -errno;
		*s = '/';
	}
	if (r == 0 && mkdir(p, 0755) < 0 && errno != EEXIST)
		r = -errno;
	free(p);
	return r;
}

static int write_local(const char *path, const struct wire_artefact *a)
{
	char *tmp = NULL;
	int fd, r;

	if (asprintf(&tmp, "%s.corral-tmp", path) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  (a->mode & 0777) | 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = fd_write_all(fd, a->data, a->len);
	if (r >= 0 && fchmod(fd, (a->mode & 0777) | 0600) < 0)
		r = -errno;
	fd_close(fd);
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
out:
	free(tmp);
	return r < 0 ? r : 0;
}

int xfer_save(const struct cli *cli, const struct wire_result *res, FILE *warn)
{
	int rc = 0;

	for (size_t i = 0; i < cli->ngets; i++) {
		const struct cli_get *g = &cli->gets[i];
		size_t hits = 0;

		if (!g->local)
			continue;
		if (g->local_dir) {
			int r = mkdir_p(g->local);

			if (r < 0) {
				cli_err(cli, "--get %s: cannot create directory %s: %s", g->remote,
					g->local, strerror(-r));
				rc = r;
				continue;
			}
		}
		for (size_t k = 0; k < res->nartefacts; k++) {
			const struct wire_artefact *a = &res->artefacts[k];
			char *dst = NULL, *tmp;
			int r;

			if (!xfer_matches(g, a->path))
				continue;
			hits++;
			if (g->local_dir) {
				tmp = strdup(a->path);
				if (!tmp || asprintf(&dst, "%s%s%s", g->local,
						     g->local[strlen(g->local) - 1] == '/' ? "" : "/",
						     basename(tmp)) < 0)
					dst = NULL;
				free(tmp);
			} else {
				dst = strdup(g->local);
			}
			r = dst ? write_local(dst, a) : -ENOMEM;
			if (r < 0) {
				cli_err(cli, "--get %s: writing %s: %s", a->path, dst ? dst : "?",
					strerror(-r));
				rc = r;
			} else if (a->truncated) {
				fprintf(warn, "corral: warning: %s truncated: saved %zu of %" PRIu64
					" bytes to %s (raise --artefacts-max)\n", a->path, a->len,
					a->size, dst);
			}
			free(dst);
			if (!g->local_dir)
				break;
		}
		if (!hits)
			fprintf(warn, "corral: warning: --get %s matched no file%s\n", g->remote,
				res->artefacts_truncated ? " (some artefacts were dropped: "
				"raise --artefacts-max)" : "");
	}
	if (res->artefacts_truncated)
		fprintf(warn, "corral: warning: artefacts truncated to --artefacts-max\n");
	return rc;
}
