/*
 * jail_vm: the one hook between a VM's boot and the jailer. vm_jail_argv_build() builds QEMU's
 * argv like qemu_argv_build() and, when the runtime has a jailer, puts corral-jail's prefix for
 * this VM (jail.c) in front of it. It must not start processes; boot.c does.
 */
#include <unistd.h>

#include "jail.h"
#include "vm_int.h"

int vm_jail_argv_build(struct vm *vm, struct qemu_argv_cfg *c, struct qemu_argv *out,
		       struct errmsg *reterr)
{
	const struct vm_runtime *rt = vm->rt;
	const char *const *saved = c->prefix;
	struct jail_cfg jc = {
		.jail = rt->jail,
		.outer = (const char *const *)rt->prefix,
		.pid = (unsigned long)getpid(),
		.vm_n = vm->id,
		.keep_fd3 = c->incoming_defer,	/* a clone's device state (clone.c) */
	};
	char **prefix = NULL;
	int r;

	if (!rt->jail)
		return qemu_argv_build(c, out, reterr);
	r = jail_prefix_build(&jc, c, &prefix, reterr);
	if (r < 0)
		return r;
	c->prefix = (const char *const *)prefix;
	r = qemu_argv_build(c, out, reterr);
	c->prefix = saved;
	jail_prefix_free(prefix);
	return r;
}
