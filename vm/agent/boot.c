/*
 * boot: turns the initramfs into the VM's root. Mounts /proc /sys /dev, loads the listed modules,
 * mounts the read-only root disk as the lower layer of an overlayfs whose upper layer is a tmpfs
 * (the per-VM writable layer), moves /dev into it and makes it the root (MS_MOVE + chroot: the
 * initramfs is rootfs and cannot be pivoted away). Then mounts a fresh /proc with hidepid=2, /sys,
 * and /dev/shm. The disk is never mounted writable; the lower and upper mounts stay only in the
 * hidden old root (an O_PATH fd of the upper tmpfs is kept for limits.c: boot_rw_fd()). It must not start processes or touch the port.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_MOD "boot"
#include "log.h"
#include "util.h"

#define BOOT_LOWER "/lower"
#define BOOT_RW "/rw"
#define BOOT_NEWROOT "/newroot"
#define BOOT_OVERLAY_OPTS \
	"lowerdir=" BOOT_LOWER ",upperdir=" BOOT_RW "/upper,workdir=" BOOT_RW "/work"

static int boot_rw = -1;

int boot_rw_fd(void)
{
	return boot_rw;
}

static int boot_mkdir(const char *path, mode_t mode, struct errmsg *reterr)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return errmsg_set(reterr, -errno, "mkdir '%s'", path);
	return 0;
}

static int boot_mount(const char *src, const char *dst, const char *type, unsigned long flags,
		      const char *data, struct errmsg *reterr)
{
	int r = boot_mkdir(dst, 0755, reterr);

	if (r < 0)
		return r;
	if (mount(src, dst, type, flags, data) < 0)
		return errmsg_set(reterr, -errno, "mount %s on '%s': %s", type ? type : src, dst,
				  errno_name(errno));
	return 0;
}

int boot_wait_path(const char *path, unsigned timeout_ms)
{
	uint64_t deadline = time_mono_ms() + timeout_ms;
	const struct timespec nap = { 0, 2 * 1000 * 1000 };

	while (access(path, F_OK) < 0) {
		if (time_mono_ms() >= deadline)
			return -ETIMEDOUT;
		nanosleep(&nap, NULL);
	}
	return 0;
}

/* The initramfs part: kernel interfaces and modules. */
static int boot_early(struct errmsg *reterr)
{
	const unsigned long nodev = MS_NOSUID | MS_NOEXEC | MS_NODEV;
	int r;

	r = boot_mount("proc", "/proc", "proc", nodev, NULL, reterr);
	if (r >= 0)
		r = boot_mount("sysfs", "/sys", "sysfs", nodev, NULL, reterr);
	if (r >= 0)
		r = boot_mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755",
			       reterr);
	if (r < 0)
		return r;
	console_setup();
	return kmod_load_list(AGENT_MODULES_LIST, reterr);
}

/* Lower disk + tmpfs upper → overlay at BOOT_NEWROOT. */
static int boot_overlay(struct errmsg *reterr)
{
	int r;

	if (boot_wait_path(AGENT_ROOT_DEV, AGENT_DEV_WAIT_MS) < 0)
		return errmsg_set(reterr, -ENODEV, "root disk %s did not appear in %u ms",
				  AGENT_ROOT_DEV, AGENT_DEV_WAIT_MS);
	r = boot_mount(AGENT_ROOT_DEV, BOOT_LOWER, "ext4", MS_RDONLY | MS_NOATIME,
		       "noload", reterr);
	if (r < 0)
		return r;
	r = boot_mount("tmpfs", BOOT_RW, "tmpfs", MS_NOATIME, "mode=0755", reterr);
	if (r >= 0)	/* kept for limits.c: resized per exec (disk_max), measured at exit */
		boot_rw = open(BOOT_RW, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r >= 0)
		r = boot_mkdir(BOOT_RW "/upper", 0755, reterr);
	if (r >= 0)
		r = boot_mkdir(BOOT_RW "/work", 0755, reterr);
	if (r >= 0)
		r = boot_mount("overlay", BOOT_NEWROOT, "overlay", MS_NOATIME, BOOT_OVERLAY_OPTS,
			       reterr);
	return r;
}

/* Moves /dev into the new root, drops the early /proc and /sys, and switches. */
static int boot_switch(struct errmsg *reterr)
{
	int r;

	r = boot_mkdir(BOOT_NEWROOT "/dev", 0755, reterr);
	if (r < 0)
		return r;
	if (mount("/dev", BOOT_NEWROOT "/dev", NULL, MS_MOVE, NULL) < 0)
		return errmsg_set(reterr, -errno, "move /dev: %s", errno_name(errno));
	(void)umount2("/proc", MNT_DETACH);
	(void)umount2("/sys", MNT_DETACH);
	if (chdir(BOOT_NEWROOT) < 0)
		return errmsg_set(reterr, -errno, "chdir new root");
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return errmsg_set(reterr, -errno, "move new root to /: %s", errno_name(errno));
	if (chroot(".") < 0 || chdir("/") < 0)
		return errmsg_set(reterr, -errno, "chroot new root");
	return 0;
}

static int boot_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		r = -errno;
	fd_close(fd);
	return r;
}

/* Kernel interfaces inside the final root. */
static int boot_late(struct errmsg *reterr)
{
	const unsigned long nodev = MS_NOSUID | MS_NOEXEC | MS_NODEV;
	int r;

	r = boot_mount("proc", "/proc", "proc", nodev, "hidepid=2", reterr);
	if (r >= 0)
		r = boot_mount("sysfs", "/sys", "sysfs", nodev | MS_RDONLY, NULL, reterr);
	if (r >= 0)
		r = boot_mount("tmpfs", "/dev/shm", "tmpfs", nodev, "mode=1777", reterr);
	if (r < 0)
		return r;
	(void)sethostname("corral", 6);
	/* Yama: a user process may ptrace only its own descendants (another exec of the same uid
	 * is off limits; the agent, root, is anyway). Best effort: absent without Yama. */
	(void)boot_write("/proc/sys/kernel/yama/ptrace_scope", "1");
	return 0;
}

int boot_run(struct errmsg *reterr)
{
	uint64_t t0 = time_mono_ms(), t1, t2;
	int r;

	r = boot_early(reterr);
	t1 = time_mono_ms();
	if (r >= 0)
		r = boot_overlay(reterr);
	t2 = time_mono_ms();
	if (r >= 0)
		r = boot_switch(reterr);
	if (r >= 0)
		r = boot_late(reterr);
	if (r >= 0)
		log_info("boot.done", "early_modules_ms=%llu root_ms=%llu",
			 (unsigned long long)(t1 - t0), (unsigned long long)(t2 - t1));
	return r;
}
