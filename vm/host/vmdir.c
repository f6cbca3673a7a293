/*
 * vmdir: the per-VM directory <run_dir>/vm-<pid>-<n>/ (0700) holding agent.sock, qmp.sock,
 * console.log, qemu.log (and mig.sock, mem while a template is built); and the sweep of directories left by dead processes. It only ever
 * removes those four names and the directory itself, never recursively, so a wrong path cannot
 * delete anything else.
 */
#define LOG_MOD "vm"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "vm_int.h"

static const char *const vm_files[] = { "agent.sock", "qmp.sock", "console.log", "qemu.log",
					"mig.sock", "mem" };

int vm_dir_make(struct vm *vm, struct errmsg *reterr)
{
	if (mkdir(vm->paths.dir, 0700) < 0 && errno != EEXIST)
		return errmsg_set(reterr, -errno, "mkdir %s: %s", vm->paths.dir, errno_name(errno));
	vm->dir_made = true;
	vm_dir_clean(&vm->paths);
	return 0;
}

static void clean_at(int dfd)
{
	for (size_t i = 0; i < sizeof(vm_files) / sizeof(vm_files[0]); i++)
		(void)unlinkat(dfd, vm_files[i], 0);
}

void vm_dir_clean(const struct vm_paths *p)
{
	int dfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	if (dfd < 0)
		return;
	clean_at(dfd);
	close(dfd);
}

void vm_dir_remove(struct vm *vm)
{
	if (!vm->dir_made)
		return;
	vm_dir_clean(&vm->paths);
	if (rmdir(vm->paths.dir) < 0 && errno != ENOENT)
		log_warn("vm.dir_left", "vm=%u dir=%s err=%s", vm->id, vm->paths.dir,
			 errno_name(errno));
	vm->dir_made = false;
}

void vm_dir_sweep(const char *run_dir)
{
	DIR *d = opendir(run_dir);
	struct dirent *e;
	unsigned long pid;
	unsigned n;
	char tail;

	if (!d)
		return;
	while ((e = readdir(d))) {
		int dfd;

		if (sscanf(e->d_name, "vm-%lu-%u%c", &pid, &n, &tail) != 2)
			continue;
		if (pid == (unsigned long)getpid() || pid > INT32_MAX)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		dfd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (dfd < 0)
			continue;
		clean_at(dfd);
		close(dfd);
		if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) == 0)
			log_info("vm.stale_dir_removed", "dir=%s/%s", run_dir, e->d_name);
	}
	closedir(d);
}

char *vm_file_tail(const char *path, char *out, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	ssize_t got = 0;
	off_t off;

	out[0] = '\0';
	if (fd < 0)
		return out;
	if (fstat(fd, &st) == 0 && n > 1) {
		off = st.st_size > (off_t)(n - 1) ? st.st_size - (off_t)(n - 1) : 0;
		got = pread(fd, out, n - 1, off);
		if (got < 0)
			got = 0;
	}
	close(fd);
	out[got] = '\0';
	for (ssize_t i = 0; i < got; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = ' ';
	return out;
}
