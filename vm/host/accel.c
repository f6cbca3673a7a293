/*
 * accel: decides between KVM and TCG, once per runtime, and says so loudly. "tcg" needs no probe.
 * "auto" with an openable /dev/kvm boots one real guest under KVM on a private loop with a short
 * deadline: a nested or broken KVM (like the PVM on our CI machines) hangs stock kernels, and
 * only a real boot tells. Nothing is cached: a host that gains or loses KVM is re-probed at the
 * next start. It must not change anything but rt->accel.
 */
#define LOG_MOD "vm"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "vm_int.h"

struct probe {
	struct ev_loop *loop;
	bool done, ready;
	int err;
	uint64_t boot_ms;
	char why[VM_WHY_MAX];
};

static void probe_ready(struct vm *vm, void *ud)
{
	struct probe *p = ud;

	p->done = p->ready = true;
	p->boot_ms = vm_boot_ms(vm);
	ev_break(p->loop, EVBREAK_ALL);
}

static void probe_failed(struct vm *vm, int err, const char *why, void *ud)
{
	struct probe *p = ud;

	p->done = true;
	p->err = err;
	snprintf(p->why, sizeof(p->why), "%s", why);
	ev_break(p->loop, EVBREAK_ALL);
}

static const struct vm_events probe_events = { .ready = probe_ready, .failed = probe_failed };

/* Boots one guest under KVM on a private loop, then restores rt. */
static int probe_kvm(struct vm_runtime *rt, struct probe *p, struct errmsg *reterr)
{
	struct ev_loop *saved_loop = rt->loop;
	unsigned saved_timeout = rt->boot_timeout_ms, saved_attempts = rt->boot_attempts;
	struct vm *vm = NULL;
	int r;

	p->loop = ev_loop_new(EVFLAG_AUTO);
	if (!p->loop)
		return errmsg_set(reterr, -ENOMEM, "accel probe: cannot create a loop");
	rt->loop = p->loop;
	rt->boot_timeout_ms = VM_ACCEL_PROBE_MS;
	rt->boot_attempts = 1;
	rt->probing = true;
	snprintf(rt->accel, sizeof(rt->accel), "kvm");
	r = vm_start(rt, &probe_events, p, &vm, reterr);
	while (r >= 0 && !p->done)	/* the boot watchdog bounds this */
		ev_run(p->loop, EVRUN_ONCE);
	vm_destroy(vm);
	rt->loop = saved_loop;
	rt->boot_timeout_ms = saved_timeout;
	rt->boot_attempts = saved_attempts;
	rt->probing = false;
	ev_loop_destroy(p->loop);
	return r;
}

int accel_decide(struct vm_runtime *rt, const char *want, struct errmsg *reterr)
{
	struct probe p = { 0 };
	char q[LOG_QUOTE_MAX + 16], why[VM_WHY_MAX];
	int fd, r;

	if (strcmp(want, "tcg") == 0) {
		snprintf(rt->accel, sizeof(rt->accel), "tcg");
		log_info("vm.accel", "accel=tcg reason=\"configured\"");
		return 0;
	}
	if (strcmp(want, "kvm") != 0 && strcmp(want, "auto") != 0)
		return errmsg_set(reterr, -EINVAL, "accel: expected auto, kvm or tcg, got '%s'",
				  want);
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (strcmp(want, "kvm") == 0)
			return errmsg_set(reterr, r, "accel kvm: /dev/kvm: %s", errno_name(r));
		snprintf(rt->accel, sizeof(rt->accel), "tcg");
		log_warn("vm.accel", "accel=tcg reason=\"/dev/kvm: %s\"", errno_name(r));
		return 0;
	}
	close(fd);
	if (strcmp(want, "kvm") == 0) {
		snprintf(rt->accel, sizeof(rt->accel), "kvm");
		log_info("vm.accel", "accel=kvm reason=\"configured\"");
		return 0;
	}
	r = probe_kvm(rt, &p, reterr);
	if (r < 0)
		return r;
	if (p.ready) {
		snprintf(rt->accel, sizeof(rt->accel), "kvm");
		log_info("vm.accel", "accel=kvm probe_boot_ms=%llu", (unsigned long long)p.boot_ms);
		return 0;
	}
	snprintf(rt->accel, sizeof(rt->accel), "tcg");
	if (p.err == -ETIMEDOUT)
		snprintf(why, sizeof(why), "kvm guest did not boot in %u ms", VM_ACCEL_PROBE_MS);
	else
		snprintf(why, sizeof(why), "kvm guest failed: %.900s", p.why);
	log_warn("vm.accel", "accel=tcg reason=%s", log_quote(q, sizeof(q), why, strlen(why)));
	return 0;
}
