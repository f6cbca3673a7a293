/*
 * repo: the worker side of repo jobs (issue 5). It checks a repo request against the URL policy
 * (fetch/policy.h, no DNS: that would block the loop), then runs the jailed helper corral-fetch
 * (fetch/README.md) as child processes on the libev loop: `fetch` (the network part, shared by
 * every concurrent request of one URL) and `export` (the checkout as a stream of libwire PUT
 * frames, written to an unlinked temp file whose fd done() receives, rewound to 0). A 40-hex
 * commit already in the mirror skips the network. It never blocks the loop: children are
 * watched with ev_child (default loop) or a pidfd, stderr is read non-blocking, a timer SIGKILLs
 * a helper over the time limit. Credentials reach the helper only over a pipe, only the one
 * for the URL's host, only for https; they are never logged or put in an error.
 */
#ifndef CORRAL_WORKER_REPO_H
#define CORRAL_WORKER_REPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "wire.h"

struct ev_loop;

struct repo_policy {            /* filled by config.c */
	char **allow; size_t nallow;       /* fnmatch(3) patterns over the whole URL; https URLs always allowed */
	char **creds; size_t ncreds;       /* "HOST=USER:SECRET" or "HOST=@/path/to/file" (file holds USER:SECRET) */
	char cache_dir[4096];              /* default <run_dir>/repos */
	uint64_t cache_max;                /* bytes, default 2 GiB, LRU eviction */
	uint64_t max_bytes;                /* checkout bytes, default 64 MiB */
	uint64_t max_files;                /* default 20000 */
	uint64_t max_file;                 /* one file, default 32 MiB */
	unsigned timeout_ms;               /* fetch time limit, default 120000 */
	const char *fetch_bin;             /* corral-fetch path; NULL = next to corrald */
	/* addition (fetch helper): the worker's run dir, hidden from the helper by an empty tmpfs;
	 * NULL = CORRAL_DEFAULT_RUN_DIR. The cache dir's parent is hidden as well. */
	const char *run_dir;
};

struct repo_checkout {                  /* given to done() */
	char commit[41];
	bool mirror_hit;                   /* no network/clone needed, or an incremental fetch only */
	uint64_t fetch_ms, files, bytes;
	int fd;                            /* read end: a stream of libwire PUT frames (header+payload) to forward
	                                      to the agent, paths under /home/corral/<subdir>, uid/gid 1000;
	                                      the caller closes it */
};

/* err < 0: why (errmsg text starting "repo: ...", e.g. "repo: ref 'nope' not found in https://..."),
 * transient = true when a retry may help (network, timeout), false for policy/ref/size/hostile errors.
 * co is NULL when err < 0. done() may call repo_fetch()/repo_cancel() of other ops. */
typedef void (*repo_done_fn)(void *ud, int err, bool transient, const struct repo_checkout *co, const char *why);

/* Keeps pol (shallow copy: the allow/creds strings must outlive repo_fini()); a zero/empty field
 * takes the default shown above. Creates the run dir and the cache dir (0700, owned by the fetch
 * uid 199999) and checks the helper binary is executable. 0 or -errno. */
int repo_init(struct ev_loop *loop, const struct repo_policy *pol, struct errmsg *reterr);
/* Kills every helper still running; no callback is called afterwards. */
void repo_fini(void);

struct repo_op;
/* Starts fetching req (copied). Returns 0 and calls done exactly once later (never from inside
 * repo_fetch), unless repo_cancel() comes first; policy refusals also arrive through done()
 * (err -EPERM, transient false). < 0 (-ENOMEM, -EINVAL before repo_init) and no callback.
 * *ret (may be NULL) identifies the op until done() is called or it is cancelled. */
int repo_fetch(const struct wire_repo *req, repo_done_fn done, void *ud, struct repo_op **ret, struct errmsg *reterr);
void repo_cancel(struct repo_op *op);   /* no callback after this */

#endif
