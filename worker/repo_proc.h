/*
 * repo_proc: one corral-fetch child process on the libev loop (internal to repo.c). It spawns
 * the helper in its own process group with stdout = a given fd, an optional credential pipe as
 * fd 3, stderr = a non-blocking pipe it reads (keeping the last line), a wall-clock timer that
 * SIGKILLs the group, and reports the exit once. It knows nothing about git or jobs.
 */
#ifndef CORRAL_WORKER_REPO_PROC_H
#define CORRAL_WORKER_REPO_PROC_H

#include <stdbool.h>
#include <stdint.h>

#include "errmsg.h"

#define REPO_PROC_LINE_MAX 1024		/* last stderr line kept */
#define REPO_PROC_CRED_FD 3

struct ev_loop;
struct repo_proc;

/* code: the exit code (≥ 0), or -1 when killed by a signal, -2 when killed for the timeout.
 * line: the last line the helper wrote on stderr ("" when none). The proc is freed after the
 * callback returns. */
typedef void (*repo_proc_done_fn)(void *ud, int code, const char *line);

/* argv[0] is the helper's absolute path. out_fd becomes its stdout (-1 = /dev/null); cred_fd
 * (-1 = none) becomes fd 3; both stay owned by the caller. 0 or -errno. */
int repo_proc_spawn(struct ev_loop *loop, char *const *argv, int out_fd, int cred_fd,
		    unsigned timeout_ms, repo_proc_done_fn done, void *ud, struct repo_proc **ret,
		    struct errmsg *reterr);
/* SIGKILLs the process group; no callback afterwards; the zombie is reaped on the loop. */
void repo_proc_kill(struct repo_proc *p);
/* Shutdown only: SIGKILLs the group, waits for the child (blocking, briefly) and frees p. */
void repo_proc_kill_sync(struct repo_proc *p);

#endif
