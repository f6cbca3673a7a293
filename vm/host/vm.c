/*
 * vm: the VM state machine behind vm.h: start (boot.c does the attempts), the guest protocol
 * after READY (exec ids, STARTED/OUTPUT/EXIT/ERROR dispatch, file-transfer frames passed through
 * to the owner), signals, failure and destroy. Every frame from the guest is checked against
 * what we asked for; a frame that makes no sense fails the VM with the reason, never the process. It must not build argv or talk QMP commands itself.
 */
#define LOG_MOD "vm"
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "qemu_proc.h"
#include "util.h"
#include "vm_int.h"

void vm_enter(struct vm *vm)
{
	vm->busy++;
}

bool vm_leave(struct vm *vm)
{
	vm->busy--;
	if (!vm->destroyed)
		return false;
	if (vm->busy == 0)
		free(vm);
	return true;
}

void vm_fail(struct vm *vm, int err, const char *why)
{
	char q[LOG_QUOTE_MAX + 16];

	if (vm->state == VM_FAILED)
		return;
	vm_teardown(vm);
	vm->state = VM_FAILED;
	vm->nexecs = 0;
	log_emit(vm->rt->probing ? LOG_INFO : LOG_ERROR, LOG_MOD, "vm.failed",
		 "vm=%u err=%s reason=%s", vm->id, errno_name(err),
		 log_quote(q, sizeof(q), why, strlen(why)));
	if (vm->ev->failed) {
		vm_enter(vm);
		vm->ev->failed(vm, err, why, vm->ud);
		(void)vm_leave(vm);
	}
}

/* A frame the guest should not have sent: fails the VM (or the boot attempt). Returns -EPROTO. */
__attribute__((format(printf, 2, 3))) static int proto(struct vm *vm, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	vm_lost(vm, -EPROTO, why);
	return -EPROTO;
}

static struct vm_exec *exec_find(struct vm *vm, uint32_t id)
{
	for (unsigned i = 0; i < vm->nexecs; i++)
		if (vm->execs[i].id == id)
			return &vm->execs[i];
	return NULL;
}

static void exec_remove(struct vm *vm, struct vm_exec *e)
{
	*e = vm->execs[--vm->nexecs];
}

static const char *frame_name(enum wire_frame_type t)
{
	static const char *const names[] = { "UNKNOWN", "READY",  "INIT",   "EXEC", "STARTED",
					     "OUTPUT",  "EXIT",   "SIGNAL", "ERROR", "PUT",
					     "PUTEND",  "PUTOK",  "GET",    "FILE", "GETEND",
					     "NET_OPEN", "NET_OK", "NET_DATA", "NET_ACK",
					     "NET_CLOSE" };

	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

/* Frames about one exec, after READY. Each path calls the owner at most once, last. */
static int dispatch_exec(struct vm *vm, const struct wire_frame *f)
{
	const struct vm_events *ev = vm->ev;
	struct vm_exec *e = exec_find(vm, f->id);
	char q[LOG_QUOTE_MAX + 16];
	uint32_t id = f->id;

	if (f->type == WIRE_FRAME_ERROR && !e) {	/* not about an exec: a put batch, a get */
		if (id == 0 || !ev->frame)
			log_warn("vm.agent_error", "vm=%u id=%u err=%s msg=%s", vm->id, id,
				 errno_name(f->err),
				 log_quote(q, sizeof(q), f->message, strlen(f->message)));
		if (ev->frame)
			ev->frame(vm, f, vm->ud);
		return 0;
	}
	if (!e)
		return proto(vm, "%s frame for exec id %u, which is not running",
			     frame_name(f->type), id);
	switch (f->type) {
	case WIRE_FRAME_STARTED:
		if (e->started)
			return proto(vm, "second STARTED for exec id %u", id);
		e->started = true;
		if (ev->started)
			ev->started(vm, id, f->pid, vm->ud);
		return 0;
	case WIRE_FRAME_OUTPUT:
		if (f->fd != 1 && f->fd != 2)
			return proto(vm, "OUTPUT on fd %u for exec id %u", f->fd, id);
		if (ev->output && f->len)
			ev->output(vm, id, f->fd, f->data, f->len, vm->ud);
		return 0;
	case WIRE_FRAME_EXIT:
		exec_remove(vm, e);
		if (f->limit[0])
			log_info("vm.exec_limit", "vm=%u id=%u limit=%s", vm->id, id, f->limit);
		vm->exit_limit = f->limit;	/* for vm_exit_limit(), during the callback only */
		if (ev->exited)
			ev->exited(vm, id, f->signal > 0 ? -1 : f->exit_code,
				   f->signal > 0 ? f->signal : 0, vm->ud);
		vm->exit_limit = NULL;
		return 0;
	default:	/* WIRE_FRAME_ERROR */
		exec_remove(vm, e);
		if (ev->exec_failed)
			ev->exec_failed(vm, id, f->err, f->message, vm->ud);
		return 0;
	}
}

static int dispatch(struct vm *vm, const struct wire_frame *f)
{
	switch (f->type) {
	case WIRE_FRAME_READY:
		if (vm->state != VM_BOOTING)
			return proto(vm, "READY frame after boot");
		boot_ready(vm, f->version);
		return 0;
	case WIRE_FRAME_UNKNOWN:
		log_debug("vm.frame_ignored", "vm=%u", vm->id);
		return 0;
	case WIRE_FRAME_STARTED:
	case WIRE_FRAME_OUTPUT:
	case WIRE_FRAME_EXIT:
	case WIRE_FRAME_ERROR:
		if (vm->state != VM_READY)
			return proto(vm, "%s frame before READY", frame_name(f->type));
		return dispatch_exec(vm, f);
	case WIRE_FRAME_PUTOK:
	case WIRE_FRAME_FILE:
	case WIRE_FRAME_GETEND:
	case WIRE_FRAME_NET_OPEN:	/* egress streams: the owner's egress proxy serves them */
	case WIRE_FRAME_NET_DATA:
	case WIRE_FRAME_NET_ACK:
	case WIRE_FRAME_NET_CLOSE:
		if (vm->state != VM_READY)
			return proto(vm, "%s frame before READY", frame_name(f->type));
		if (vm->ev->frame)
			vm->ev->frame(vm, f, vm->ud);
		return 0;
	default:
		return proto(vm, "host-to-guest frame %s sent by the guest", frame_name(f->type));
	}
}

static int chan_frame(struct channel *c, struct wire_frame *f, void *ud)
{
	struct vm *vm = ud;
	int r;

	vm_enter(vm);
	r = dispatch(vm, f);
	wire_frame_free(f);
	if (vm_leave(vm))
		return -ECANCELED;
	return vm->state == VM_FAILED ? -EPIPE : r;
}

static void chan_broken(struct channel *c, int err, const char *why, void *ud)
{
	struct vm *vm = ud;

	if (err == -EPIPE)	/* EOF: QEMU's exit status, if it comes, says more */
		vm_lost_soon(vm, err, why);
	else
		vm_lost(vm, err, why);
}

const struct channel_ops vm_channel_ops = { .frame = chan_frame, .broken = chan_broken };

static void qmp_ready(struct qmp *q, const struct qmp_msg *greeting, void *ud)
{
	struct vm *vm = ud;

	log_debug("vm.qmp_ready", "vm=%u qemu=%d.%d.%d", vm->id, greeting->version[0],
		  greeting->version[1], greeting->version[2]);
	clone_qmp_ready(vm);
}

static void qmp_event(struct qmp *q, const struct qmp_msg *m, void *ud)
{
	struct vm *vm = ud;
	char qn[QMP_NAME_MAX + 16], qd[LOG_QUOTE_MAX + 16];

	snprintf(vm->last_qmp_event, sizeof(vm->last_qmp_event), "%.60s %.90s", m->name, m->desc);
	if (vm->restoring) {	/* RESUME of every clone: not worth an info line */
		clone_qmp_event(vm, m->name);
		return;
	}
	log_info("vm.qmp_event", "vm=%u name=%s data=%s", vm->id,
		 log_quote(qn, sizeof(qn), m->name, strlen(m->name)),
		 log_quote(qd, sizeof(qd), m->desc, strlen(m->desc)));
}

static void qmp_broken(struct qmp *q, int err, const char *why, void *ud)
{
	struct vm *vm = ud;
	char w[256];

	snprintf(w, sizeof(w), "qmp: %s", why);
	if (err == -EPIPE)
		vm_lost_soon(vm, err, w);
	else
		vm_lost(vm, err, w);
}

const struct qmp_ops vm_qmp_ops = { .ready = qmp_ready, .event = qmp_event, .broken = qmp_broken };

int vm_start(struct vm_runtime *rt, const struct vm_events *ev, void *ud, struct vm **ret,
	     struct errmsg *reterr)
{
	return vm_start_spec(rt, NULL, ev, ud, ret, reterr);
}

int vm_start_spec(struct vm_runtime *rt, const struct vm_spec *spec, const struct vm_events *ev,
		  void *ud, struct vm **ret, struct errmsg *reterr)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	int r;

	if (!vm)
		return -ENOMEM;
	if (spec)
		vm->spec = *spec;
	vm->rt = rt;
	vm->ev = ev;
	vm->ud = ud;
	vm->id = ++rt->next_vm;
	vm->state = VM_BOOTING;
	vm->next_exec = 1;
	boot_init(vm);
	r = vm_paths_make(&vm->paths, rt->run_dir, (unsigned long)getpid(), vm->id, reterr);
	if (r < 0)
		goto out;
	r = vm_dir_make(vm, reterr);
	if (r < 0)
		goto out;
	vm->t_start_ms = time_mono_ms();
	r = boot_attempt_start(vm, reterr);
	if (r < 0)
		goto out;
	*ret = vm;
	vm = NULL;
out:
	if (vm) {
		vm_teardown(vm);
		vm_dir_remove(vm);
		free(vm);
	}
	return r;
}

static size_t count(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int vm_exec(struct vm *vm, const struct vm_exec_req *req, uint32_t *ret_exec_id,
	    struct errmsg *reterr)
{
	struct wire_frame f = { .type = WIRE_FRAME_EXEC };
	int r;

	/* No channel while a lost VM waits for QEMU's exit status (vm_lost_soon). */
	if (vm->destroyed || vm->state == VM_FAILED || (vm->state == VM_READY && !vm->chan))
		return errmsg_set(reterr, -EPIPE, "vm %u has failed", vm->id);
	if (vm->state != VM_READY)
		return errmsg_set(reterr, -EAGAIN, "vm %u is not ready", vm->id);
	if (!req->argv || !req->argv[0])
		return errmsg_set(reterr, -EINVAL, "argv: empty");
	if (req->uid == 0 || req->gid == 0)
		return errmsg_set(reterr, -EPERM, "uid/gid 0: user code never runs as root");
	if (vm->nexecs >= VM_EXECS_MAX)
		return errmsg_set(reterr, -EBUSY, "vm %u runs %d processes already", vm->id,
				  VM_EXECS_MAX);
	f.id = vm->next_exec;
	f.argv = (char **)req->argv;
	f.argc = count(req->argv);
	f.env = (char **)req->env;
	f.envc = count(req->env);
	f.cwd = (char *)req->cwd;
	f.uid = req->uid;
	f.gid = req->gid;
	f.mem_max = req->mem_max;
	f.pids_max = req->pids_max;
	f.disk_max = req->disk_max;
	r = channel_send(vm->chan, &f, reterr);
	if (r < 0)
		return r;
	vm->execs[vm->nexecs++] = (struct vm_exec){ .id = f.id };
	vm->next_exec = vm->next_exec == UINT32_MAX ? 1 : vm->next_exec + 1;
	*ret_exec_id = f.id;
	return 0;
}

int vm_signal(struct vm *vm, uint32_t exec_id, int sig)
{
	struct wire_frame f = { .type = WIRE_FRAME_SIGNAL, .id = exec_id, .signal = sig };

	if (vm->destroyed || vm->state != VM_READY || !vm->chan)
		return -EPIPE;
	if (sig <= 0 || sig >= NSIG)
		return -EINVAL;
	if (!exec_find(vm, exec_id))
		return -ESRCH;
	return channel_send(vm->chan, &f, NULL);
}

const char *vm_exit_limit(const struct vm *vm)
{
	return vm && vm->exit_limit ? vm->exit_limit : "";
}

/* The checks every sender does: 0 when the VM can take frames now. */
static int send_ok(struct vm *vm, struct errmsg *reterr)
{
	if (vm->destroyed || vm->state == VM_FAILED || (vm->state == VM_READY && !vm->chan))
		return errmsg_set(reterr, -EPIPE, "vm %u has failed", vm->id);
	if (vm->state != VM_READY)
		return errmsg_set(reterr, -EAGAIN, "vm %u is not ready", vm->id);
	return 0;
}

int vm_send_frame(struct vm *vm, const struct wire_frame *f, struct errmsg *reterr)
{
	int r = send_ok(vm, reterr);

	if (r < 0)
		return r;
	if (f->type != WIRE_FRAME_PUT && f->type != WIRE_FRAME_PUTEND && f->type != WIRE_FRAME_GET &&
	    f->type != WIRE_FRAME_NET_OK && f->type != WIRE_FRAME_NET_DATA &&
	    f->type != WIRE_FRAME_NET_ACK && f->type != WIRE_FRAME_NET_CLOSE)
		return errmsg_set(reterr, -EINVAL,
				  "vm_send_frame: %s is not a put/putend/get/net_* frame",
				  frame_name(f->type));
	return channel_send(vm->chan, f, reterr);
}

int vm_send_raw(struct vm *vm, const void *frames, size_t len, struct errmsg *reterr)
{
	int r = send_ok(vm, reterr);

	return r < 0 ? r : channel_send_raw(vm->chan, frames, len, reterr);
}

uint32_t vm_next_id(struct vm *vm)
{
	uint32_t id = vm->next_exec;

	vm->next_exec = id == UINT32_MAX ? 1 : id + 1;
	return id;
}

size_t vm_send_backlog(const struct vm *vm)
{
	return vm->chan ? channel_backlog(vm->chan) : 0;
}

struct vm *vm_destroy(struct vm *vm)
{
	if (!vm || vm->destroyed)
		return NULL;
	vm_teardown(vm);
	vm_dir_remove(vm);
	log_debug("vm.destroyed", "vm=%u", vm->id);
	vm->destroyed = true;
	if (vm->busy == 0)
		free(vm);
	return NULL;
}

unsigned vm_id(const struct vm *vm)
{
	return vm->id;
}

uint64_t vm_boot_ms(const struct vm *vm)
{
	return vm->boot_ms;
}

unsigned vm_boot_attempts(const struct vm *vm)
{
	return vm->attempt;
}

bool vm_restored(const struct vm *vm)
{
	return vm->restored;
}

bool vm_clone_fell_back(const struct vm *vm)
{
	return vm->clone_fell_back;
}

void vm_set_events(struct vm *vm, const struct vm_events *ev, void *ud)
{
	vm->ev = ev;
	vm->ud = ud;
}

int vm_reinit(struct vm *vm, struct errmsg *reterr)
{
	if (vm->destroyed || vm->state != VM_READY)
		return errmsg_set(reterr, -EPIPE, "vm %u is not ready", vm->id);
	return vm_send_init(vm, reterr);
}

int vm_qemu_pid(const struct vm *vm)
{
	return vm->proc ? (int)qemu_proc_pid(vm->proc) : -1;
}
