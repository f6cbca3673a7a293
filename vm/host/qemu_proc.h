/*
 * qemu_proc: one QEMU child process. Spawns it (vfork+exec: own process group, stdin /dev/null,
 * stdout/stderr to a log file, a minimal environment, SIGKILL when the spawning thread dies), watches
 * for its exit on the caller's libev loop and kills it. It must not know QEMU's options or the
 * guest: the argv comes from qemu_argv.
 *
 * Exit watching: on libev's default loop an ev_child watcher (libev reaps every child there and
 * hands us the status); on any other loop a pidfd, reaped with waitid(). Killing always goes
 * through the pidfd, so a recycled pid is never signalled.
 */
#ifndef CORRAL_QEMU_PROC_H
#define CORRAL_QEMU_PROC_H

#include <stdint.h>
#include <sys/types.h>

#include "errmsg.h"

struct ev_loop;
struct qemu_proc;

/* The process ended. status is a waitpid() status, or -1 when someone else reaped it. The
 * callback may qemu_proc_free() p. */
typedef void (*qemu_proc_exit_fn)(struct qemu_proc *p, int status, void *ud);

/* Spawns argv[0] (an absolute path) with stdout and stderr appended to log_path (created 0600).
 * fsize_max > 0 caps every file the process writes (RLIMIT_FSIZE; writes past it fail with
 * EFBIG). 0, or negative errno with reterr naming the step (e.g. "exec /usr/bin/qemu: ENOENT"). */
int qemu_proc_spawn(struct ev_loop *loop, char *const *argv, const char *log_path,
		    uint64_t fsize_max, qemu_proc_exit_fn cb, void *ud, struct qemu_proc **ret,
		    struct errmsg *reterr);
/* Like qemu_proc_spawn, and pass_fd (≥ 0) becomes the child's fd QEMU_PROC_PASS_FD (a clone's
 * migration stream, read by `migrate-incoming fd:3`), mem_fd (≥ 0) its fd QEMU_MEM_FD (a clone's
 * sealed RAM, qemu_argv.h). An exec wrapper (jailer) must keep them open. */
#define QEMU_PROC_PASS_FD 3
int qemu_proc_spawn_fd(struct ev_loop *loop, char *const *argv, const char *log_path,
		       uint64_t fsize_max, int pass_fd, int mem_fd, qemu_proc_exit_fn cb, void *ud,
		       struct qemu_proc **ret, struct errmsg *reterr);
pid_t qemu_proc_pid(const struct qemu_proc *p);
/* The signal qemu_proc_free() stops a running process with (default SIGKILL). A jailer gets
 * SIGTERM: it kills QEMU itself, then removes the VM's cgroup. */
void qemu_proc_set_stop_signal(struct qemu_proc *p, int sig);
/* Sends sig (e.g. SIGSTOP in tests, SIGKILL) unless the process is gone. 0 or negative errno. */
int qemu_proc_signal(struct qemu_proc *p, int sig);
/* SIGKILLs the process if still running and stops watching; no callback follows. On the default
 * loop libev reaps it; on other loops it is reaped here (waits for the kill to land, a few ms).
 * NULL-safe; returns NULL. */
struct qemu_proc *qemu_proc_free(struct qemu_proc *p);
/* "exit status 1", "killed by SIGKILL", "reaped elsewhere" into out (size n). Returns out. */
char *qemu_proc_status_str(int status, char *out, size_t n);

#endif
