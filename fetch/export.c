/*
 * export: resolves a ref in a URL's mirror to a commit and walks that commit's tree straight
 * from the object database into PUT frames under /home/corral/<subdir>. It never writes a
 * working tree on the host, so nothing on the host can follow a repository's symlink. Checks,
 * before any data of an entry is emitted: entry names (no "", ".", "..", ".git", '/', control
 * bytes), the path length, --max-files (entries), --max-file (one blob), --max-bytes (all
 * blobs), and symlinks, which are resolved inside the commit's tree (following the tree's own
 * symlinks, ≤ LINK_HOPS_MAX hops) and refused when absolute or when they climb out of the
 * checkout. Submodules (gitlinks) are skipped and named in the summary. Runs in the jail under
 * the mirror's shared lock.
 */
#include <git2.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emit.h"
#include "fetch.h"
#include "util.h"

#define TREE_DEPTH_MAX 256
#define LINK_HOPS_MAX 40
#define LINK_TARGET_MAX 4095
#define NAME_MAX_BYTES 255
#define SKIPPED_JSON_MAX 2048

struct walk {
	const struct fetch_args *a;
	git_repository *repo;
	git_odb *odb;
	git_tree *root;
	struct emit em;
	char base[FETCH_PATH_MAX];	/* /home/corral/<subdir> */
	size_t base_len;
	uint64_t entries, files, dirs, links, bytes, skipped;
	char commit_hex[GIT_OID_HEXSZ + 1];
	char skipped_json[SKIPPED_JSON_MAX];
	size_t skipped_len;
};

static const char *shown(const char *s)
{
	static char buf[2][POLICY_SHOW_MAX + 4];
	static int i;

	i ^= 1;
	return policy_show(buf[i], sizeof(buf[i]), s);
}

static int name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > NAME_MAX_BYTES || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    strcasecmp(name, ".git") == 0 || strchr(name, '/'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return 0;
	return 1;
}

/* Reads a symlink's blob as a NUL-terminated target. */
static int read_target(struct walk *w, const git_oid *id, const char *path, char *out,
		       struct errmsg *reterr)
{
	git_blob *b = NULL;
	size_t n;
	int r;

	r = git_blob_lookup(&b, w->repo, id);
	if (r < 0)
		return fetch_git_fail(r, "read symlink", reterr);
	n = (size_t)git_blob_rawsize(b);
	if (n == 0 || n > LINK_TARGET_MAX || memchr(git_blob_rawcontent(b), 0, n)) {
		git_blob_free(b);
		return errmsg_set(reterr, FETCH_EXIT_HOSTILE, "repo: symlink '%s' has a bad target",
				  shown(path));
	}
	memcpy(out, git_blob_rawcontent(b), n);
	out[n] = '\0';
	git_blob_free(b);
	return 0;
}

static void pop(char *cur)
{
	char *s = strrchr(cur, '/');

	if (s)
		*s = '\0';
	else
		cur[0] = '\0';
}

/* Resolves target from directory cur (relative to the checkout, "" = its root) inside the
 * commit's tree; cur becomes the resolved path. 0 inside, 1 outside (or a loop), else error. */
static int resolve(struct walk *w, char *cur, const char *target, unsigned *hops,
		   struct errmsg *reterr)
{
	const char *p = target;

	if (target[0] == '/')
		return 1;
	while (*p) {
		size_t n = strcspn(p, "/"), len = strlen(cur);
		git_tree_entry *e = NULL;

		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (!cur[0])
				return 1;
			pop(cur);
		} else {
			if (len + 1 + n >= FETCH_PATH_MAX)
				return 1;
			if (len)
				cur[len++] = '/';
			memcpy(cur + len, p, n);
			cur[len + n] = '\0';
			if (git_tree_entry_bypath(&e, w->root, cur) == 0 &&
			    git_tree_entry_filemode(e) == GIT_FILEMODE_LINK) {
				char next[LINK_TARGET_MAX + 1];
				int r;

				if (++*hops > LINK_HOPS_MAX) {
					git_tree_entry_free(e);
					return 1;
				}
				r = read_target(w, git_tree_entry_id(e), cur, next, reterr);
				git_tree_entry_free(e);
				if (r)
					return -r;
				pop(cur);
				r = resolve(w, cur, next, hops, reterr);
				if (r)
					return r;
			} else {
				git_tree_entry_free(e);
			}
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

static int do_link(struct walk *w, const git_tree_entry *e, const char *rel, char *full,
		   struct errmsg *reterr)
{
	char target[LINK_TARGET_MAX + 1], cur[FETCH_PATH_MAX];
	unsigned hops = 0;
	int r;

	r = read_target(w, git_tree_entry_id(e), rel, target, reterr);
	if (r)
		return r;
	snprintf(cur, sizeof(cur), "%s", rel);
	pop(cur);
	r = resolve(w, cur, target, &hops, reterr);
	if (r < 0)
		return -r;
	if (r > 0)
		return errmsg_set(reterr, FETCH_EXIT_HOSTILE,
				  "repo: symlink '%s' points outside the checkout (%s)", shown(rel),
				  shown(target));
	w->links++;
	return emit_symlink(&w->em, full, target, reterr);
}

static int do_blob(struct walk *w, const git_tree_entry *e, const char *rel, char *full,
		   struct errmsg *reterr)
{
	const git_oid *id = git_tree_entry_id(e);
	git_object_t type;
	git_blob *b = NULL;
	size_t size;
	int r;

	r = git_odb_read_header(&size, &type, w->odb, id);
	if (r < 0)
		return fetch_git_fail(r, "read blob", reterr);
	if (w->a->max_file && size > w->a->max_file)
		return errmsg_set(reterr, FETCH_EXIT_SIZE,
				  "repo: file '%s' is %zu bytes, over the %" PRIu64 "-byte limit",
				  shown(rel), size, w->a->max_file);
	if (w->a->max_bytes && w->bytes + size > w->a->max_bytes)
		return errmsg_set(reterr, FETCH_EXIT_SIZE,
				  "repo: checkout over %" PRIu64 " bytes (at '%s')",
				  w->a->max_bytes, shown(rel));
	r = git_blob_lookup(&b, w->repo, id);
	if (r < 0)
		return fetch_git_fail(r, "read blob", reterr);
	w->bytes += size;
	w->files++;
	r = emit_file(&w->em, full,
		      git_tree_entry_filemode(e) == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644,
		      git_blob_rawcontent(b), (size_t)git_blob_rawsize(b), reterr);
	git_blob_free(b);
	return r;
}

static void note_skipped(struct walk *w, const char *rel)
{
	size_t room = sizeof(w->skipped_json) - w->skipped_len;
	int n;

	if (w->skipped++ >= FETCH_SKIPPED_SHOWN_MAX || room < 8)
		return;
	n = snprintf(w->skipped_json + w->skipped_len, room, "%s\"", w->skipped_len ? "," : "");
	w->skipped_len += (size_t)n;
	for (const char *p = rel; *p && w->skipped_len + 4 < sizeof(w->skipped_json); p++) {
		unsigned char c = (unsigned char)*p;

		w->skipped_json[w->skipped_len++] = (c < 0x20 || c >= 0x7f || c == '"' ||
						     c == '\\') ? '?' : (char)c;
	}
	w->skipped_json[w->skipped_len++] = '"';
	w->skipped_json[w->skipped_len] = '\0';
}

static int walk_tree(struct walk *w, const git_tree *tree, char *rel, size_t rel_len,
		     unsigned depth, struct errmsg *reterr)
{
	char full[2 * FETCH_PATH_MAX + 2];	/* the length was checked against WIRE_PATH_MAX */
	size_t n = git_tree_entrycount(tree);
	int r = 0;

	if (depth > TREE_DEPTH_MAX)
		return errmsg_set(reterr, FETCH_EXIT_HOSTILE, "repo: tree deeper than %d levels",
				  TREE_DEPTH_MAX);
	for (size_t i = 0; i < n && !r; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(e);
		size_t nlen = strlen(name), len = rel_len + (rel_len ? 1 : 0) + nlen;
		git_filemode_t mode = git_tree_entry_filemode(e);

		if (!name_ok(name))
			return errmsg_set(reterr, FETCH_EXIT_HOSTILE,
					  "repo: bad file name '%s' in '%s'", shown(name),
					  shown(rel_len ? rel : "."));
		if (w->base_len + 1 + len >= WIRE_PATH_MAX)
			return errmsg_set(reterr, FETCH_EXIT_HOSTILE,
					  "repo: path longer than %d bytes", WIRE_PATH_MAX);
		if (w->a->max_files && ++w->entries > w->a->max_files)
			return errmsg_set(reterr, FETCH_EXIT_SIZE, "repo: checkout over %" PRIu64
					  " files", w->a->max_files);
		if (rel_len)
			rel[rel_len] = '/';
		memcpy(rel + len - nlen, name, nlen + 1);
		snprintf(full, sizeof(full), "%s/%s", w->base, rel);
		switch (mode) {
		case GIT_FILEMODE_TREE: {
			git_tree *sub = NULL;

			r = emit_dir(&w->em, full, reterr);
			if (r)
				break;
			w->dirs++;
			r = git_tree_lookup(&sub, w->repo, git_tree_entry_id(e));
			if (r < 0) {
				r = fetch_git_fail(r, "read tree", reterr);
				break;
			}
			r = walk_tree(w, sub, rel, len, depth + 1, reterr);
			git_tree_free(sub);
			break;
		}
		case GIT_FILEMODE_BLOB:
		case GIT_FILEMODE_BLOB_EXECUTABLE:
			r = do_blob(w, e, rel, full, reterr);
			break;
		case GIT_FILEMODE_LINK:
			r = do_link(w, e, rel, full, reterr);
			break;
		case GIT_FILEMODE_COMMIT:
			note_skipped(w, rel);
			break;
		default:
			r = errmsg_set(reterr, FETCH_EXIT_HOSTILE, "repo: '%s' has an unknown mode",
				       shown(rel));
		}
		rel[rel_len] = '\0';
	}
	return r;
}

static int lookup_ref(git_repository *repo, const char *ref, git_reference **out)
{
	char full[FETCH_PATH_MAX];

	if (strcmp(ref, "HEAD") == 0 || strncmp(ref, "refs/", 5) == 0)
		return git_reference_lookup(out, repo, ref);
	snprintf(full, sizeof(full), "refs/heads/%s", ref);
	if (git_reference_lookup(out, repo, full) == 0)
		return 0;
	snprintf(full, sizeof(full), "refs/tags/%s", ref);
	return git_reference_lookup(out, repo, full);
}

static bool is_hex40(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 40;
}

static int resolve_commit(struct walk *w, git_commit **out, struct errmsg *reterr)
{
	const char *ref = w->a->ref;
	git_reference *r = NULL;
	git_object *obj = NULL;
	git_oid id;
	int gerr;

	if (is_hex40(ref)) {
		if (git_oid_fromstr(&id, ref) < 0 || git_commit_lookup(out, w->repo, &id) < 0)
			return errmsg_set(reterr, FETCH_EXIT_REF, "repo: commit %s not found in %s",
					  ref, shown(w->a->url));
		return 0;
	}
	if (lookup_ref(w->repo, ref, &r) < 0)
		return errmsg_set(reterr, FETCH_EXIT_REF, "repo: ref '%s' not found in %s",
				  shown(ref), shown(w->a->url));
	gerr = git_reference_peel(&obj, r, GIT_OBJECT_COMMIT);
	git_reference_free(r);
	if (gerr < 0)
		return errmsg_set(reterr, FETCH_EXIT_REF, "repo: ref '%s' is not a commit",
				  shown(ref));
	*out = (git_commit *)obj;
	return 0;
}

static int run_export(struct walk *w, struct errmsg *reterr)
{
	char rel[FETCH_PATH_MAX] = "";
	git_commit *commit = NULL;
	int r;

	r = resolve_commit(w, &commit, reterr);
	if (r)
		return r;
	git_oid_tostr(w->commit_hex, sizeof(w->commit_hex), git_commit_id(commit));
	r = git_commit_tree(&w->root, commit);
	git_commit_free(commit);
	if (r < 0)
		return fetch_git_fail(r, "read commit", reterr);
	r = emit_dir(&w->em, w->base, reterr);
	if (!r)
		r = walk_tree(w, w->root, rel, 0, 0, reterr);
	if (!r)
		r = emit_flush(&w->em, reterr);
	return r;
}

int fetch_export(const struct fetch_args *a, int out_fd, char *summary, size_t n,
		 struct errmsg *reterr)
{
	struct walk *w = calloc(1, sizeof(*w));
	struct fetch_paths p;
	int lock = -1, r;

	if (!w)
		return errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: out of memory");
	w->a = a;
	emit_init(&w->em, out_fd);
	w->base_len = (size_t)snprintf(w->base, sizeof(w->base), "%s/%s", FETCH_GUEST_HOME,
				       a->subdir);
	r = fetch_paths_of(a->cache, a->url, &p, reterr);
	if (r)
		goto out;
	lock = fetch_lock(&p, LOCK_SH, reterr);
	if (lock < 0) {
		r = -lock;
		goto out;
	}
	if (access(p.git, F_OK) < 0) {
		r = errmsg_set(reterr, FETCH_EXIT_REF, "repo: no mirror of %s in the cache",
			       shown(a->url));
		goto out;
	}
	r = git_repository_open_bare(&w->repo, p.git);
	if (r == 0)
		r = git_repository_odb(&w->odb, w->repo);
	if (r < 0) {
		r = fetch_git_fail(r, "open mirror", reterr);
		goto out;
	}
	r = run_export(w, reterr);
	if (r)
		goto out;
	fetch_touch(p.stamp);
	snprintf(summary, n,
		 "{\"commit\":\"%s\",\"files\":%" PRIu64 ",\"dirs\":%" PRIu64
		 ",\"symlinks\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"frames\":%" PRIu64
		 ",\"skipped\":%" PRIu64 ",\"skipped_paths\":[%s],\"depth\":%u,\"shallow\":false}",
		 w->commit_hex, w->files, w->dirs, w->links, w->bytes, w->em.frames, w->skipped,
		 w->skipped_json, a->depth);
out:
	git_tree_free(w->root);
	git_odb_free(w->odb);
	git_repository_free(w->repo);
	emit_free(&w->em);
	fd_close(lock);
	free(w);
	return r;
}
