/*
 * qemu_proc: spawns QEMU and reports its exit on the loop. vfork+exec rather than posix_spawn so
 * the child can ask for SIGKILL when the spawning thread dies (an orphaned QEMU would otherwise
 * burn a core forever after a worker crash). The child runs only async-signal-safe calls.
 * It must not block the loop except in qemu_proc_free() on a non-default loop (the probe).
 */
#include "qemu_proc.h"
#include "qemu_argv.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

struct qemu_proc {
	struct ev_loop *loop;
	pid_t pid;
	int pidfd;
	bool exited;
	bool on_default;	/* ev_child (default loop) or pidfd ev_io */
	int stop_sig;		/* qemu_proc_free(): 0 = SIGKILL */
	ev_child child;
	ev_io io;
	qemu_proc_exit_fn cb;
	void *ud;
};

struct spawn_args {
	char *const *argv;
	int null_fd;
	int log_fd;
	int pass_fd;		/* -1, or an fd above QEMU_MEM_FD to put at QEMU_PROC_PASS_FD */
	int mem_fd;		/* -1, or an fd above QEMU_MEM_FD to put at QEMU_MEM_FD */
	pid_t parent;
	rlim_t fsize_max;
	volatile int *err;
};

/* QEMU needs nothing from our environment, and the worker's may hold secrets. */
static char *const qemu_env[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", NULL };

static void child_fd(int from, int to)
{
	if (from == to)
		(void)fcntl(to, F_SETFD, 0);
	else
		(void)dup2(from, to);
}

/* In the vfork child: shares our memory, so it only writes *a->err and never returns. */
__attribute__((noreturn, noinline)) static void child_exec(const struct spawn_args *a)
{
	struct sigaction dfl;
	sigset_t none;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			(void)sigaction(s, &dfl, NULL);
	if (setpgid(0, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		goto fail;
	/* Files QEMU writes (console.log, qemu.log) are fed by the guest: cap them. Over the cap a
	 * write fails with EFBIG (SIGXFSZ ignored) instead of filling the disk. */
	if (a->fsize_max) {
		struct rlimit rl = { a->fsize_max, a->fsize_max };
		struct sigaction ign;

		memset(&ign, 0, sizeof(ign));
		ign.sa_handler = SIG_IGN;
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0 || sigaction(SIGXFSZ, &ign, NULL) < 0)
			goto fail;
	}
	if (getppid() != a->parent)
		_exit(127);	/* the parent died before PDEATHSIG was armed */
	child_fd(a->null_fd, 0);
	child_fd(a->log_fd, 1);
	child_fd(a->log_fd, 2);
	if (a->pass_fd >= 0)
		child_fd(a->pass_fd, QEMU_PROC_PASS_FD);
	if (a->mem_fd >= 0)
		child_fd(a->mem_fd, QEMU_MEM_FD);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(a->argv[0], a->argv, qemu_env);
fail:
	*a->err = errno ? errno : EINVAL;
	_exit(127);
}

/* Returns the pid, or negative errno (exec failures included: the child is reaped here). */
static pid_t do_spawn(const struct spawn_args *a)
{
	sigset_t all, old;
	pid_t pid;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = vfork();
	if (pid == 0)
		child_exec(a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		return -errno;
	if (*a->err) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return -*a->err;
	}
	return pid;
}

static void exited(struct qemu_proc *p, int status)
{
	p->exited = true;
	if (p->on_default)
		ev_child_stop(p->loop, &p->child);
	else
		ev_io_stop(p->loop, &p->io);
	p->cb(p, status, p->ud);	/* may free p */
}

static void child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct qemu_proc *p = w->data;

	if (WIFSTOPPED(w->rstatus) || WIFCONTINUED(w->rstatus))
		return;
	exited(p, w->rstatus);
}

/* siginfo from waitid() → a waitpid()-style status, or -1 when not reapable by us. */
static int reap_pidfd(int pidfd, int options)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | options) < 0) {
		if (errno != EINTR)
			return -1;
	}
	if (si.si_pid == 0)
		return -2;	/* WNOHANG and still running */
	if (si.si_code == CLD_EXITED)
		return (si.si_status & 0xff) << 8;
	return si.si_status & 0x7f;	/* killed or dumped: the signal number */
}

static void pidfd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct qemu_proc *p = w->data;
	int status = reap_pidfd(p->pidfd, WNOHANG);

	if (status == -2)
		return;
	exited(p, status);
}

int qemu_proc_spawn(struct ev_loop *loop, char *const *argv, const char *log_path,
		    uint64_t fsize_max, qemu_proc_exit_fn cb, void *ud, struct qemu_proc **ret,
		    struct errmsg *reterr)
{
	return qemu_proc_spawn_fd(loop, argv, log_path, fsize_max, -1, -1, cb, ud, ret, reterr);
}

int qemu_proc_spawn_fd(struct ev_loop *loop, char *const *argv, const char *log_path,
		       uint64_t fsize_max, int pass_fd, int mem_fd, qemu_proc_exit_fn cb, void *ud,
		       struct qemu_proc **ret, struct errmsg *reterr)
{
	volatile int child_err = 0;
	struct spawn_args a = { .argv = argv, .null_fd = -1, .log_fd = -1, .pass_fd = -1,
				.mem_fd = -1,
				.err = &child_err, .fsize_max = (rlim_t)fsize_max };
	struct qemu_proc *p = NULL;
	int fd = -1, r;
	pid_t pid;

	/* The child's fds go to 0..2 with dup2: keep the originals above that range. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		a.null_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		fd = fd_close(fd);
	}
	if (a.null_fd < 0) {
		r = errmsg_set(reterr, -errno, "open /dev/null: %s", errno_name(errno));
		goto out;
	}
	fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		a.log_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		fd = fd_close(fd);
	}
	if (a.log_fd < 0) {
		r = errmsg_set(reterr, -errno, "open %s: %s", log_path, errno_name(errno));
		goto out;
	}
	/* Above both target fds, so the child's dup2 chain cannot clobber them. */
	if (pass_fd >= 0) {
		a.pass_fd = fcntl(pass_fd, F_DUPFD_CLOEXEC, QEMU_MEM_FD + 1);
		if (a.pass_fd < 0) {
			r = errmsg_set(reterr, -errno, "dup pass fd: %s", errno_name(errno));
			goto out;
		}
	}
	if (mem_fd >= 0) {
		a.mem_fd = fcntl(mem_fd, F_DUPFD_CLOEXEC, QEMU_MEM_FD + 1);
		if (a.mem_fd < 0) {
			r = errmsg_set(reterr, -errno, "dup memfd: %s", errno_name(errno));
			goto out;
		}
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		r = -ENOMEM;
		goto out;
	}
	p->pidfd = -1;
	a.parent = getpid();
	pid = do_spawn(&a);
	if (pid < 0) {
		r = errmsg_set(reterr, pid, "exec %s: %s", argv[0], errno_name(pid));
		goto out;
	}
	p->pid = pid;
	p->loop = loop;
	p->cb = cb;
	p->ud = ud;
	/* Not reaped yet: we have not returned to the loop since vfork. */
	p->pidfd = pidfd_open(pid, 0);
	if (p->pidfd < 0) {
		r = errmsg_set(reterr, -errno, "pidfd_open: %s", errno_name(errno));
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		goto out;
	}
	p->on_default = ev_is_default_loop(loop);
	if (p->on_default) {
		ev_child_init(&p->child, child_cb, pid, 0);
		p->child.data = p;
		ev_child_start(loop, &p->child);
	} else {
		ev_io_init(&p->io, pidfd_cb, p->pidfd, EV_READ);
		p->io.data = p;
		ev_io_start(loop, &p->io);
	}
	*ret = p;
	p = NULL;
	r = 0;
out:
	if (p && p->pidfd >= 0)
		close(p->pidfd);
	free(p);
	fd_close(a.null_fd);
	fd_close(a.log_fd);
	fd_close(a.pass_fd);
	fd_close(a.mem_fd);
	return r;
}

pid_t qemu_proc_pid(const struct qemu_proc *p)
{
	return p->pid;
}

void qemu_proc_set_stop_signal(struct qemu_proc *p, int sig)
{
	p->stop_sig = sig;
}

int qemu_proc_signal(struct qemu_proc *p, int sig)
{
	if (p->exited)
		return -ESRCH;
	if (pidfd_send_signal(p->pidfd, sig, NULL, 0) < 0)
		return -errno;
	return 0;
}

struct qemu_proc *qemu_proc_free(struct qemu_proc *p)
{
	if (!p)
		return NULL;
	if (!p->exited) {
		(void)pidfd_send_signal(p->pidfd, p->stop_sig ? p->stop_sig : SIGKILL, NULL, 0);
		if (p->on_default) {
			ev_child_stop(p->loop, &p->child);
		} else {
			ev_io_stop(p->loop, &p->io);
			(void)reap_pidfd(p->pidfd, 0);
		}
	}
	close(p->pidfd);
	free(p);
	return NULL;
}

char *qemu_proc_status_str(int status, char *out, size_t n)
{
	if (status < 0)
		snprintf(out, n, "reaped elsewhere");
	else if (WIFEXITED(status))
		snprintf(out, n, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, n, "killed by SIG%s", sigabbrev_np(WTERMSIG(status)) ?: "?");
	else
		snprintf(out, n, "status 0x%x", status);
	return out;
}
