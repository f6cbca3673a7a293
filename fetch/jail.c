/*
 * jail: confines corral-fetch before it touches untrusted data (a remote's pack, a mirror's
 * objects, DNS answers). corrald runs as root, so as root it: unshares mount, pid, ipc and uts
 * namespaces (the network stays: it must reach git servers), forks (the child is pid 1 of the
 * new pid namespace; the parent waits as root and exits with the child's code, mapping a death
 * by signal to FETCH_EXIT_TIMEOUT/INTERNAL), makes / read-only recursively, covers /root, /home,
 * /run, /tmp, /var/tmp, /dev/shm, /var/lib/corral and every --hide dir with an empty tmpfs,
 * binds the cache dir back read-write (nosuid, nodev, noexec), mounts a fresh /proc, drops to
 * FETCH_UID/FETCH_GID with no supplementary groups and no capabilities, arms PDEATHSIG. Then,
 * root or not: rlimits, no_new_privs and the seccomp deny-list. It must not return to the caller
 * in the parent, and must not leave the child running if the parent dies.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fetch.h"
#include "util.h"

#define JAIL_AS_BYTES (1024ull * 1024u * 1024u)	/* RLIMIT_AS */
#define JAIL_NOFILE 256
#define JAIL_NPROC 256		/* per uid: every concurrent fetch shares FETCH_UID */
#define JAIL_FSIZE_DEFAULT (4ull * 1024u * 1024u * 1024u)
#define JAIL_CPU_DEFAULT_S 600

static bool jailed_ns;	/* namespaces entered (ran as root) */

static const char *const hidden[] = { "/root", "/home", "/run", "/tmp", "/var/tmp", "/dev/shm",
				      "/var/lib/corral" };

#if defined(__SANITIZE_ADDRESS__)
#define JAIL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JAIL_ASAN 1
#endif
#endif

static int set_rlimit(int res, uint64_t soft, uint64_t hard)
{
	struct rlimit rl = { (rlim_t)soft, (rlim_t)hard };

	return setrlimit(res, &rl) < 0 ? -errno : 0;
}

static int rlimits(const struct fetch_args *a, struct errmsg *reterr)
{
	uint64_t cpu = a->timeout_ms ? a->timeout_ms / 1000 + 5 : JAIL_CPU_DEFAULT_S;
	uint64_t fsize = a->cache_max ? a->cache_max : JAIL_FSIZE_DEFAULT;
	struct sigaction ign = { .sa_handler = SIG_IGN };
	int r = 0;

	if (fsize < 2 * a->max_bytes + (64u << 20))
		fsize = 2 * a->max_bytes + (64u << 20);	/* the export stream's framing */
	r = r ? r : set_rlimit(RLIMIT_CORE, 0, 0);
	r = r ? r : set_rlimit(RLIMIT_NOFILE, JAIL_NOFILE, JAIL_NOFILE);
	r = r ? r : set_rlimit(RLIMIT_NPROC, JAIL_NPROC, JAIL_NPROC);
	r = r ? r : set_rlimit(RLIMIT_CPU, cpu, cpu + 5);
	r = r ? r : set_rlimit(RLIMIT_FSIZE, fsize, fsize);
#ifndef JAIL_ASAN
	r = r ? r : set_rlimit(RLIMIT_AS, JAIL_AS_BYTES, JAIL_AS_BYTES);
#endif
	if (r)
		return errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: jail: setrlimit: %s",
				  errno_name(r));
	(void)sigaction(SIGXFSZ, &ign, NULL);	/* over RLIMIT_FSIZE: EFBIG, not a kill */
	return 0;
}

static int hide(const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=64k,mode=0755") < 0)
		return -errno;
	return 0;
}

static int mkdir_p(const char *path)
{
	char buf[FETCH_PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int mounts(const struct fetch_args *a, char *step)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID };
	struct mount_attr rw = { .attr_clr = MOUNT_ATTR_RDONLY,
				 .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					     MOUNT_ATTR_NOEXEC };
	int tree = -1, r = 0;

#define STEP(name, call)                                   \
	do {                                               \
		snprintf(step, 64, "%s", name);            \
		if ((call) < 0) {                          \
			r = -errno;                        \
			goto out;                          \
		}                                          \
	} while (0)

	STEP("make / private", mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	STEP("clone cache mount", tree = open_tree(AT_FDCWD, a->cache,
						  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		snprintf(step, 64, "hide %s", hidden[i]);
		r = hide(hidden[i]);
		if (r)
			goto out;
	}
	for (size_t i = 0; i < a->nhide; i++) {
		snprintf(step, 64, "hide --hide[%zu]", i);
		r = hide(a->hide[i]);
		if (r)
			goto out;
	}
	STEP("mount /proc", mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
	snprintf(step, 64, "mkdir cache mount point");
	r = mkdir_p(a->cache);
	if (r)
		goto out;
	STEP("bind cache", move_mount(tree, "", AT_FDCWD, a->cache, MOVE_MOUNT_F_EMPTY_PATH));
	STEP("remount / read-only", mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &ro, sizeof(ro)));
	STEP("cache read-write", mount_setattr(AT_FDCWD, a->cache, 0, &rw, sizeof(rw)));
#undef STEP
out:
	fd_close(tree);
	return r;
}

static int become_fetch_user(int death_fd, struct errmsg *reterr)
{
	struct pollfd pfd = { .fd = death_fd, .events = POLLIN };

	if (setgroups(0, NULL) < 0 || setresgid(FETCH_GID, FETCH_GID, FETCH_GID) < 0 ||
	    setresuid(FETCH_UID, FETCH_UID, FETCH_UID) < 0)
		return errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: jail: drop to uid %d: %s",
				  FETCH_UID, errno_name(errno));
	/* PDEATHSIG is cleared by the uid change: arm it now, then check the parent is alive. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: jail: pdeathsig: %s",
				  errno_name(errno));
	if (poll(&pfd, 1, 0) > 0)
		_exit(FETCH_EXIT_INTERNAL);
	return 0;
}

/* The parent: stays root outside the namespaces, only waits. */
__attribute__((noreturn)) static void wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			_exit(FETCH_EXIT_INTERNAL);
	}
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	if (WTERMSIG(status) == SIGXCPU || WTERMSIG(status) == SIGALRM) {
		fprintf(stderr, "repo: fetch helper over its CPU time limit\n");
		_exit(FETCH_EXIT_TIMEOUT);
	}
	fprintf(stderr, "repo: fetch helper killed by signal %d\n", WTERMSIG(status));
	_exit(FETCH_EXIT_INTERNAL);
}

static int enter_namespaces(const struct fetch_args *a, struct errmsg *reterr)
{
	char step[64] = "";
	int death[2];
	pid_t pid;
	int r;

	if (pipe2(death, O_CLOEXEC) < 0)
		return errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: jail: pipe: %s",
				  errno_name(errno));
	if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
		return errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: jail: unshare: %s",
				  errno_name(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: jail: fork: %s",
				  errno_name(errno));
	if (pid > 0) {
		fd_close(death[0]);
		wait_child(pid);	/* keeps death[1] open until it exits */
	}
	fd_close(death[1]);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: jail: pdeathsig: %s",
				  errno_name(errno));
	r = mounts(a, step);
	if (r)
		return errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: jail: %s: %s", step,
				  errno_name(r));
	(void)sethostname("corral-fetch", 12);
	if (chdir(a->cache) < 0)
		return errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: jail: chdir cache: %s",
				  errno_name(errno));
	r = become_fetch_user(death[0], reterr);
	fd_close(death[0]);
	jailed_ns = true;
	return r;
}

/* The cache dir exists and belongs to the fetch uid (mode 0700), before anything drops. */
static int prepare_cache(const struct fetch_args *a, struct errmsg *reterr)
{
	struct stat st;

	if (mkdir(a->cache, 0700) < 0 && errno != EEXIST)
		return errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: create cache dir: %s",
				  errno_name(errno));
	if (lstat(a->cache, &st) < 0 || !S_ISDIR(st.st_mode))
		return errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: cache is not a directory");
	if ((st.st_uid != FETCH_UID || st.st_gid != FETCH_GID) &&
	    lchown(a->cache, FETCH_UID, FETCH_GID) < 0)
		return errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: chown cache dir: %s",
				  errno_name(errno));
	return 0;
}

int fetch_jail(const struct fetch_args *a, struct errmsg *reterr)
{
	int r;

	if (geteuid() == 0) {
		r = prepare_cache(a, reterr);
		if (r)
			return r;
		r = enter_namespaces(a, reterr);
		if (r)
			return r;
	}
	r = rlimits(a, reterr);
	if (r)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: jail: no_new_privs: %s",
				  errno_name(errno));
	return fetch_seccomp(reterr);
}

/* Each probe that succeeds is a hole: reported on stderr, counted. */
static int hole(const char *what)
{
	fprintf(stderr, "selftest: HOLE: %s\n", what);
	return 1;
}

int fetch_selftest(const struct fetch_args *a, struct errmsg *reterr)
{
	char path[FETCH_PATH_MAX];
	int holes = 0, fd;

	for (size_t i = 0; i < a->nprobe; i++) {
		fd = open(a->probe[i], O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			fd_close(fd);
			snprintf(path, sizeof(path), "read %s", a->probe[i]);
			holes += hole(path);
		}
	}
	if (geteuid() == 0 || getegid() == 0)
		holes += hole("still root");
	if (access("/etc/corral-fetch-selftest", F_OK) < 0 &&
	    (fd = open("/etc/corral-fetch-selftest", O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0) {
		fd_close(fd);
		holes += hole("wrote under /etc");
	}
	snprintf(path, sizeof(path), "%s/.selftest", a->cache);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		holes += hole("cannot write the cache dir");
	fd_close(fd);
	(void)unlink(path);
	if (ptrace(PTRACE_TRACEME, 0, 0, 0) == 0)
		holes += hole("ptrace allowed");
	if (unshare(CLONE_NEWUSER) == 0)
		holes += hole("unshare(CLONE_NEWUSER) allowed");
	if (mount("none", "/tmp", "tmpfs", 0, NULL) == 0)
		holes += hole("mount allowed");
	if (syscall(SYS_bpf, 0, NULL, 0) >= 0 || errno != EPERM)
		holes += hole("bpf not EPERM");
	if (syscall(SYS_keyctl, 0, 0, 0, 0, 0) >= 0 || errno != EPERM)
		holes += hole("keyctl not EPERM");
	if (jailed_ns && getpid() != 1)
		holes += hole("not in a new pid namespace");
	if (holes)
		return errmsg_set(reterr, FETCH_EXIT_HOSTILE, "repo: selftest: %d holes", holes);
	return 0;
}
