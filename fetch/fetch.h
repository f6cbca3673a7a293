/*
 * fetch: the pieces of corral-fetch. main.c parses the arguments into struct fetch_args, checks
 * the URL policy, enters the jail (jail.c, seccomp.c) and runs one mode: mirror.c (fetch into the
 * bare mirror cache), export.c (walk a commit's tree into PUT frames, emit.c), evict.c (LRU).
 * Functions here return 0 or a FETCH_EXIT_* code (fetch_proto.h) — the process exit code — with
 * one line in reterr starting "repo: ". Only mirror.c, export.c and gitutil.c include libgit2.
 */
#ifndef CORRAL_FETCH_H
#define CORRAL_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "errmsg.h"
#include "fetch_proto.h"
#include "policy.h"

#define FETCH_HIDE_MAX 16
#define FETCH_PROBE_MAX 16
#define FETCH_PATH_MAX 4096
#define FETCH_KEY_HEX 32		/* mirror name: first 32 hex digits of sha256(url) */
#define FETCH_SKIPPED_SHOWN_MAX 16	/* submodule paths named in the summary */

struct fetch_args {
	const char *mode;		/* "fetch", "export" or "selftest" */
	const char *cache;
	const char *url;
	const char *allow[POLICY_ALLOW_MAX];
	size_t nallow;
	int cred_fd;			/* -1: none */
	const char *ref;		/* export */
	const char *subdir;		/* export */
	uint64_t max_bytes, max_files, max_file;	/* export caps */
	uint64_t repo_max;		/* fetch: received pack bytes */
	uint64_t objects_max;		/* fetch: objects in the pack */
	uint64_t cache_max;		/* fetch: LRU eviction above this; 0 = none */
	uint32_t depth;			/* accepted and recorded only (libgit2 1.5: no shallow) */
	unsigned timeout_ms;		/* 0 = none */
	const char *hide[FETCH_HIDE_MAX];	/* extra dirs covered by tmpfs in the jail */
	size_t nhide;
	const char *probe[FETCH_PROBE_MAX];	/* selftest: files it must not be able to read */
	size_t nprobe;
	char user[FETCH_CRED_MAX];	/* from --cred-fd, wiped at exit */
	char secret[FETCH_CRED_MAX];
	bool has_cred;
};

/* Paths of a URL's mirror in the cache: <cache>/<key>.git, .lock, .stamp. */
struct fetch_paths {
	char key[FETCH_KEY_HEX + 1];
	char git[FETCH_PATH_MAX];
	char tmp[FETCH_PATH_MAX];	/* a first clone is built here, then renamed */
	char lock[FETCH_PATH_MAX];
	char stamp[FETCH_PATH_MAX];
};

int fetch_paths_of(const char *cache, const char *url, struct fetch_paths *p,
		   struct errmsg *reterr);
/* Opens and flock()s the lock file (LOCK_EX or LOCK_SH); returns the fd ≥ 0 or -FETCH_EXIT_*. */
int fetch_lock(const struct fetch_paths *p, int how, struct errmsg *reterr);
void fetch_touch(const char *path);

/* sha256.c */
void sha256(const void *data, size_t len, uint8_t out[32]);

/* jail.c: drops into the jail. As root: new mount/pid/ipc/uts namespaces, read-only root, tmpfs
 * over the hidden dirs, the cache bound read-write, uid/gid FETCH_UID; the calling process
 * stays outside as a waiting parent and exits with the child's code (it never returns). In the
 * child, and when not root, rlimits, no_new_privs and the seccomp filter. */
int fetch_jail(const struct fetch_args *a, struct errmsg *reterr);
/* seccomp.c */
int fetch_seccomp(struct errmsg *reterr);
/* selftest in jail.c: tries what the jail must forbid; 0 when every attempt failed. */
int fetch_selftest(const struct fetch_args *a, struct errmsg *reterr);

/* mirror.c: creates or updates the mirror; *existed tells whether it was there before. */
struct fetch_stats {
	bool existed;
	uint64_t received_bytes, received_objects;
};
int fetch_mirror(const struct fetch_args *a, struct fetch_stats *st, struct errmsg *reterr);
/* evict.c: removes a directory tree (no symlink followed, not across mounts), best effort. */
void fetch_rm_tree(const char *path);
/* evict.c: removes least recently used mirrors (not keep_key, not locked) until the cache's
 * total size is ≤ max. Returns how many it removed (never fails the fetch). */
int fetch_evict(const char *cache, uint64_t max, const char *keep_key);

/* export.c: writes PUT frames to out_fd and fills the summary (one JSON line, no newline). */
int fetch_export(const struct fetch_args *a, int out_fd, char *summary, size_t n,
		 struct errmsg *reterr);

/* gitutil.c: libgit2 set-up and error classification. */
int fetch_git_init(struct errmsg *reterr);
/* The last libgit2 error as an exit code and message ("repo: <what>: <libgit2 message>"). */
int fetch_git_fail(int gerr, const char *what, struct errmsg *reterr);

#endif
