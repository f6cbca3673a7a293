/*
 * clone: the QMP half of restoring a clone from a template snapshot (QEMU 7.2). QEMU was started
 * with `-incoming defer`, the template's RAM file mapped share=off (copy-on-write) and the saved
 * device state open as fd 3 (boot.c). Once QMP is up: set the x-ignore-shared capability (7.2
 * rejects it as -global; the RAM is not in the stream, it is the file), then
 * `migrate-incoming fd:3`. QEMU loads the state and resumes the guest by itself; on RESUME the
 * agent socket is connected, the agent (which saw its host leave before the save) answers the new
 * connection with READY and boot.c sends INIT (wall clock, fresh seed) as for any boot.
 * Any error here ends the attempt; boot.c then boots cold. It must not spawn or kill QEMU.
 */
#define LOG_MOD "vm"
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "qemu_proc.h"
#include "util.h"
#include "vm_int.h"

static void incoming_reply(struct qmp *q, int err, const struct qmp_msg *m, void *ud)
{
	struct vm *vm = ud;
	char why[QMP_DESC_MAX + 64];

	if (err >= 0)
		return;		/* RESUME follows when the state is loaded */
	snprintf(why, sizeof(why), "migrate-incoming refused: %s", m ? m->desc : "?");
	vm_lost(vm, -EIO, why);
}

static void caps_reply(struct qmp *q, int err, const struct qmp_msg *m, void *ud)
{
	struct vm *vm = ud;
	struct errmsg em = { "" };
	char why[QMP_DESC_MAX + 64], args[64];
	int r;

	if (err < 0) {
		snprintf(why, sizeof(why), "x-ignore-shared refused: %s", m ? m->desc : "?");
		vm_lost(vm, -EIO, why);
		return;
	}
	snprintf(args, sizeof(args), "{\"uri\": \"fd:%d\"}", QEMU_PROC_PASS_FD);
	r = qmp_execute(q, "migrate-incoming", args, incoming_reply, vm, &em);
	if (r < 0) {
		snprintf(why, sizeof(why), "migrate-incoming: %s", em.msg);
		vm_lost(vm, r, why);
	}
}

void clone_qmp_ready(struct vm *vm)
{
	static const char caps[] =
		"{\"capabilities\": [{\"capability\": \"x-ignore-shared\", \"state\": true}]}";
	struct errmsg em = { "" };
	char why[ERRMSG_MAX + 32];
	int r;

	if (!vm->restoring)
		return;
	r = qmp_execute(vm->qmp, "migrate-set-capabilities", caps, caps_reply, vm, &em);
	if (r < 0) {
		snprintf(why, sizeof(why), "migrate-set-capabilities: %s", em.msg);
		vm_lost(vm, r, why);
	}
}

void clone_qmp_event(struct vm *vm, const char *name)
{
	if (!vm->restoring || vm->resumed || strcmp(name, "RESUME") != 0)
		return;
	vm->resumed = true;
	log_debug("vm.restored", "vm=%u ms=%llu", vm->id,
		  (unsigned long long)(time_mono_ms() - vm->t_attempt_ms));
	/* Now the agent socket (boot.c's connect timer skipped it until RESUME). */
	ev_timer_stop(vm->rt->loop, &vm->connect);
	ev_timer_set(&vm->connect, 0., 0.);
	ev_timer_start(vm->rt->loop, &vm->connect);
}
