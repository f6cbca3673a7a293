/*
 * runtime: vm_runtime_new/free. Copies the configuration, applies defaults and limits, checks
 * the artefacts and the QEMU binary up front (a missing file is one clear error at start-up, not
 * a failed boot per job), prepares run_dir and lets accel.c pick the accelerator. It also resolves
 * an image name to its root disk (<images_dir>/<image>.ext4) for vm_start_image() and templates,
 * checked at each start: images can be added next to base.ext4 while the runtime lives. It must
 * not start VMs itself except through the accel probe and vm_start_image's hand-off to vm.c.
 */
#define LOG_MOD "vm"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "vm_int.h"

#ifndef CORRAL_DEFAULT_IMAGES
#define CORRAL_DEFAULT_IMAGES "build/images"
#endif
#ifndef CORRAL_DEFAULT_RUN_DIR
#define CORRAL_DEFAULT_RUN_DIR "run"
#endif
#define QEMU_DEFAULT "qemu-system-x86_64"
#define PATH_DEFAULT "/usr/local/bin:/usr/bin:/bin"
#define VM_IMAGE_NAME_MAX 32
#define VM_IMAGE_BASE "base"

static int artefact(const char *dir, const char *name, char **ret, struct errmsg *reterr)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	if (access(p, R_OK) < 0) {
		int r = -errno;

		errmsg_set(reterr, r, "images: %s: %s (build them with images/build --out %s)", p,
			   errno_name(r), dir);
		free(p);
		return r;
	}
	*ret = p;
	return 0;
}

/* An absolute path for name: itself when it has a '/', else the first executable in $PATH. */
static int resolve_exe(const char *name, char **ret, struct errmsg *reterr)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (strchr(name, '/')) {
		if (access(name, X_OK) < 0)
			return errmsg_set(reterr, -errno, "%s: %s", name, errno_name(errno));
		if (!realpath(name, buf))
			return errmsg_set(reterr, -errno, "%s: %s", name, errno_name(errno));
		*ret = strdup(buf);
		return *ret ? 0 : -ENOMEM;
	}
	if (!path || !*path)
		path = PATH_DEFAULT;
	while (*path) {
		size_t n = strcspn(path, ":");
		int w = snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? path : ".", name);

		if (w > 0 && (size_t)w < sizeof(buf) && buf[0] == '/' && access(buf, X_OK) == 0) {
			*ret = strdup(buf);
			return *ret ? 0 : -ENOMEM;
		}
		path += n + (path[n] == ':');
	}
	return errmsg_set(reterr, -ENOENT, "%s: not found in PATH", name);
}

static int copy_prefix(struct vm_runtime *rt, const char *const *prefix, struct errmsg *reterr)
{
	size_t n = 0;
	int r;

	while (prefix[n])
		n++;
	if (n == 0)
		return 0;
	if (n > QEMU_PREFIX_MAX)
		return errmsg_set(reterr, -E2BIG, "exec_prefix: %zu items, at most %d", n,
				  QEMU_PREFIX_MAX);
	rt->prefix = calloc(n + 1, sizeof(char *));
	if (!rt->prefix)
		return -ENOMEM;
	r = resolve_exe(prefix[0], &rt->prefix[0], reterr);
	if (r < 0)
		return r;
	for (size_t i = 1; i < n; i++)
		if (!(rt->prefix[i] = strdup(prefix[i])))
			return -ENOMEM;
	return 0;
}

/* A jailed QEMU sees files at the paths its argv names: they must be absolute. */
static int jail_setup(struct vm_runtime *rt, const char *jail, struct errmsg *reterr)
{
	char *const files[] = { rt->kernel, rt->initrd, rt->rootfs, rt->run_dir };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (files[i][0] != '/')
			return errmsg_set(reterr, -EINVAL, "jail: '%s' must be an absolute path",
					  files[i]);
	return resolve_exe(jail, &rt->jail, reterr);
}

static int make_run_dir(const char *run_dir, struct errmsg *reterr)
{
	struct vm_paths p;
	int r;

	if (mkdir(run_dir, 0700) < 0 && errno != EEXIST)
		return errmsg_set(reterr, -errno, "run dir %s: %s", run_dir, errno_name(errno));
	/* The longest socket path this process can make: fail now, not at the n-th VM. */
	r = vm_paths_make(&p, run_dir, (unsigned long)INT32_MAX, UINT_MAX, reterr);
	if (r < 0)
		return r;
	vm_dir_sweep(run_dir);
	return 0;
}

int vm_runtime_new(struct ev_loop *loop, const struct vm_config *cfg, struct vm_runtime **ret,
		   struct errmsg *reterr)
{
	struct vm_runtime *rt = calloc(1, sizeof(*rt));
	const char *images = cfg->images_dir ? cfg->images_dir : CORRAL_DEFAULT_IMAGES;
	const char *run = cfg->run_dir ? cfg->run_dir : CORRAL_DEFAULT_RUN_DIR;
	int r = -ENOMEM;

	if (!rt)
		return -ENOMEM;
	rt->loop = loop;
	rt->mem_mib = cfg->mem_mib ? cfg->mem_mib : VM_DEFAULT_MEM_MIB;
	rt->vcpus = cfg->vcpus ? cfg->vcpus : 1;
	rt->boot_timeout_ms = cfg->boot_timeout_ms ? cfg->boot_timeout_ms
						   : VM_DEFAULT_BOOT_TIMEOUT_MS;
	rt->boot_attempts = cfg->boot_attempts ? cfg->boot_attempts : VM_DEFAULT_BOOT_ATTEMPTS;
	if (rt->boot_attempts > VM_BOOT_ATTEMPTS_MAX) {
		r = errmsg_set(reterr, -EINVAL, "boot_attempts: %u over %u", rt->boot_attempts,
			       VM_BOOT_ATTEMPTS_MAX);
		goto out;
	}
	if (rt->mem_mib < 64 || rt->mem_mib > QEMU_MEM_MIB_MAX || rt->vcpus > QEMU_VCPUS_MAX) {
		r = errmsg_set(reterr, -EINVAL, "mem_mib %u or vcpus %u out of range", rt->mem_mib,
			       rt->vcpus);
		goto out;
	}
	rt->images_dir = strdup(images);
	rt->run_dir = strdup(run);
	if (cfg->snap_dir)
		rt->snap_dir = strdup(cfg->snap_dir);
	else if (asprintf(&rt->snap_dir, "%s/snap", run) < 0)
		rt->snap_dir = NULL;
	if (!rt->images_dir || !rt->run_dir || !rt->snap_dir)
		goto out;
	if (cfg->append_extra && !(rt->append_extra = strdup(cfg->append_extra)))
		goto out;
	if ((r = artefact(images, "vmlinux", &rt->kernel, reterr)) < 0 ||
	    (r = artefact(images, "initramfs.cpio.gz", &rt->initrd, reterr)) < 0 ||
	    (r = artefact(images, "base.ext4", &rt->rootfs, reterr)) < 0)
		goto out;
	r = resolve_exe(cfg->qemu_path ? cfg->qemu_path : QEMU_DEFAULT, &rt->qemu, reterr);
	if (r < 0)
		goto out;
	if (cfg->exec_prefix && (r = copy_prefix(rt, cfg->exec_prefix, reterr)) < 0)
		goto out;
	if (cfg->jail && (r = jail_setup(rt, cfg->jail, reterr)) < 0)
		goto out;
	r = make_run_dir(rt->run_dir, reterr);
	if (r < 0)
		goto out;
	r = accel_decide(rt, cfg->accel ? cfg->accel : "auto", reterr);
	if (r < 0)
		goto out;
	if (strcmp(rt->accel, "tcg") == 0) {
		int t = host_tsc_khz(&rt->tsc_khz);

		if (t < 0)
			log_warn("vm.tsc_unknown", "err=%s note=\"TCG boots may hang in TSC "
				 "calibration under load\"", errno_name(t));
		else
			log_info("vm.tsc", "tsc_khz=%u", rt->tsc_khz);
	}
	*ret = rt;
	rt = NULL;
out:
	vm_runtime_free(rt);
	return r;
}

struct vm_runtime *vm_runtime_free(struct vm_runtime *rt)
{
	if (!rt)
		return NULL;
	for (size_t i = 0; rt->prefix && rt->prefix[i]; i++)
		free(rt->prefix[i]);
	free(rt->prefix);
	free(rt->jail);
	free(rt->images_dir);
	free(rt->run_dir);
	free(rt->snap_dir);
	free(rt->qemu);
	free(rt->kernel);
	free(rt->initrd);
	free(rt->rootfs);
	free(rt->append_extra);
	free(rt);
	return NULL;
}

static bool image_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > VM_IMAGE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

int vm_image_rootfs(struct vm_runtime *rt, const char *image, char *out, size_t n,
		    struct errmsg *reterr)
{
	struct stat st;

	if (!image || !image[0])
		image = VM_IMAGE_BASE;
	if (!image_name_ok(image))
		return errmsg_set(reterr, -EINVAL, "image: 1-%d of [a-z0-9_-]", VM_IMAGE_NAME_MAX);
	if ((size_t)snprintf(out, n, "%s/%s.ext4", rt->images_dir, image) >= n)
		return errmsg_set(reterr, -ENAMETOOLONG, "image '%s': path too long", image);
	if (stat(out, &st) < 0 || access(out, R_OK) < 0) {
		int r = -errno;

		return errmsg_set(reterr, r, "image '%s': %s: %s", image, out, errno_name(r));
	}
	if (!S_ISREG(st.st_mode))
		return errmsg_set(reterr, -ENOENT, "image '%s': %s is not a regular file", image,
				  out);
	return 0;
}

int vm_start_image(struct vm_runtime *rt, const char *image, const struct vm_events *ev, void *ud,
		   struct vm **ret, struct errmsg *reterr)
{
	struct vm_spec spec = { 0 };
	int r;

	if (!image || !image[0] || strcmp(image, VM_IMAGE_BASE) == 0)
		return vm_start_spec(rt, NULL, ev, ud, ret, reterr);
	r = vm_image_rootfs(rt, image, spec.rootfs, sizeof(spec.rootfs), reterr);
	if (r < 0)
		return r;
	return vm_start_spec(rt, &spec, ev, ud, ret, reterr);
}

int vm_start_with(struct vm_runtime *rt, const struct vm_start_cfg *cfg,
		  const struct vm_events *ev, void *ud, struct vm **ret, struct errmsg *reterr)
{
	struct vm_spec spec = { .mem_mib = cfg->mem_mib, .vcpus = cfg->vcpus };
	int r;

	if (cfg->image && cfg->image[0] && strcmp(cfg->image, VM_IMAGE_BASE) != 0) {
		r = vm_image_rootfs(rt, cfg->image, spec.rootfs, sizeof(spec.rootfs), reterr);
		if (r < 0)
			return r;
	}
	return vm_start_spec(rt, &spec, ev, ud, ret, reterr);
}

const char *vm_runtime_accel(const struct vm_runtime *rt)
{
	return rt->accel;
}
