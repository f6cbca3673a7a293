/*
 * spawn: starts one user process for an EXEC frame. The child gets its own session and process
 * group, stdin from /dev/null, stdout/stderr pipes, default signal state, an empty capability
 * bounding set, the requested unprivileged uid/gid (uid or gid 0 is refused before forking),
 * no_new_privs (so set-uid files cannot give root back), umask 022, the cwd (or the user's home),
 * and the env with PATH and HOME defaulted. It is born in the exec's cgroup (clone3
 * CLONE_INTO_CGROUP; else it joins it before dropping root) and sets RLIMIT_NPROC (limits.c
 * chose both), so every process of the exec is counted. A failing step in the child is reported through a
 * close-on-exec pipe as (step, errno), so the caller can answer with an ERROR frame.
 * It must not wait for the process or read its output: loop.c does that.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/sched.h>
#include <unistd.h>

#include "util.h"

#define SPAWN_PASSWD "/etc/passwd"
#define SPAWN_HOME_MAX 512
#define SPAWN_CAP_MAX 64
#define SPAWN_PIPE_SIZE (256 * 1024)

extern char **environ;

enum spawn_step { STEP_SETUP, STEP_CAPS, STEP_IDS, STEP_CWD, STEP_EXEC, STEP_LIMITS };
static const char *const step_names[] = { "set up stdio/session", "drop capabilities",
					  "set uid/gid", "chdir", "exec", "set limits" };

struct spawn_fail {
	int step;
	int err;
};

int spawn_home_of(uid_t uid, char *out, size_t n)
{
	char line[1024];
	FILE *f;
	int r = -ENOENT;

	f = fopen(SPAWN_PASSWD, "re");
	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		char *field[7];
		char *p = line;
		int i;

		for (i = 0; i < 7 && p; i++)
			field[i] = strsep(&p, ":");
		if (i < 7 || !field[2][0])
			continue;
		if (strtoul(field[2], NULL, 10) != uid || !field[5][0])
			continue;
		if (strlen(field[5]) < n) {
			memcpy(out, field[5], strlen(field[5]) + 1);
			r = 0;
		}
		break;
	}
	fclose(f);
	return r;
}

static bool env_has(char *const *env, size_t envc, const char *key)
{
	size_t k = strlen(key);

	for (size_t i = 0; i < envc; i++)
		if (strncmp(env[i], key, k) == 0 && env[i][k] == '=')
			return true;
	return false;
}

static __attribute__((noreturn)) void spawn_child_fail(int fd, int step)
{
	struct spawn_fail fail = { step, errno };

	(void)!write(fd, &fail, sizeof(fail));
	_exit(127);
}

/* The agent runs with oom_score_adj -1000 (limits.c); its children inherit that, and a job that
 * cannot be OOM-killed panics the guest ("no killable processes"). Best effort: without /proc the
 * agent never changed it either. */
static void spawn_oom_adj_reset(void)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		(void)!write(fd, "0", 1);
		close(fd);
	}
}

/* fork(), with the child born in the exec's cgroup when there is one: clone3 with
 * CLONE_INTO_CGROUP (Linux 5.7). Moving the child afterwards (a write to cgroup.procs) takes
 * cgroup_threadgroup_rwsem for writing, which waits for an RCU grace period: 9-11 ms of every
 * exec on a 1-vCPU TCG guest (measured; a warm `echo hi` job is ~130 ms end to end). Any
 * refusal of clone3 (older kernel, no such cgroup) falls back to fork(); *born_in says which.
 * The raw syscall skips glibc's fork bookkeeping, which a single-threaded agent does not need;
 * the child only makes plain syscalls before exec (no raise(), no threads). */
static pid_t spawn_fork(int cg_fd, bool *born_in)
{
	*born_in = false;
	if (cg_fd >= 0) {
		struct clone_args a = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD,
					.cgroup = (uint64_t)cg_fd };
		long pid = syscall(SYS_clone3, &a, sizeof(a));

		if (pid >= 0) {
			*born_in = true;
			return (pid_t)pid;
		}
	}
	return fork();
}

static __attribute__((noreturn)) void spawn_child(const struct spawn_req *req, const char *cwd,
						  char **env, int devnull, int out_w, int err_w,
						  int fail_w, bool in_cgroup)
{
	sigset_t all;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	if (setsid() < 0 || dup2(devnull, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		spawn_child_fail(fail_w, STEP_SETUP);
	umask(022);
	/* still root: join the exec's cgroup (limits.c) and cap the user's processes */
	if (!in_cgroup && limits_exec_join(req->limits) < 0)
		spawn_child_fail(fail_w, STEP_LIMITS);
	spawn_oom_adj_reset();	/* the agent's -1000 must not be inherited: the OOM killer's victim */
	if (req->nproc) {
		struct rlimit rl = { req->nproc, req->nproc };

		if (setrlimit(RLIMIT_NPROC, &rl) < 0)
			spawn_child_fail(fail_w, STEP_LIMITS);
	}
	for (int cap = 0; cap < SPAWN_CAP_MAX; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL)
			break;
	if (setgroups(1, &req->gid) < 0 || setresgid(req->gid, req->gid, req->gid) < 0 ||
	    setresuid(req->uid, req->uid, req->uid) < 0)
		spawn_child_fail(fail_w, STEP_IDS);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		spawn_child_fail(fail_w, STEP_CAPS);
	if (chdir(cwd) < 0)
		spawn_child_fail(fail_w, STEP_CWD);
	environ = env;
	execvp(req->argv[0], req->argv);
	spawn_child_fail(fail_w, STEP_EXEC);
}

int spawn_start(const struct spawn_req *req, struct spawn_result *ret, struct errmsg *reterr)
{
	char home[SPAWN_HOME_MAX], home_env[SPAWN_HOME_MAX + 8];
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, fail[2] = { -1, -1 };
	struct spawn_fail f;
	char **env = NULL;
	int devnull = -1;
	size_t n = 0;
	ssize_t got;
	bool born_in;
	pid_t pid;
	int r;

	if (req->uid == 0 || req->gid == 0)
		return errmsg_set(reterr, -EPERM, "uid/gid 0 is not allowed");
	if (!req->argv || !req->argv[0])
		return errmsg_set(reterr, -EINVAL, "empty argv");
	if (spawn_home_of(req->uid, home, sizeof(home)) < 0)
		snprintf(home, sizeof(home), "%s", AGENT_USER_HOME_DEFAULT);
	env = calloc(req->envc + 3, sizeof(*env));
	if (!env)
		return -ENOMEM;
	for (size_t i = 0; i < req->envc; i++)
		env[n++] = req->env[i];
	if (!env_has(req->env, req->envc, "PATH"))
		env[n++] = AGENT_PATH_DEFAULT;
	if (!env_has(req->env, req->envc, "HOME")) {
		snprintf(home_env, sizeof(home_env), "HOME=%s", home);
		env[n++] = home_env;
	}
	env[n] = NULL;

	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
	    pipe2(fail, O_CLOEXEC) < 0) {
		r = errmsg_set(reterr, -errno, "pipes");
		goto out;
	}
	/* Bigger pipes: fewer wake-ups per MB under TCG; best effort. */
	(void)fcntl(out[1], F_SETPIPE_SZ, SPAWN_PIPE_SIZE);
	(void)fcntl(err[1], F_SETPIPE_SZ, SPAWN_PIPE_SIZE);
	pid = spawn_fork(req->limits && req->limits->name[0] ? req->limits->dir_fd : -1, &born_in);
	if (pid < 0) {
		r = errmsg_set(reterr, -errno, "fork");
		goto out;
	}
	if (pid == 0)
		spawn_child(req, req->cwd ? req->cwd : home, env, devnull, out[1], err[1], fail[1],
			    born_in);
	fail[1] = fd_close(fail[1]);
	do
		got = read(fail[0], &f, sizeof(f));
	while (got < 0 && errno == EINTR);
	if (got == (ssize_t)sizeof(f)) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		r = errmsg_set(reterr, -f.err, "%s '%s': %s", step_names[f.step],
			       f.step == STEP_CWD ? (req->cwd ? req->cwd : home) : req->argv[0],
			       strerror(f.err));
		goto out;
	}
	if (fd_set_nonblock(out[0], 1) < 0 || fd_set_nonblock(err[0], 1) < 0) {
		r = -errno;	/* cannot happen on a fresh pipe; the child runs on regardless */
		kill(-pid, SIGKILL);
		goto out;
	}
	ret->pid = pid;
	ret->out_fd = out[0];
	ret->err_fd = err[0];
	out[0] = err[0] = -1;
	r = 0;
out:
	fd_close(devnull);
	for (int i = 0; i < 2; i++) {
		fd_close(out[i]);
		fd_close(err[i]);
		fail[i] = fd_close(fail[i]);
	}
	free(env);
	return r;
}
