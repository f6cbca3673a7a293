/*
 * cgroup: one control group per VM, corral/<name>, with memory, pids and CPU limits. cgroup v2
 * where a v2 hierarchy holds the controllers (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid
 * hosts), else v1 (one group per controller under /sys/fs/cgroup/{memory,pids,cpu}). The group is
 * created by the supervising jailer before the fork, joined by the jailed child before exec and
 * removed by the supervisor after the child is reaped. It must not touch any group outside
 * corral/: names are checked to be a single plain path component.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "errmsg.h"
#include "jail.h"

#define CG_ROOT "/sys/fs/cgroup"
#define CG_RMDIR_TRIES 100		/* x 10 ms: a group is busy briefly after its last exit */
#define CG_STALE_S 120			/* an empty vm-* group this old was leaked: remove it */

static int write_file(const char *dir, const char *file, const char *val, char *detail)
{
	char path[320];
	int fd, r = 0;
	size_t n = strlen(val);

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(detail, JAIL_DETAIL_MAX, "open %s", path);
		return r;
	}
	if (write(fd, val, n) != (ssize_t)n) {
		r = -errno;
		snprintf(detail, JAIL_DETAIL_MAX, "write '%s' to %s", val, path);
	}
	close(fd);
	return r;
}

static bool file_has_word(const char *path, const char *word)
{
	char buf[512];
	FILE *f = fopen(path, "re");
	bool found = false;

	if (!f)
		return false;
	while (fscanf(f, "%255s", buf) == 1)
		if (strcmp(buf, word) == 0)
			found = true;
	fclose(f);
	return found;
}

static int check_name(const char *name, char *detail)
{
	size_t n = strlen(name);

	if (n == 0 || n > JAIL_CGROUP_NAME_MAX || name[0] == '.')
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '-' || name[i] == '_' ||
		      name[i] == '.'))
			goto bad;
	return 0;
bad:
	snprintf(detail, JAIL_DETAIL_MAX, "cgroup name '%s': want 1-%d of [A-Za-z0-9._-]", name,
		 JAIL_CGROUP_NAME_MAX);
	return -EINVAL;
}

static int mkdir_one(const char *path, char *detail)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		int r = -errno;

		snprintf(detail, JAIL_DETAIL_MAX, "mkdir %s", path);
		return r;
	}
	return 0;
}

/* A supervisor killed with SIGKILL (a test harness killing everything that mentions QEMU, an
 * OOM kill) cannot remove its group. The next jailer removes empty vm-* groups older than
 * CG_STALE_S under corral/: a live VM's group is never empty, and a fresh group is joined within
 * milliseconds of its creation. rmdir of a non-empty group fails harmlessly (EBUSY). */
static void sweep_stale(const char *corral)
{
	DIR *d = opendir(corral);
	struct dirent *e;
	struct stat st;
	time_t now = time(NULL);

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "vm-", 3) != 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode) || now - st.st_mtime < CG_STALE_S)
			continue;
		(void)unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

/* Which v2 mount holds the memory controller, or NULL. */
static const char *v2_root(void)
{
	if (file_has_word(CG_ROOT "/cgroup.controllers", "memory"))
		return CG_ROOT;
	if (file_has_word(CG_ROOT "/unified/cgroup.controllers", "memory"))
		return CG_ROOT "/unified";
	return NULL;
}

/* CPU weight of corral/ as a whole. A group competes with every task of its parent as ONE
 * entity: at the default weight, all VMs together would get the CPU share of a single host
 * process (measured: 7 jailed QEMUs at ~8 % each beside one niced fuzzer at 50 %, boots timing
 * out). Weight per CPU, doubled, puts the VMs as a class ahead of stray host processes without
 * starving corrald. */
static void corral_weight(const char *corral, bool v2)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char val[32], detail[JAIL_DETAIL_MAX];

	if (ncpu < 1)
		ncpu = 1;
	if (v2)
		snprintf(val, sizeof(val), "%ld", ncpu * 200 > 10000 ? 10000 : ncpu * 200);
	else
		snprintf(val, sizeof(val), "%ld", ncpu * 2048);
	(void)write_file(corral, v2 ? "cpu.weight" : "cpu.shares", val, detail);
}

static int create_v2(struct jail *j, const char *root, char *detail)
{
	char corral[128];
	char val[64];
	int r;

	snprintf(corral, sizeof(corral), "%s/corral", root);
	if ((r = write_file(root, "cgroup.subtree_control", "+memory +pids +cpu", detail)) < 0 ||
	    (r = mkdir_one(corral, detail)) < 0 ||
	    (r = write_file(corral, "cgroup.subtree_control", "+memory +pids +cpu", detail)) < 0)
		return r;
	corral_weight(corral, true);
	sweep_stale(corral);
	snprintf(j->cg_dirs[0], sizeof(j->cg_dirs[0]), "%s/%s", corral, j->cgroup);
	if ((r = mkdir_one(j->cg_dirs[0], detail)) < 0)
		return r;
	j->ncg_dirs = 1;
	if (j->mem_max) {
		snprintf(val, sizeof(val), "%" PRIu64, j->mem_max);
		if ((r = write_file(j->cg_dirs[0], "memory.max", val, detail)) < 0)
			return r;
		(void)write_file(j->cg_dirs[0], "memory.swap.max", "0", detail);
	}
	if (j->pids_max) {
		snprintf(val, sizeof(val), "%" PRIu64, j->pids_max);
		if ((r = write_file(j->cg_dirs[0], "pids.max", val, detail)) < 0)
			return r;
	}
	if (j->cpu_quota_us) {
		snprintf(val, sizeof(val), "%" PRIu64 " %" PRIu64, j->cpu_quota_us, j->cpu_period_us);
		if ((r = write_file(j->cg_dirs[0], "cpu.max", val, detail)) < 0)
			return r;
	}
	return 0;
}

/* v1: one group per controller that has a limit to enforce. */
static int create_v1(struct jail *j, char *detail)
{
	static const char *const ctrls[] = { "memory", "pids", "cpu" };
	char val[64], corral[128];
	int r;

	for (size_t i = 0; i < 3; i++) {
		char *dir = j->cg_dirs[j->ncg_dirs];

		if ((i == 0 && !j->mem_max) || (i == 1 && !j->pids_max) ||
		    (i == 2 && !j->cpu_quota_us))
			continue;
		snprintf(corral, sizeof(corral), CG_ROOT "/%s/corral", ctrls[i]);
		if ((r = mkdir_one(corral, detail)) < 0)
			return r;
		if (i == 2)
			corral_weight(corral, false);
		sweep_stale(corral);
		snprintf(dir, sizeof(j->cg_dirs[0]), "%s/%s", corral, j->cgroup);
		if ((r = mkdir_one(dir, detail)) < 0)
			return r;
		j->ncg_dirs++;
		if (i == 0) {
			snprintf(val, sizeof(val), "%" PRIu64, j->mem_max);
			r = write_file(dir, "memory.limit_in_bytes", val, detail);
			/* swap accounting may be off (no memsw files): not an error */
			if (r == 0)
				(void)write_file(dir, "memory.memsw.limit_in_bytes", val, detail);
		} else if (i == 1) {
			snprintf(val, sizeof(val), "%" PRIu64, j->pids_max);
			r = write_file(dir, "pids.max", val, detail);
		} else {
			snprintf(val, sizeof(val), "%" PRIu64, j->cpu_period_us);
			r = write_file(dir, "cpu.cfs_period_us", val, detail);
			snprintf(val, sizeof(val), "%" PRIu64, j->cpu_quota_us);
			if (r == 0)
				r = write_file(dir, "cpu.cfs_quota_us", val, detail);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int jail_cgroup_create(struct jail *j, char *detail)
{
	const char *root;
	int r;

	if (!j->cgroup)
		return 0;
	if ((r = check_name(j->cgroup, detail)) < 0)
		return r;
	root = v2_root();
	r = root ? create_v2(j, root, detail) : create_v1(j, detail);
	if (r < 0)
		jail_cgroup_remove(j);
	return r;
}

int jail_cgroup_join(struct jail *j, char *detail)
{
	for (size_t i = 0; i < j->ncg_dirs; i++) {
		int r = write_file(j->cg_dirs[i], "cgroup.procs", "0", detail);

		if (r < 0)
			return r;
	}
	return 0;
}

void jail_cgroup_remove(struct jail *j)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (size_t i = 0; i < j->ncg_dirs; i++) {
		for (int t = 0; t < CG_RMDIR_TRIES; t++) {
			if (rmdir(j->cg_dirs[i]) == 0 || errno == ENOENT)
				break;
			if (errno != EBUSY)
				break;
			nanosleep(&ts, NULL);
		}
	}
	j->ncg_dirs = 0;
}
