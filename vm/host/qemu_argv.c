/*
 * qemu_argv: builds the QEMU microvm command line of one VM and the paths of its run directory.
 * Pure: it formats strings and checks limits, and must not touch the filesystem or processes.
 *
 * Translation cache (-accel tcg,tb-size=N MiB; QEMU 7.2 reserves 1 GiB by default and fills it
 * as guest code is translated). Measured on the 2-core CI machine (load 2-4 from other work, so
 * ±30 % noise), 3 runs each, medians; workload = 4 × python3 importing json, email, http.client,
 * decimal, unittest, argparse, csv, xml.dom.minidom, pydoc, difflib and summing 200k squares;
 * RSS = QEMU's VmHWM:
 *   tb-size      boot     workload   peak RSS
 *   32 MiB       2.46 s   7.47 s     242 MB   (cache thrashes: ~30 % slower)
 *   64 MiB       2.23 s   5.64 s     282 MB
 *   128 MiB      2.29 s   5.81 s     307 MB
 *   default      2.67 s   6.30 s     307 MB
 * Boot time does not depend on it. 128 MiB: no slower than the default, and a hard bound on a
 * code-heavy job's cache (1 GiB otherwise); 64 MiB saves ~25 MB but leaves no headroom for
 * bigger code (numpy, compilers) on a machine that is short of CPU, not memory.
 */
#include "qemu_argv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vm_paths_make(struct vm_paths *p, const char *run_dir, unsigned long pid, unsigned n,
		  struct errmsg *reterr)
{
	static const char *const socks[] = { "agent.sock", "qmp.sock" };
	char *dst[] = { p->agent_sock, p->qmp_sock };
	int w;

	w = snprintf(p->dir, sizeof(p->dir), "%s/vm-%lu-%u", run_dir, pid, n);
	if (w < 0 || (size_t)w >= sizeof(p->dir))
		return errmsg_set(reterr, -ENAMETOOLONG, "run dir '%s': path too long", run_dir);
	for (size_t i = 0; i < 2; i++) {
		w = snprintf(dst[i], VM_SOCK_PATH_MAX + 1, "%s/%s", p->dir, socks[i]);
		if (w < 0 || w > VM_SOCK_PATH_MAX)
			return errmsg_set(reterr, -ENAMETOOLONG,
					  "socket path '%s/%s' is %d bytes, unix sockets allow %d: "
					  "use a shorter run dir",
					  p->dir, socks[i], w, VM_SOCK_PATH_MAX);
	}
	w = snprintf(p->console_log, sizeof(p->console_log), "%s/console.log", p->dir);
	if (w < 0 || (size_t)w >= sizeof(p->console_log))
		return errmsg_set(reterr, -ENAMETOOLONG, "run dir '%s': path too long", run_dir);
	w = snprintf(p->qemu_log, sizeof(p->qemu_log), "%s/qemu.log", p->dir);
	if (w < 0 || (size_t)w >= sizeof(p->qemu_log))
		return errmsg_set(reterr, -ENAMETOOLONG, "run dir '%s': path too long", run_dir);
	return 0;
}

struct argv_builder {
	char **v;
	size_t n;
	int err;
};

/* Appends one printf-formatted item; the first failure sticks in b->err. */
__attribute__((format(printf, 2, 3))) static void add(struct argv_builder *b, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int w;

	if (b->err)
		return;
	if (b->n + 1 >= QEMU_ARGV_MAX) {
		b->err = -E2BIG;
		return;
	}
	va_start(ap, fmt);
	w = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (w < 0) {
		b->err = -ENOMEM;
		return;
	}
	b->v[b->n++] = s;
}

/* A keyval option value: QEMU reads ',,' as a literal comma. Returns a malloc'd copy or NULL. */
static char *kv_escape(const char *s)
{
	size_t n = strlen(s), extra = 0;
	char *out, *o;

	for (size_t i = 0; i < n; i++)
		extra += s[i] == ',';
	out = malloc(n + extra + 1);
	if (!out)
		return NULL;
	o = out;
	for (size_t i = 0; i < n; i++) {
		*o++ = s[i];
		if (s[i] == ',')
			*o++ = ',';
	}
	*o = '\0';
	return out;
}

static int check_cfg(const struct qemu_argv_cfg *c, struct errmsg *reterr)
{
	size_t np = 0;

	if (!c->accel || (strcmp(c->accel, "kvm") != 0 && strcmp(c->accel, "tcg") != 0))
		return errmsg_set(reterr, -EINVAL, "accel: expected kvm or tcg, got '%s'",
				  c->accel ? c->accel : "(null)");
	if (c->mem_mib < 64 || c->mem_mib > QEMU_MEM_MIB_MAX)
		return errmsg_set(reterr, -EINVAL, "mem_mib: %u not in [64, %u]", c->mem_mib,
				  QEMU_MEM_MIB_MAX);
	if (c->vcpus < 1 || c->vcpus > QEMU_VCPUS_MAX)
		return errmsg_set(reterr, -EINVAL, "vcpus: %u not in [1, %u]", c->vcpus,
				  QEMU_VCPUS_MAX);
	if (!c->qemu || !c->kernel || !c->initrd || !c->rootfs || !c->paths)
		return errmsg_set(reterr, -EINVAL, "qemu, kernel, initrd, rootfs and paths are required");
	while (c->prefix && c->prefix[np])
		np++;
	if (np > QEMU_PREFIX_MAX)
		return errmsg_set(reterr, -E2BIG, "exec prefix: %zu items, at most %d", np,
				  QEMU_PREFIX_MAX);
	if (c->append_extra) {
		size_t len = strlen(c->append_extra);

		for (size_t i = 0; i < len; i++)
			if ((unsigned char)c->append_extra[i] < 0x20 || c->append_extra[i] == 0x7f)
				return errmsg_set(reterr, -EINVAL,
						  "append_extra: control byte at offset %zu", i);
		if (strlen(QEMU_KERNEL_CMDLINE) + 32 + 1 + len > QEMU_CMDLINE_MAX)
			return errmsg_set(reterr, -E2BIG,
					  "kernel command line over %d bytes", QEMU_CMDLINE_MAX);
	}
	return 0;
}

int qemu_argv_build(const struct qemu_argv_cfg *c, struct qemu_argv *out, struct errmsg *reterr)
{
	struct argv_builder b = { 0 };
	const struct vm_paths *p = c->paths;
	char *rootfs = NULL, *agent = NULL, *qmp = NULL, *console = NULL, *mem = NULL;
	char tsc[32] = "";
	int r;

	r = check_cfg(c, reterr);
	if (r < 0)
		return r;
	b.v = calloc(QEMU_ARGV_MAX, sizeof(*b.v));
	rootfs = kv_escape(c->rootfs);
	agent = kv_escape(p->agent_sock);
	qmp = kv_escape(p->qmp_sock);
	console = kv_escape(p->console_log);
	if (c->mem_fd) {
		char fdpath[32];

		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", QEMU_MEM_FD);
		mem = strdup(fdpath);
	} else if (c->mem_path) {
		mem = kv_escape(c->mem_path);
	}
	if (!b.v || !rootfs || !agent || !qmp || !console || ((c->mem_path || c->mem_fd) && !mem)) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; c->prefix && c->prefix[i]; i++)
		add(&b, "%s", c->prefix[i]);
	add(&b, "%s", c->qemu);
	add(&b, "-M");
	add(&b, "microvm,x-option-roms=off,rtc=on");
	add(&b, "-accel");
	if (strcmp(c->accel, "tcg") == 0 && c->tb_mib)
		add(&b, "tcg,tb-size=%u", c->tb_mib);
	else
		add(&b, "%s", c->accel);
	add(&b, "-cpu");
	add(&b, "max");
	add(&b, "-m");
	add(&b, "%u", c->mem_mib);
	add(&b, "-smp");
	add(&b, "%u", c->vcpus);
	if (mem) {
		add(&b, "-object");
		add(&b, "memory-backend-file,id=mem,size=%uM,mem-path=%s,share=%s", c->mem_mib, mem,
		    c->mem_share ? "on" : "off");
		add(&b, "-machine");
		add(&b, "memory-backend=mem");
	}
	if (c->incoming_defer) {
		add(&b, "-incoming");
		add(&b, "defer");
	}
	add(&b, "-nodefaults");
	add(&b, "-no-user-config");
	add(&b, "-display");
	add(&b, "none");
	add(&b, "-no-reboot");
	if (c->sandbox) {
		add(&b, "-sandbox");
		add(&b, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
	}
	add(&b, "-kernel");
	add(&b, "%s", c->kernel);
	add(&b, "-initrd");
	add(&b, "%s", c->initrd);
	add(&b, "-append");
	if (c->tsc_khz)
		snprintf(tsc, sizeof(tsc), " tsc_early_khz=%u", c->tsc_khz);
	add(&b, "%s%s%s%s", QEMU_KERNEL_CMDLINE, tsc, c->append_extra && *c->append_extra ? " " : "",
	    c->append_extra ? c->append_extra : "");
	add(&b, "-drive");
	add(&b, "id=root,file=%s,format=raw,if=none,readonly=on", rootfs);
	add(&b, "-device");
	add(&b, "virtio-blk-device,drive=root");
	add(&b, "-chardev");
	add(&b, "file,id=console,path=%s", console);
	add(&b, "-serial");
	add(&b, "chardev:console");
	add(&b, "-device");
	add(&b, "virtio-serial-device");
	add(&b, "-chardev");
	add(&b, "socket,id=agent,path=%s,server=on,wait=off", agent);
	add(&b, "-device");
	add(&b, "virtserialport,chardev=agent,name=corral.agent");
	add(&b, "-chardev");
	add(&b, "socket,id=qmp,path=%s,server=on,wait=off", qmp);
	add(&b, "-mon");
	add(&b, "chardev=qmp,mode=control");
	r = b.err;
	if (r == -E2BIG)
		errmsg_set(reterr, r, "qemu argv over %d items", QEMU_ARGV_MAX);
	if (r < 0)
		goto out;
	out->argv = b.v;
	out->argc = b.n;
	b.v = NULL;
out:
	if (b.v) {
		for (size_t i = 0; i < b.n; i++)
			free(b.v[i]);
		free(b.v);
	}
	free(rootfs);
	free(agent);
	free(qmp);
	free(console);
	free(mem);
	return r;
}

void qemu_argv_free(struct qemu_argv *a)
{
	if (!a || !a->argv)
		return;
	for (size_t i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
	a->argv = NULL;
	a->argc = 0;
}

char *qemu_argv_join(const struct qemu_argv *a, char *out, size_t n)
{
	size_t o = 0;

	if (!n)
		return out;
	out[0] = '\0';
	for (size_t i = 0; i < a->argc && o + 1 < n; i++) {
		int w = snprintf(out + o, n - o, "%s%s", i ? " " : "", a->argv[i]);

		if (w < 0)
			break;
		o += (size_t)w;
	}
	return out;
}
