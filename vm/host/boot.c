/*
 * boot: one boot attempt of a VM and the watchdog around it. An attempt spawns QEMU, connects to
 * its agent and QMP sockets (retrying until QEMU has created them) and waits for the agent's READY
 * under a per-attempt deadline. Cold boots hang now and then (early timer calibration under TCG,
 * ~3.6 %), so a hung or crashed attempt is killed, logged (ev=vm.boot_hung attempt=N with the tail
 * of console.log) and retried up to boot_attempts. It must not interpret frames (vm.c does) or
 * decide the accelerator (accel.c does).
 *
 * A clone's attempt (spec.state_path set) starts QEMU with `-incoming defer` and the state file
 * as fd 3; clone.c drives the restore over QMP and the agent socket is connected only after QEMU
 * says RESUME. A restore that fails or hangs (VM_RESTORE_TIMEOUT_MS) is logged
 * (ev=pool.clone_failed fallback=boot) and the VM boots cold instead, with the full attempts.
 */
#define LOG_MOD "vm"
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "qemu_proc.h"
#include "util.h"
#include "vm_int.h"

/* A non-blocking connected unix socket, or -ENOENT/-ECONNREFUSED/-EAGAIN while QEMU is not
 * listening yet, or another negative errno. */
static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static bool retryable(int r)
{
	return r == -ENOENT || r == -ECONNREFUSED || r == -EAGAIN;
}

static void connect_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vm *vm = w->data;
	char why[256];
	int fd;

	if (!vm->chan && (!vm->restoring || vm->resumed)) {
		fd = unix_connect(vm->paths.agent_sock);
		if (fd >= 0 && channel_new(loop, fd, &vm_channel_ops, vm, &vm->chan) < 0)
			fd = -ENOMEM;
		if (fd >= 0)
			log_debug("vm.agent_connected", "vm=%u attempt=%u ms=%llu", vm->id,
				  vm->attempt,
				  (unsigned long long)(time_mono_ms() - vm->t_attempt_ms));
		if (fd < 0 && !retryable(fd)) {
			snprintf(why, sizeof(why), "connect %s: %s", vm->paths.agent_sock,
				 errno_name(fd));
			vm_lost(vm, fd, why);
			return;
		}
	}
	if (!vm->qmp) {
		fd = unix_connect(vm->paths.qmp_sock);
		if (fd >= 0 && qmp_new(loop, fd, &vm_qmp_ops, vm, &vm->qmp) < 0)
			fd = -ENOMEM;
		if (fd < 0 && !retryable(fd)) {
			snprintf(why, sizeof(why), "connect %s: %s", vm->paths.qmp_sock,
				 errno_name(fd));
			vm_lost(vm, fd, why);
			return;
		}
	}
	/* A restoring clone connects its agent after RESUME (clone.c restarts this timer). */
	if (vm->qmp && (vm->chan || (vm->restoring && !vm->resumed)))
		return;
	vm->connect_delay_ms = vm->connect_delay_ms ? vm->connect_delay_ms * 2 : 1;
	if (vm->connect_delay_ms > VM_CONNECT_RETRY_MAX_MS)
		vm->connect_delay_ms = VM_CONNECT_RETRY_MAX_MS;
	ev_timer_set(w, vm->connect_delay_ms / 1000.0, 0.);
	ev_timer_start(loop, w);
}

static void watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vm *vm = w->data;
	char why[128];

	snprintf(why, sizeof(why), "no READY from the agent in %u ms",
		 vm->restoring ? VM_RESTORE_TIMEOUT_MS : vm->rt->boot_timeout_ms);
	vm_lost(vm, -ETIMEDOUT, why);
}

static void proc_exit_cb(struct qemu_proc *p, int status, void *ud)
{
	struct vm *vm = ud;
	char st[64], tail[200], q[sizeof(tail) + 64], why[VM_WHY_MAX];

	qemu_proc_status_str(status, st, sizeof(st));
	vm_file_tail(vm->paths.qemu_log, tail, sizeof(tail));
	log_quote(q, sizeof(q), tail, strlen(tail));
	if (vm->grace_why[0])
		snprintf(why, sizeof(why), "qemu %s (%.400s)%s%s; stderr: %s", st, vm->grace_why,
			 vm->last_qmp_event[0] ? "; last QMP event " : "", vm->last_qmp_event, q);
	else
		snprintf(why, sizeof(why), "qemu %s%s%s; stderr: %s", st,
			 vm->last_qmp_event[0] ? "; last QMP event " : "", vm->last_qmp_event, q);
	vm->proc = qemu_proc_free(p);	/* already reaped: just forgets it */
	vm_lost(vm, -ECHILD, why);
}

static void grace_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vm *vm = w->data;
	char why[VM_WHY_MAX];

	snprintf(why, sizeof(why), "%s", vm->grace_why);
	vm_lost(vm, vm->grace_err, why);
}

void vm_teardown(struct vm *vm)
{
	struct ev_loop *loop = vm->rt->loop;

	vm->proc = qemu_proc_free(vm->proc);
	vm->chan = channel_free(vm->chan);
	vm->qmp = qmp_free(vm->qmp);
	ev_timer_stop(loop, &vm->watchdog);
	ev_timer_stop(loop, &vm->connect);
	ev_timer_stop(loop, &vm->grace);
	ev_timer_stop(loop, &vm->handoff);
	vm->grace_why[0] = '\0';
}

const char *vm_rootfs(const struct vm *vm)
{
	return vm->spec.rootfs[0] ? vm->spec.rootfs : vm->rt->rootfs;
}

int boot_attempt_start(struct vm *vm, struct errmsg *reterr)
{
	struct vm_runtime *rt = vm->rt;
	const struct vm_spec *sp = &vm->spec;
	struct qemu_argv_cfg cfg = {
		.qemu = rt->qemu,
		.prefix = (const char *const *)rt->prefix,
		.accel = rt->accel,
		.tb_mib = QEMU_TCG_TB_MIB,
		.tsc_khz = strcmp(rt->accel, "tcg") == 0 ? rt->tsc_khz : 0,
		.mem_mib = sp->mem_mib ? sp->mem_mib : rt->mem_mib,
		.vcpus = sp->vcpus ? sp->vcpus : rt->vcpus,
		.kernel = rt->kernel,
		.initrd = rt->initrd,
		.rootfs = vm_rootfs(vm),
		.append_extra = rt->append_extra,
		.sandbox = true,
		.paths = &vm->paths,
		.mem_path = sp->mem_path[0] ? sp->mem_path : NULL,
		.mem_share = sp->mem_share,
		.mem_fd = sp->mem_fd > 0,
		.incoming_defer = sp->state_path[0] != '\0',
	};
	struct qemu_argv argv = { 0 };
	char line[LOG_LINE_MAX - 256];
	unsigned timeout_ms = rt->boot_timeout_ms;
	int r, state_fd = -1;

	vm->attempt++;
	vm->t_attempt_ms = time_mono_ms();
	vm->connect_delay_ms = 0;
	vm->last_qmp_event[0] = '\0';
	vm->restoring = cfg.incoming_defer;
	vm->resumed = false;
	vm_dir_clean(&vm->paths);
	if (sp->mem_in_dir) {
		if ((size_t)snprintf(vm->spec.mem_path, sizeof(vm->spec.mem_path), "%s/mem",
				     vm->paths.dir) >= sizeof(vm->spec.mem_path))
			return errmsg_set(reterr, -ENAMETOOLONG, "vm dir: path too long");
		cfg.mem_path = vm->spec.mem_path;
	}
	if (vm->restoring) {
		state_fd = open(sp->state_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (state_fd < 0)
			return errmsg_set(reterr, -errno, "snapshot state %s: %s", sp->state_path,
					  errno_name(errno));
		if (timeout_ms > VM_RESTORE_TIMEOUT_MS)
			timeout_ms = VM_RESTORE_TIMEOUT_MS;
	}
	r = vm_jail_argv_build(vm, &cfg, &argv, reterr);
	if (r < 0)
		goto out;
	log_debug("vm.qemu_argv", "vm=%u argv=\"%s\"", vm->id, qemu_argv_join(&argv, line,
										sizeof(line)));
	/* RLIMIT_FSIZE caps the logs, but a template's RAM file is mem_mib big. */
	r = qemu_proc_spawn_fd(rt->loop, argv.argv, vm->paths.qemu_log,
			       cfg.mem_path ? ((uint64_t)cfg.mem_mib << 20) + VM_QEMU_FILE_MAX
					    : VM_QEMU_FILE_MAX, state_fd,
			       sp->mem_fd > 0 ? sp->mem_fd : -1,
			       proc_exit_cb, vm, &vm->proc, reterr);
	qemu_argv_free(&argv);
	if (vm->proc && rt->jail)
		qemu_proc_set_stop_signal(vm->proc, SIGTERM);	/* the jailer cleans up */
	if (r < 0)
		goto out;
	log_debug("vm.spawned", "vm=%u attempt=%u pid=%d accel=%s restore=%d", vm->id, vm->attempt,
		  (int)qemu_proc_pid(vm->proc), rt->accel, vm->restoring);
	ev_now_update(rt->loop);	/* the loop may not have run for a while (start-up) */
	ev_timer_set(&vm->watchdog, timeout_ms / 1000.0, 0.);
	ev_timer_start(rt->loop, &vm->watchdog);
	/* QEMU has not created its sockets yet: the first try is after ~1 ms. */
	ev_timer_set(&vm->connect, 0.001, 0.);
	ev_timer_start(rt->loop, &vm->connect);
out:
	fd_close(state_fd);
	return r;
}

static void handoff_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vm *vm = w->data;

	if (vm->state != VM_READY || !vm->ev->ready)
		return;
	vm_enter(vm);
	vm->ev->ready(vm, vm->ud);
	(void)vm_leave(vm);
}

void vm_post_ready(struct vm *vm)
{
	ev_timer_stop(vm->rt->loop, &vm->handoff);
	ev_timer_set(&vm->handoff, 0., 0.);
	ev_timer_start(vm->rt->loop, &vm->handoff);
}

void boot_init(struct vm *vm)
{
	ev_timer_init(&vm->handoff, handoff_cb, 0., 0.);
	vm->handoff.data = vm;
	ev_timer_init(&vm->watchdog, watchdog_cb, 1., 0.);
	ev_timer_init(&vm->connect, connect_cb, 1., 0.);
	ev_timer_init(&vm->grace, grace_cb, VM_EOF_GRACE_MS / 1000.0, 0.);
	vm->watchdog.data = vm;
	vm->connect.data = vm;
	vm->grace.data = vm;
}

int vm_send_init(struct vm *vm, struct errmsg *reterr)
{
	struct wire_frame init = { .type = WIRE_FRAME_INIT, .seed_len = 32 };
	struct timespec now;
	int r;

	if (!vm->chan)
		return errmsg_set(reterr, -EPIPE, "vm %u: no agent channel", vm->id);
	clock_gettime(CLOCK_REALTIME, &now);
	init.time_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	r = random_bytes(init.seed, init.seed_len);
	if (r >= 0)
		r = channel_send(vm->chan, &init, reterr);
	explicit_bzero(init.seed, sizeof(init.seed));
	return r;
}

void boot_ready(struct vm *vm, const char *agent_version)
{
	struct errmsg em = { "" };
	char v[64];
	int r;

	ev_timer_stop(vm->rt->loop, &vm->watchdog);
	r = vm_send_init(vm, &em);
	if (r < 0) {
		char why[ERRMSG_MAX + 32];

		snprintf(why, sizeof(why), "INIT frame: %s", em.msg[0] ? em.msg : errno_name(r));
		vm_lost(vm, r, why);
		return;
	}
	vm->state = VM_READY;
	vm->restored = vm->restoring;
	vm->restoring = false;
	vm->boot_ms = time_mono_ms() - vm->t_start_ms;
	log_info("vm.ready", "vm=%u boot_ms=%llu attempts=%u restored=%d accel=%s agent=%s",
		 vm->id, (unsigned long long)vm->boot_ms, vm->attempt, vm->restored, vm->rt->accel,
		 log_quote(v, sizeof(v), agent_version, strlen(agent_version)));
	if (vm->ev->ready) {
		vm_enter(vm);
		vm->ev->ready(vm, vm->ud);
		(void)vm_leave(vm);
	}
}

/* During boot: ends the attempt, then retries or gives up. */
static void attempt_failed(struct vm *vm, int err, const char *why)
{
	char tail[VM_CONSOLE_TAIL_MAX], q[LOG_QUOTE_MAX * 4 + 16], w[128], reason[VM_WHY_MAX];
	struct errmsg em = { "" };
	unsigned ms = (unsigned)(time_mono_ms() - vm->t_attempt_ms);
	size_t n;
	int r;

	vm_teardown(vm);
	if (vm->restoring) {
		char qlog[200];

		vm_file_tail(vm->paths.qemu_log, qlog, sizeof(qlog));
		log_warn("pool.clone_failed", "vm=%u fallback=boot ms=%u err=%s reason=%s qemu=%s",
			 vm->id, ms, errno_name(err), log_quote(w, sizeof(w), why, strlen(why)),
			 log_quote(q, sizeof(q), qlog, strlen(qlog)));
		vm->spec.state_path[0] = '\0';
		vm->spec.mem_path[0] = '\0';
		vm->spec.mem_fd = 0;
		vm->restoring = false;
		vm->clone_fell_back = true;
		vm->attempt = 0;
		r = boot_attempt_start(vm, &em);
		if (r >= 0)
			return;
		snprintf(reason, sizeof(reason), "cold boot after a failed restore: %s", em.msg);
		vm_fail(vm, r, reason);
		return;
	}
	vm_file_tail(vm->paths.console_log, tail, sizeof(tail));
	/* log_quote keeps the first LOG_QUOTE_MAX bytes: give it the last ones. */
	n = strlen(tail);
	log_quote(q, sizeof(q), tail + (n > LOG_QUOTE_MAX ? n - LOG_QUOTE_MAX : 0),
		  n > LOG_QUOTE_MAX ? LOG_QUOTE_MAX : n);
	/* The accel probe expects failures: they are not warnings there. */
	log_emit(vm->rt->probing ? LOG_INFO : LOG_WARN, LOG_MOD,
		 err == -ETIMEDOUT ? "vm.boot_hung" : "vm.boot_failed", "vm=%u attempt=%u of=%u ms=%u accel=%s reason=%s console=%s", vm->id, vm->attempt,
		 vm->rt->boot_attempts, ms, vm->rt->accel,
		 log_quote(w, sizeof(w), why, strlen(why)), q);
	if (vm->attempt < vm->rt->boot_attempts) {
		r = boot_attempt_start(vm, &em);
		if (r >= 0)
			return;
		snprintf(reason, sizeof(reason), "boot attempt %u: %s", vm->attempt, em.msg);
		vm_fail(vm, r, reason);
		return;
	}
	snprintf(reason, sizeof(reason), "boot failed after %u attempt%s, last: %s; console tail: %s",
		 vm->attempt, vm->attempt == 1 ? "" : "s", why, tail);
	vm_fail(vm, err, reason);
}

void vm_lost(struct vm *vm, int err, const char *why)
{
	if (vm->state == VM_FAILED)
		return;
	if (vm->state == VM_BOOTING)
		attempt_failed(vm, err, why);
	else
		vm_fail(vm, err, why);
}

void vm_lost_soon(struct vm *vm, int err, const char *why)
{
	if (vm->state == VM_FAILED || vm->grace_why[0])
		return;
	/* Stop reading the sockets; QEMU's exit (or the timer) decides. */
	vm->chan = channel_free(vm->chan);
	vm->qmp = qmp_free(vm->qmp);
	ev_timer_stop(vm->rt->loop, &vm->connect);
	vm->grace_err = err;
	snprintf(vm->grace_why, sizeof(vm->grace_why), "%s", why);
	ev_timer_start(vm->rt->loop, &vm->grace);
}
