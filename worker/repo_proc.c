/*
 * repo_proc: runs one corral-fetch child on the loop (see repo_proc.h). vfork+exec so the child
 * can join its own process group and ask for SIGKILL when corrald dies; the child runs only
 * async-signal-safe calls. The child's exit is watched with ev_child on the default loop (libev
 * reaps every child there) or a pidfd elsewhere. stderr is drained when the exit is seen, so the
 * last line is complete. It must never block the loop, except repo_proc_kill_sync() at shutdown.
 */
#include "repo_proc.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#define REPO_PROC_HIGH_FD 10	/* fds are moved above this before the child's dup2 chain */

struct repo_proc {
	struct ev_loop *loop;
	pid_t pid;
	int pidfd;
	int err_fd;
	bool on_default, abandoned, timed_out;
	ev_child child;
	ev_io pid_io;
	ev_io err_io;
	ev_timer timer;
	char cur[REPO_PROC_LINE_MAX + 1];
	size_t cur_len;
	char last[REPO_PROC_LINE_MAX + 1];
	repo_proc_done_fn done;
	void *ud;
};

struct spawn_fds {
	char *const *argv;
	int in, out, err, cred;	/* all ≥ REPO_PROC_HIGH_FD, or -1 */
	pid_t parent;
	volatile int *err_no;
};

static char *const helper_env[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", "HOME=/nonexistent",
				    NULL };

__attribute__((noreturn, noinline)) static void child_exec(const struct spawn_fds *f)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			(void)sigaction(s, &dfl, NULL);
	if (setpgid(0, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		goto fail;
	if (getppid() != f->parent)
		_exit(127);
	if (dup2(f->in, 0) < 0 || dup2(f->out, 1) < 0 || dup2(f->err, 2) < 0 ||
	    (f->cred >= 0 && dup2(f->cred, REPO_PROC_CRED_FD) < 0))
		goto fail;
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(f->argv[0], f->argv, helper_env);
fail:
	*f->err_no = errno ? errno : EINVAL;
	_exit(127);
}

static pid_t do_spawn(const struct spawn_fds *f)
{
	sigset_t all, old;
	pid_t pid;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = vfork();
	if (pid == 0)
		child_exec(f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		return -errno;
	if (*f->err_no) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return -*f->err_no;
	}
	return pid;
}

static void read_err(struct repo_proc *p)
{
	char buf[4096];
	ssize_t n;

	while (p->err_fd >= 0) {
		n = read(p->err_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || errno != EAGAIN) {
				ev_io_stop(p->loop, &p->err_io);
				p->err_fd = fd_close(p->err_fd);
			}
			return;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				if (p->cur_len) {
					memcpy(p->last, p->cur, p->cur_len);
					p->last[p->cur_len] = '\0';
				}
				p->cur_len = 0;
			} else if (p->cur_len < REPO_PROC_LINE_MAX) {
				p->cur[p->cur_len++] = buf[i];
			}
		}
	}
}

static void err_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	read_err(w->data);
}

static void proc_free(struct repo_proc *p)
{
	if (p->on_default)
		ev_child_stop(p->loop, &p->child);
	else
		ev_io_stop(p->loop, &p->pid_io);
	ev_io_stop(p->loop, &p->err_io);
	ev_timer_stop(p->loop, &p->timer);
	fd_close(p->err_fd);
	fd_close(p->pidfd);
	free(p);
}

static void exited(struct repo_proc *p, int status)
{
	int code;

	if (p->abandoned) {
		proc_free(p);
		return;
	}
	read_err(p);
	if (p->cur_len) {
		memcpy(p->last, p->cur, p->cur_len);
		p->last[p->cur_len] = '\0';
	}
	if (p->timed_out)
		code = -2;
	else if (status >= 0 && WIFEXITED(status))
		code = WEXITSTATUS(status);
	else
		code = -1;
	p->done(p->ud, code, p->last);
	proc_free(p);
}

static void child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	(void)loop;
	(void)revents;
	if (WIFSTOPPED(w->rstatus) || WIFCONTINUED(w->rstatus))
		return;
	exited(w->data, w->rstatus);
}

static void pidfd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct repo_proc *p = w->data;
	siginfo_t si;

	(void)loop;
	(void)revents;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)p->pidfd, &si, WEXITED | WNOHANG) < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		exited(p, -1);
		return;
	}
	if (si.si_pid == 0)
		return;
	exited(p, si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8 : (si.si_status & 0x7f));
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct repo_proc *p = w->data;

	(void)loop;
	(void)revents;
	p->timed_out = true;
	(void)kill(-p->pid, SIGKILL);
}

static int high_fd(int fd)
{
	return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, REPO_PROC_HIGH_FD);
}

int repo_proc_spawn(struct ev_loop *loop, char *const *argv, int out_fd, int cred_fd,
		    unsigned timeout_ms, repo_proc_done_fn done, void *ud, struct repo_proc **ret,
		    struct errmsg *reterr)
{
	volatile int err_no = 0;
	struct spawn_fds f = { .argv = argv, .in = -1, .out = -1, .err = -1, .cred = -1,
			       .err_no = &err_no };
	struct repo_proc *p = calloc(1, sizeof(*p));
	int pipefd[2] = { -1, -1 }, null_fd = -1, r;
	pid_t pid;

	if (!p)
		return errmsg_set(reterr, -ENOMEM, "repo: out of memory");
	p->pidfd = p->err_fd = -1;
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		r = errmsg_set(reterr, -errno, "repo: helper pipes: %s", errno_name(errno));
		goto out;
	}
	f.in = high_fd(null_fd);
	f.out = high_fd(out_fd >= 0 ? out_fd : null_fd);
	f.err = high_fd(pipefd[1]);
	f.cred = high_fd(cred_fd);
	if (f.in < 0 || f.out < 0 || f.err < 0 || (cred_fd >= 0 && f.cred < 0)) {
		r = errmsg_set(reterr, -errno, "repo: helper fds: %s", errno_name(errno));
		goto out;
	}
	f.parent = getpid();
	pid = do_spawn(&f);
	if (pid < 0) {
		r = errmsg_set(reterr, pid, "repo: exec %s: %s", argv[0], errno_name(pid));
		goto out;
	}
	p->loop = loop;
	p->pid = pid;
	p->done = done;
	p->ud = ud;
	p->err_fd = pipefd[0];
	pipefd[0] = -1;
	(void)fd_set_nonblock(p->err_fd, 1);
	p->on_default = ev_is_default_loop(loop);
	if (p->on_default) {
		ev_child_init(&p->child, child_cb, pid, 0);
		p->child.data = p;
		ev_child_start(loop, &p->child);
	} else {
		p->pidfd = pidfd_open(pid, 0);
		if (p->pidfd < 0) {
			r = errmsg_set(reterr, -errno, "repo: pidfd_open: %s", errno_name(errno));
			(void)kill(-pid, SIGKILL);
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
			goto out;
		}
		ev_io_init(&p->pid_io, pidfd_cb, p->pidfd, EV_READ);
		p->pid_io.data = p;
		ev_io_start(loop, &p->pid_io);
	}
	ev_io_init(&p->err_io, err_cb, p->err_fd, EV_READ);
	p->err_io.data = p;
	ev_io_start(loop, &p->err_io);
	ev_timer_init(&p->timer, timer_cb, timeout_ms ? timeout_ms / 1000.0 : 3600.0, 0.0);
	p->timer.data = p;
	ev_timer_start(loop, &p->timer);
	*ret = p;
	p = NULL;
	r = 0;
out:
	if (p) {
		fd_close(p->err_fd);
		fd_close(p->pidfd);
		free(p);
	}
	fd_close(pipefd[0]);
	fd_close(pipefd[1]);
	fd_close(null_fd);
	fd_close(f.in);
	fd_close(f.out);
	fd_close(f.err);
	fd_close(f.cred);
	return r;
}

void repo_proc_kill(struct repo_proc *p)
{
	if (!p)
		return;
	p->abandoned = true;
	(void)kill(-p->pid, SIGKILL);
	ev_io_stop(p->loop, &p->err_io);
	ev_timer_stop(p->loop, &p->timer);
	p->err_fd = fd_close(p->err_fd);
}

void repo_proc_kill_sync(struct repo_proc *p)
{
	if (!p)
		return;
	(void)kill(-p->pid, SIGKILL);
	while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
		;
	proc_free(p);
}
