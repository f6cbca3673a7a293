/*
 * mirror: creates or incrementally updates a URL's bare mirror in the cache with libgit2 (every
 * branch and tag, forced and pruned; the mirror's HEAD follows the remote's default branch).
 * Runs in the jail, after the URL policy passed, under the mirror's exclusive lock. A first
 * clone is built in <key>.new and renamed into place only when complete, so a killed fetch never
 * leaves a mirror that looks whole. Caps: the received
 * pack size and object count (transfer progress callback and libgit2's pack object limit).
 * Credentials are handed to libgit2 only for https and only once (a refusal is an auth error,
 * not a retry loop); they never enter a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <git2.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch.h"
#include "util.h"

#define MIB (1024u * 1024u)

struct fetch_state {
	const struct fetch_args *a;
	bool over_bytes, over_objects, auth_failed;
	unsigned cred_calls;
	uint64_t received_bytes, received_objects;
};

static int cred_cb(git_credential **out, const char *url, const char *user_from_url,
		   unsigned int allowed, void *payload)
{
	struct fetch_state *st = payload;
	const struct fetch_args *a = st->a;

	(void)user_from_url;
	st->cred_calls++;
	if (!a->has_cred || st->cred_calls > 1 ||
	    !(allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) || strncmp(url, "https://", 8) != 0) {
		st->auth_failed = true;
		git_error_set_str(GIT_ERROR_NET, a->has_cred ? "credentials refused" :
							       "authentication required");
		return GIT_EUSER;
	}
	return git_credential_userpass_plaintext_new(out, a->user, a->secret);
}

static int progress_cb(const git_indexer_progress *s, void *payload)
{
	struct fetch_state *st = payload;

	st->received_bytes = s->received_bytes;
	st->received_objects = s->received_objects;
	if (st->a->repo_max && s->received_bytes > st->a->repo_max) {
		st->over_bytes = true;
		return -1;
	}
	if (st->a->objects_max && s->total_objects > st->a->objects_max) {
		st->over_objects = true;
		return -1;
	}
	return 0;
}

static int fail(struct fetch_state *st, int gerr, const char *what, struct errmsg *reterr)
{
	if (st->over_bytes)
		return errmsg_set(reterr, FETCH_EXIT_SIZE, "repo: repository over %llu MiB",
				  (unsigned long long)(st->a->repo_max / MIB));
	if (st->over_objects)
		return errmsg_set(reterr, FETCH_EXIT_SIZE, "repo: repository over %llu objects",
				  (unsigned long long)st->a->objects_max);
	if (st->auth_failed)
		return errmsg_set(reterr, FETCH_EXIT_AUTH, "repo: %s",
				  st->a->has_cred ? "credentials refused by the server" :
						    "authentication required (no credentials "
						    "configured for this host)");
	return fetch_git_fail(gerr, what, reterr);
}

/* The remote's HEAD → the mirror's HEAD, when the remote says which branch it is. */
static void set_head(git_repository *repo, const char *head_ref)
{
	git_reference *ref = NULL;

	if (!head_ref[0] || git_reference_lookup(&ref, repo, head_ref) < 0)
		return;
	git_reference_free(ref);
	ref = NULL;
	if (git_reference_symbolic_create(&ref, repo, "HEAD", head_ref, 1, "corral-fetch") == 0)
		git_reference_free(ref);
}

static int run_fetch(git_repository *repo, struct fetch_state *st, struct errmsg *reterr)
{
	static char *specs[] = { "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*" };
	git_strarray refspecs = { specs, 2 };
	git_remote_connect_options copts;
	git_fetch_options fopts;
	git_remote *remote = NULL;
	git_buf head = { 0 };
	char head_ref[256] = "";
	int r;

	if (git_remote_connect_options_init(&copts, GIT_REMOTE_CONNECT_OPTIONS_VERSION) < 0 ||
	    git_fetch_options_init(&fopts, GIT_FETCH_OPTIONS_VERSION) < 0)
		return fetch_git_fail(-1, "options", reterr);
	copts.callbacks.credentials = cred_cb;
	copts.callbacks.transfer_progress = progress_cb;
	copts.callbacks.payload = st;
	copts.follow_redirects = GIT_REMOTE_REDIRECT_NONE;	/* a redirect would skip the policy */
	fopts.callbacks = copts.callbacks;
	fopts.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	fopts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;	/* the refspec takes all tags */
	fopts.update_fetchhead = 0;
	fopts.prune = GIT_FETCH_PRUNE;

	r = git_remote_create_anonymous(&remote, repo, st->a->url);
	if (r < 0) {
		r = fail(st, r, "bad remote", reterr);
		goto out;
	}
	r = git_remote_connect_ext(remote, GIT_DIRECTION_FETCH, &copts);
	if (r < 0) {
		r = fail(st, r, "connect", reterr);
		goto out;
	}
	if (git_remote_default_branch(&head, remote) == 0 && head.ptr)
		snprintf(head_ref, sizeof(head_ref), "%s", head.ptr);
	r = git_remote_download(remote, &refspecs, &fopts);
	if (r < 0) {
		r = fail(st, r, "fetch", reterr);
		goto out;
	}
	r = git_remote_update_tips(remote, &fopts.callbacks, 0, GIT_REMOTE_DOWNLOAD_TAGS_NONE,
				   "corral-fetch");
	if (r < 0) {
		r = fail(st, r, "update refs", reterr);
		goto out;
	}
	(void)git_remote_prune(remote, &fopts.callbacks);
	set_head(repo, head_ref);
	r = 0;
out:
	if (remote)
		(void)git_remote_disconnect(remote);
	git_remote_free(remote);
	git_buf_dispose(&head);
	return r;
}

int fetch_mirror(const struct fetch_args *a, struct fetch_stats *stats, struct errmsg *reterr)
{
	bool *existed = &stats->existed;
	struct fetch_state st = { .a = a };
	struct fetch_paths p;
	git_repository *repo = NULL;
	struct stat sb;
	int lock = -1, r;

	r = fetch_paths_of(a->cache, a->url, &p, reterr);
	if (r)
		return r;
	lock = fetch_lock(&p, LOCK_EX, reterr);
	if (lock < 0)
		return -lock;
	if (a->objects_max)
		(void)git_libgit2_opts(GIT_OPT_SET_PACK_MAX_OBJECTS, (size_t)a->objects_max);
	*existed = lstat(p.git, &sb) == 0 && S_ISDIR(sb.st_mode);
	if (*existed) {
		r = git_repository_open_bare(&repo, p.git);
		if (r < 0) {
			r = fetch_git_fail(r, "open mirror", reterr);
			goto out;
		}
	} else {
		fetch_rm_tree(p.tmp);
		r = git_repository_init(&repo, p.tmp, 1);
		if (r < 0) {
			r = fetch_git_fail(r, "create mirror", reterr);
			goto out;
		}
	}
	r = run_fetch(repo, &st, reterr);
	stats->received_bytes = st.received_bytes;
	stats->received_objects = st.received_objects;
	git_repository_free(repo);
	repo = NULL;
	if (r)
		goto out;
	if (!*existed && rename(p.tmp, p.git) < 0) {
		r = errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: install mirror: %s",
			       errno_name(errno));
		goto out;
	}
	fetch_touch(p.stamp);
out:
	git_repository_free(repo);
	if (r && !*existed)
		fetch_rm_tree(p.tmp);
	fd_close(lock);
	return r;
}
