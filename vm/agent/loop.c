/*
 * loop: the agent's one poll() loop. It watches a signalfd (SIGCHLD: reap every child, ours or
 * orphans; SIGIO: the host connected or left), the port (frames in, queued frames out) and the
 * stdout/stderr pipes of every running exec and the egress proxy's sockets (proxy.c), and
 * dispatches frames: INIT, EXEC, SIGNAL, PUT, PUTEND (put.c), GET (get.c, stepped one chunk at a
 * time between polls) and the host's net_* stream frames (proxy.c). An exec's
 * EXIT is sent only after both its pipes reached EOF and its pid was reaped. While no host is
 * connected the port is left out of the poll set (it would report POLLHUP forever) and re-checked
 * on SIGIO or every AGENT_HUP_RECHECK_MS. When the output queue is above AGENT_OUTQ_HIGH the pipes
 * and the port input are not read, so a slow host throttles the processes, not the agent's memory.
 * As PID 1 it never returns.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_MOD "loop"
#include "log.h"
#include "util.h"

struct proc {
	bool used;
	bool reaped;
	uint32_t id;
	pid_t pid;
	int fds[2];		/* stdout, stderr read ends; -1 after EOF */
	int status;
	struct limits_exec lim;	/* its cgroup (limits.c) */
};

struct loop {
	struct chan chan;
	int sigfd;
	struct put_state put;
	struct get_op get;
	struct proc procs[AGENT_EXEC_MAX];
	struct proxy *proxy;	/* egress proxy (proxy.c); NULL when it could not start */
};

static struct proc *loop_find(struct loop *l, uint32_t id)
{
	for (size_t i = 0; i < AGENT_EXEC_MAX; i++)
		if (l->procs[i].used && l->procs[i].id == id)
			return &l->procs[i];
	return NULL;
}

static struct proc *loop_free_slot(struct loop *l)
{
	for (size_t i = 0; i < AGENT_EXEC_MAX; i++)
		if (!l->procs[i].used)
			return &l->procs[i];
	return NULL;
}

static int loop_exec(struct loop *l, const struct wire_frame *f)
{
	struct spawn_req req = {
		.argv = f->argv, .env = f->env, .envc = f->envc, .cwd = f->cwd,
		.uid = f->uid, .gid = f->gid,
	};
	struct limits_req lreq = { .mem_max = f->mem_max, .disk_max = f->disk_max,
				   .pids_max = f->pids_max };
	struct limits_exec lim;
	struct wire_frame started = { .type = WIRE_FRAME_STARTED, .id = f->id };
	struct spawn_result res;
	struct errmsg em = { "" };
	struct proc *p;
	int r;

	if (f->id == 0)
		return chan_send_error(&l->chan, 0, EINVAL, "exec id 0 is reserved");
	if (loop_find(l, f->id))
		return chan_send_error(&l->chan, f->id, EEXIST, "exec id %u is running", f->id);
	p = loop_free_slot(l);
	if (!p)
		return chan_send_error(&l->chan, f->id, EAGAIN, "%d execs running, limit reached",
				       AGENT_EXEC_MAX);
	if (f->uid == 0 || f->gid == 0)	/* spawn refuses it too; no cgroup for it */
		return chan_send_error(&l->chan, f->id, EPERM, "uid/gid 0 is not allowed");
	(void)limits_exec_begin(f->id, &lreq, &lim);
	req.limits = &lim;
	req.nproc = limits_nproc(&lim, f->pids_max);
	r = spawn_start(&req, &res, &em);
	limits_exec_started(&lim);
	if (r < 0) {
		(void)limits_exec_end(&lim);
		log_info("exec.failed", "id=%u err=%s", f->id, errno_name(r));
		return chan_send_error(&l->chan, f->id, r, "%s", em.msg);
	}
	*p = (struct proc){ .used = true, .id = f->id, .pid = res.pid,
			    .fds = { res.out_fd, res.err_fd }, .lim = lim };
	started.pid = res.pid;
	log_debug("exec.started", "id=%u pid=%d", f->id, (int)res.pid);
	return chan_send(&l->chan, &started);
}

static int loop_signal(struct loop *l, const struct wire_frame *f)
{
	struct proc *p = loop_find(l, f->id);

	if (!p)
		return chan_send_error(&l->chan, f->id, ESRCH, "no exec with id %u", f->id);
	if (f->signal <= 0 || f->signal >= NSIG)
		return chan_send_error(&l->chan, f->id, EINVAL, "signal %d out of range",
				       (int)f->signal);
	/* SIGKILL reaches every process of the exec, also those that left its process group */
	if (f->signal == SIGKILL && limits_exec_kill(&p->lim) == 0)
		return 0;
	if (kill(-p->pid, f->signal) < 0)
		return chan_send_error(&l->chan, f->id, errno, "kill(-%d, %d)", (int)p->pid,
				       (int)f->signal);
	return 0;
}

static int loop_init(struct loop *l, const struct wire_frame *f)
{
	struct errmsg em = { "" };
	int r = sysinit_apply(f->time_ns, f->seed, f->seed_len, &em);

	if (r < 0)
		return chan_send_error(&l->chan, 0, r, "init: %s", em.msg);
	return 0;
}

static int loop_putend(struct loop *l, const struct wire_frame *f)
{
	struct wire_frame reply;

	put_end(&l->put, f->id, &reply);
	return chan_send(&l->chan, &reply);
}

static int loop_get(struct loop *l, const struct wire_frame *f)
{
	struct errmsg em = { "" };
	int r = get_start(&l->get, f, &em);

	if (r < 0)
		return chan_send_error(&l->chan, f->id, r, "%s", em.msg);
	return 0;
}

static int loop_dispatch(struct loop *l, const struct wire_frame *f)
{
	switch (f->type) {
	case WIRE_FRAME_PUT:
		(void)put_frame(&l->put, f);	/* errors are answered at PUTEND */
		return 0;
	case WIRE_FRAME_PUTEND:
		return loop_putend(l, f);
	case WIRE_FRAME_GET:
		return loop_get(l, f);
	case WIRE_FRAME_INIT:
		return loop_init(l, f);
	case WIRE_FRAME_EXEC:
		return loop_exec(l, f);
	case WIRE_FRAME_SIGNAL:
		return loop_signal(l, f);
	case WIRE_FRAME_NET_OK:
	case WIRE_FRAME_NET_DATA:
	case WIRE_FRAME_NET_ACK:
	case WIRE_FRAME_NET_CLOSE:
		proxy_frame(l->proxy, &l->chan, f);
		return 0;
	case WIRE_FRAME_UNKNOWN:
		return 0;	/* newer host, older agent: ignored by contract */
	default:
		return chan_send_error(&l->chan, f->id, EPROTO, "frame type %d is not host-to-guest",
				       (int)f->type);
	}
}

static void loop_reap(struct loop *l)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < AGENT_EXEC_MAX; i++) {
			struct proc *p = &l->procs[i];

			if (p->used && !p->reaped && p->pid == pid) {
				p->reaped = true;
				p->status = status;
			}
		}
	}
}

static void loop_signals(struct loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGIO)
			chan_recheck(&l->chan);
	}
	loop_reap(l);		/* SIGCHLD coalesces: always sweep */
	limits_sweep();		/* cgroups of ended execs whose last process just went */
}

/* Reads one chunk from a pipe into an OUTPUT frame. */
static void loop_pipe(struct loop *l, struct proc *p, int which)
{
	static uint8_t chunk[WIRE_CHUNK_MAX];
	struct wire_frame out = { .type = WIRE_FRAME_OUTPUT, .id = p->id, .fd = (uint8_t)(which + 1) };
	ssize_t n;

	if (l->chan.out.len >= AGENT_OUTQ_HIGH)
		return;		/* polled again once the host has taken some */
	do
		n = read(p->fds[which], chunk, sizeof(chunk));
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		p->fds[which] = fd_close(p->fds[which]);
		return;
	}
	out.data = chunk;
	out.len = (size_t)n;
	(void)chan_send(&l->chan, &out);
}

static void loop_finish(struct loop *l)
{
	for (size_t i = 0; i < AGENT_EXEC_MAX; i++) {
		struct proc *p = &l->procs[i];
		struct wire_frame ex = { .type = WIRE_FRAME_EXIT };

		if (!p->used || !p->reaped || p->fds[0] >= 0 || p->fds[1] >= 0)
			continue;
		ex.id = p->id;
		snprintf(ex.limit, sizeof(ex.limit), "%s", limits_exec_end(&p->lim));
		if (WIFSIGNALED(p->status)) {
			ex.signal = WTERMSIG(p->status);
			ex.exit_code = -1;
		} else {
			ex.exit_code = WEXITSTATUS(p->status);
		}
		(void)chan_send(&l->chan, &ex);
		log_debug("exec.exited", "id=%u pid=%d code=%d signal=%d limit=%s", p->id,
			  (int)p->pid, (int)ex.exit_code, (int)ex.signal, ex.limit);
		p->used = false;
	}
}

static void loop_port(struct loop *l, short revents)
{
	int r = 0;

	if (revents & (POLLIN | POLLHUP | POLLERR))
		r = chan_fill(&l->chan);
	if (r < 0 && r != -EPIPE) {
		log_warn("port.read_failed", "err=%s", errno_name(r));
		chan_set_hup(&l->chan);
	}
}

/* Serves the whole frames already read, while the output queue has room for the answers. */
static void loop_frames(struct loop *l)
{
	struct wire_frame *f;

	while (l->chan.out.len < AGENT_OUTQ_HIGH && chan_next(&l->chan, &f) > 0) {
		(void)loop_dispatch(l, f);
		wire_frame_free(f);
	}
}

/* Memory-limited execs are checked for thrashing every LIMITS_WATCH_MS (limits.c). Returns the
 * poll timeout that keeps the checks on time, given the loop's own (-1 = none). */
static int loop_watch(struct loop *l, int timeout)
{
	uint64_t now = time_mono_ms();
	bool any = false;

	for (size_t i = 0; i < AGENT_EXEC_MAX; i++) {
		struct proc *p = &l->procs[i];

		if (!p->used || p->reaped || !p->lim.mem_limited || p->lim.thrash_killed)
			continue;
		(void)limits_exec_watch(&p->lim, now);
		any = true;
	}
	if (any && (timeout < 0 || timeout > LIMITS_WATCH_MS))
		return LIMITS_WATCH_MS;
	return timeout;
}

/* A few chunks of a running get per turn: the pipes of other execs are polled in between. */
static void loop_get_steps(struct loop *l)
{
	for (int i = 0; i < AGENT_GET_CHUNKS_PER_TURN && get_active(&l->get) &&
			l->chan.out.len < AGENT_OUTQ_HIGH; i++)
		(void)get_step(&l->get, &l->chan);
}

/* The egress proxy: in the VM on PROXY_PORT (bringing lo up); in test mode only when
 * PROXY_PORT_ENV names a port. Failing to start it is logged, not fatal: execs still work. */
static void loop_proxy_start(struct loop *l, bool is_stream)
{
	struct errmsg em = { "" };
	const char *env = getenv(PROXY_PORT_ENV);
	unsigned long port = PROXY_PORT;
	int r;

	if (is_stream) {
		char *end;

		if (!env || !*env)
			return;
		port = strtoul(env, &end, 10);
		if (*end || port == 0 || port > 65535)
			return;
	}
	r = proxy_new((unsigned)port, !is_stream, &l->proxy, &em);
	if (r < 0) {
		l->proxy = NULL;
		log_warn("proxy.failed", "err=%s msg=\"%s\"", errno_name(r), em.msg);
	}
}

int loop_run(int port_fd, bool is_stream)
{
	struct pollfd pfd[2 + 2 * AGENT_EXEC_MAX + 1 + PROXY_STREAMS_MAX];
	struct proc *owner[2 + 2 * AGENT_EXEC_MAX];
	int which[2 + 2 * AGENT_EXEC_MAX];
	struct loop *l;
	sigset_t mask;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGIO);
	l->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sigfd < 0) {
		free(l);
		return -errno;
	}
	chan_init(&l->chan, port_fd, is_stream);
	put_init(&l->put, open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	l->get.fd = -1;
	loop_proxy_start(l, is_stream);
	while (!l->chan.eof) {
		int timeout = -1, r;
		nfds_t n = 0, np;
		bool room;

		loop_frames(l);
		loop_get_steps(l);
		r = chan_flush(&l->chan);
		if (r < 0) {
			log_warn("port.write_failed", "err=%s", errno_name(r));
			chan_set_hup(&l->chan);
		}
		room = l->chan.out.len < AGENT_OUTQ_HIGH;
		if (room && get_active(&l->get))
			timeout = 0;	/* more of the get to send: do not sleep */
		pfd[n++] = (struct pollfd){ .fd = l->sigfd, .events = POLLIN };
		if (l->chan.hup) {
			timeout = AGENT_HUP_RECHECK_MS;
			pfd[n++] = (struct pollfd){ .fd = -1 };
		} else {
			short ev = room ? POLLIN : 0;

			if (l->chan.out.len > 0 || l->chan.need_ready)
				ev |= POLLOUT;
			pfd[n++] = (struct pollfd){ .fd = port_fd, .events = ev };
		}
		for (size_t i = 0; i < AGENT_EXEC_MAX && room; i++) {
			for (int w = 0; w < 2; w++) {
				if (!l->procs[i].used || l->procs[i].fds[w] < 0)
					continue;
				owner[n] = &l->procs[i];
				which[n] = w;
				pfd[n++] = (struct pollfd){ .fd = l->procs[i].fds[w], .events = POLLIN };
			}
		}
		np = n;
		n += proxy_pollfds(l->proxy, pfd + np, room);
		if (proxy_busy(l->proxy) && (timeout < 0 || timeout > 1000))
			timeout = 1000;		/* head timeouts */
		timeout = loop_watch(l, timeout);
		r = poll(pfd, n, timeout);
		if (r < 0) {
			if (errno != EINTR)
				log_warn("poll.failed", "err=%s", errno_name(errno));
			continue;
		}
		if (pfd[0].revents)
			loop_signals(l);
		if (l->chan.hup)
			chan_recheck(&l->chan);
		else if (pfd[1].fd >= 0 && pfd[1].revents)
			loop_port(l, pfd[1].revents);
		loop_frames(l);
		for (nfds_t i = 2; i < np; i++)
			if (pfd[i].revents)
				loop_pipe(l, owner[i], which[i]);
		proxy_events(l->proxy, &l->chan, pfd + np, n - np);
		loop_finish(l);
	}
	proxy_free(l->proxy);
	get_free(&l->get);
	fd_close(l->put.root_fd);
	put_free(&l->put);
	chan_free(&l->chan);
	fd_close(l->sigfd);
	free(l);
	return 0;
}
