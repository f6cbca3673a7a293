/*
 * corral-jail: runs QEMU confined. corrald (vm/host) execs it in front of every QEMU:
 *
 *   corral-jail --uid U --gid G [--root DIR] [--bind-ro SRC[:DST]]... [--bind-rw SRC[:DST]]...
 *               [--bind-dev PATH]... [--chown PATH]... [--cgroup NAME [--mem-max BYTES]
 *               [--pids-max N] [--cpu-max QUOTA_US[/PERIOD_US]]] [--rlimit-nofile N]
 *               [--rlimit-nproc N] [--net] [--keep-fd3] [--mem-fd N] [--no-seccomp]
 *               -- /abs/path/qemu ARGS...
 *   corral-jail --print-seccomp
 *
 * It walks one ordered table of steps and dies on the first failure with
 * "corral-jail: step NAME: ERRNO: detail" (exit 125). The supervisor half (outside the new pid
 * namespace) creates the cgroup, forks, forwards SIGTERM/SIGINT/SIGHUP to the jailed child as
 * SIGKILL, reaps it, removes the cgroup and exits with the child's status (re-raising its signal),
 * so whoever kills the supervisor gently gets the cleanup for free. Why a supervisor rather than a
 * cleanup helper in vm/host: a pid namespace needs a fork anyway (the first child is its init), and
 * the cgroup can only be removed once that init is gone, which the parent learns first.
 * The child (PID 1 of fresh pid, mount, ipc, uts and net namespaces) joins the cgroup, builds a
 * tmpfs root holding only the binds, pivots into it, sets rlimits, drops to the VM's own uid/gid
 * with no capabilities, sets no_new_privs, loads the seccomp allowlist (qemu.seccomp) and execs.
 * It must never exec anything with privileges left, and must not link libwire.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errmsg.h"
#include "jail.h"

#define JAIL_EXIT_FAIL 125
#define JAIL_HOSTNAME "corral-vm"

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
	stop_sig = sig;
	if (child_pid > 0)
		kill((pid_t)child_pid, SIGKILL);
}

static int step_pdeathsig_term(struct jail *j, char *detail)
{
	/* vm/host armed SIGKILL; SIGTERM lets the supervisor clean up when corrald dies. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0) {
		snprintf(detail, JAIL_DETAIL_MAX, "PR_SET_PDEATHSIG SIGTERM");
		return -errno;
	}
	return 0;
}

static int step_signals(struct jail *j, char *detail)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGHUP, &sa, NULL) < 0) {
		snprintf(detail, JAIL_DETAIL_MAX, "sigaction");
		return -errno;
	}
	return 0;
}

static int step_unshare_pid(struct jail *j, char *detail)
{
	if (unshare(CLONE_NEWPID) < 0) {
		snprintf(detail, JAIL_DETAIL_MAX, "unshare(CLONE_NEWPID)");
		return -errno;
	}
	return 0;
}

/* Waits for the child, removes the cgroup, exits like the child did. Never returns. */
__attribute__((noreturn)) static void supervise(struct jail *j, pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = JAIL_EXIT_FAIL << 8;
			break;
		}
	}
	jail_cgroup_remove(j);
	if (WIFSIGNALED(status)) {
		signal(WTERMSIG(status), SIG_DFL);
		prctl(PR_SET_DUMPABLE, 0);
		raise(WTERMSIG(status));
	}
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : JAIL_EXIT_FAIL);
}

static int step_fork(struct jail *j, char *detail)
{
	pid_t pid = fork();

	if (pid < 0) {
		snprintf(detail, JAIL_DETAIL_MAX, "fork into the new pid namespace");
		return -errno;
	}
	if (pid > 0) {
		child_pid = pid;
		if (stop_sig)
			kill(pid, SIGKILL);
		supervise(j, pid);
	}
	return 0;
}

static int step_pdeathsig_kill(struct jail *j, char *detail)
{
	struct sigaction dfl;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	(void)sigaction(SIGTERM, &dfl, NULL);
	(void)sigaction(SIGINT, &dfl, NULL);
	(void)sigaction(SIGHUP, &dfl, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
		snprintf(detail, JAIL_DETAIL_MAX, "PR_SET_PDEATHSIG SIGKILL");
		return -errno;
	}
	if (getppid() == 0) {	/* the supervisor is outside our pid ns: 0 means it is gone */
		snprintf(detail, JAIL_DETAIL_MAX, "supervisor died");
	}
	return 0;
}

static int step_unshare(struct jail *j, char *detail)
{
	int flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | (j->net ? 0 : CLONE_NEWNET);

	if (unshare(flags) < 0) {
		snprintf(detail, JAIL_DETAIL_MAX, "unshare(mount, ipc, uts%s)", j->net ? "" : ", net");
		return -errno;
	}
	return 0;
}

static int step_hostname(struct jail *j, char *detail)
{
	if (sethostname(JAIL_HOSTNAME, strlen(JAIL_HOSTNAME)) < 0) {
		snprintf(detail, JAIL_DETAIL_MAX, "sethostname");
		return -errno;
	}
	return 0;
}

/* Closes every fd from 3 up except fd 3 with --keep-fd3 and the --mem-fd. */
static int step_close_fds(struct jail *j, char *detail)
{
	unsigned keep[2], n = 0, lo = 3;

	if (j->keep_fd3)
		keep[n++] = 3;
	if (j->mem_fd >= 0 && !(j->keep_fd3 && j->mem_fd == 3))
		keep[n++] = (unsigned)j->mem_fd;
	if (n == 2 && keep[0] > keep[1]) {
		unsigned t = keep[0];

		keep[0] = keep[1];
		keep[1] = t;
	}
	for (unsigned i = 0; i <= n; i++) {
		unsigned hi = i < n ? keep[i] : 0U;

		if (i < n && hi <= lo) {	/* nothing between lo and this kept fd */
			lo = hi + 1;
			continue;
		}
		if (syscall(SYS_close_range, lo, i < n ? hi - 1 : ~0U, 0U) < 0) {
			snprintf(detail, JAIL_DETAIL_MAX, "close_range(%u, %s)", lo,
				 i < n ? "kept fd - 1" : "~0");
			return -errno;
		}
		lo = hi + 1;
	}
	return 0;
}

static int step_exec(struct jail *j, char *detail)
{
	static char *const env[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", NULL };

	execve(j->argv[0], j->argv, env);
	snprintf(detail, JAIL_DETAIL_MAX, "execve %s", j->argv[0]);
	return -errno;
}

struct step {
	const char *name;
	int (*fn)(struct jail *j, char *detail);
};

/* The order matters: each line assumes the ones above it succeeded. */
static const struct step steps[] = {
	/* supervisor, outside the new namespaces */
	{ "pdeathsig", step_pdeathsig_term },
	{ "signals", step_signals },
	{ "cgroup-create", jail_cgroup_create },
	{ "unshare-pid", step_unshare_pid },
	{ "fork", step_fork },
	/* the child: PID 1 of the new pid namespace, still root */
	{ "child-pdeathsig", step_pdeathsig_kill },
	{ "cgroup-join", jail_cgroup_join },
	{ "unshare", step_unshare },
	{ "hostname", step_hostname },
	{ "mem-fd", jail_mem_fd_check },
	{ "mount-private", jail_mount_private },
	{ "chown", jail_chown },
	{ "root-tmpfs", jail_mount_root },
	{ "binds", jail_mount_binds },
	{ "proc", jail_mount_proc },
	{ "pivot-root", jail_pivot },
	{ "close-fds", step_close_fds },
	{ "rlimits", jail_rlimits },
	{ "capbset", jail_drop_bounding },
	{ "setids", jail_setids },
	{ "caps", jail_drop_caps },
	{ "no-new-privs", jail_no_new_privs },
	{ "seccomp", jail_seccomp },
	{ "exec", step_exec },
};

__attribute__((noreturn, format(printf, 2, 3))) static void die(const char *step,
								  const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "corral-jail: step %s: ", step);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(JAIL_EXIT_FAIL);
}

static uint64_t parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		die("args", "EINVAL: %s: '%s' is not a number in [%" PRIu64 ", %" PRIu64 "]", opt, s,
		    min, max);
	return v;
}

static void add_bind(struct jail *j, char *spec, bool rw, bool dev)
{
	char *colon = strchr(spec, ':');
	struct jail_bind *b;

	if (j->nbinds >= JAIL_BINDS_MAX)
		die("args", "E2BIG: more than %d binds", JAIL_BINDS_MAX);
	b = &j->binds[j->nbinds++];
	if (colon)
		*colon = '\0';
	b->src = spec;
	b->dst = colon ? colon + 1 : spec;
	b->rw = rw;
	b->dev = dev;
	if (b->src[0] != '/' || b->dst[0] != '/')
		die("args", "EINVAL: bind '%s': paths must be absolute", spec);
}

static void parse_args(struct jail *j, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "uid", required_argument, NULL, 'u' },
		{ "gid", required_argument, NULL, 'g' },
		{ "root", required_argument, NULL, 'R' },
		{ "bind-ro", required_argument, NULL, 'b' },
		{ "bind-rw", required_argument, NULL, 'w' },
		{ "bind-dev", required_argument, NULL, 'd' },
		{ "chown", required_argument, NULL, 'o' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "mem-max", required_argument, NULL, 'm' },
		{ "pids-max", required_argument, NULL, 'p' },
		{ "cpu-max", required_argument, NULL, 'C' },
		{ "rlimit-nofile", required_argument, NULL, 'f' },
		{ "rlimit-nproc", required_argument, NULL, 'n' },
		{ "net", no_argument, NULL, 'N' },
		{ "keep-fd3", no_argument, NULL, 'K' },
		{ "mem-fd", required_argument, NULL, 'M' },
		{ "no-seccomp", no_argument, NULL, 'S' },
		{ "print-seccomp", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_uid = false, have_gid = false;
	int opt;
	char *slash;

	j->root = JAIL_ROOT_DEFAULT;
	j->mem_fd = -1;
	j->seccomp = true;
	j->cpu_period_us = 100000;
	while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (opt) {
		case 'u': j->uid = (uid_t)parse_u64("--uid", optarg, 1, UINT32_MAX - 1);
			  have_uid = true; break;
		case 'g': j->gid = (gid_t)parse_u64("--gid", optarg, 1, UINT32_MAX - 1);
			  have_gid = true; break;
		case 'R': j->root = optarg; break;
		case 'b': add_bind(j, optarg, false, false); break;
		case 'w': add_bind(j, optarg, true, false); break;
		case 'd': add_bind(j, optarg, true, true); break;
		case 'o':
			if (j->nchown >= JAIL_BINDS_MAX || optarg[0] != '/')
				die("args", "EINVAL: --chown '%s': absolute, at most %d", optarg,
				    JAIL_BINDS_MAX);
			j->chown_dirs[j->nchown++] = optarg;
			break;
		case 'c': j->cgroup = optarg; break;
		case 'm': j->mem_max = parse_u64("--mem-max", optarg, 1 << 20, UINT64_MAX / 2); break;
		case 'p': j->pids_max = parse_u64("--pids-max", optarg, 1, 1 << 22); break;
		case 'C':
			slash = strchr(optarg, '/');
			if (slash) {
				*slash = '\0';
				j->cpu_period_us = parse_u64("--cpu-max period", slash + 1, 1000,
							     1000000);
			}
			j->cpu_quota_us = parse_u64("--cpu-max", optarg, 1000, 1000000000);
			if (slash)
				*slash = '/';
			break;
		case 'f': j->rl_nofile = parse_u64("--rlimit-nofile", optarg, 16, 1 << 20); break;
		case 'n': j->rl_nproc = parse_u64("--rlimit-nproc", optarg, 1, 1 << 22); break;
		case 'N': j->net = true; break;
		case 'K': j->keep_fd3 = true; break;
		case 'M': j->mem_fd = (int)parse_u64("--mem-fd", optarg, 3, 1023); break;
		case 'S': j->seccomp = false; break;
		case 'P': jail_seccomp_print(); exit(0);
		default: die("args", "EINVAL: unknown option or missing value (see vm/jailer/main.c)");
		}
	}
	if (!have_uid || !have_gid)
		die("args", "EINVAL: --uid and --gid are required");
	if (optind >= argc || argv[optind][0] != '/')
		die("args", "EINVAL: expected -- /absolute/path/to/qemu ARGS...");
	if (j->root[0] != '/')
		die("args", "EINVAL: --root must be absolute");
	j->argv = argv + optind;
}

int main(int argc, char **argv)
{
	static struct jail j;
	char detail[JAIL_DETAIL_MAX];

	parse_args(&j, argc, argv);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int r;

		detail[0] = '\0';
		r = steps[i].fn(&j, detail);
		if (r < 0)
			die(steps[i].name, "%s: %s", errno_name(r), detail[0] ? detail : "-");
	}
	return JAIL_EXIT_FAIL;	/* not reached: step exec returns only on failure */
}
