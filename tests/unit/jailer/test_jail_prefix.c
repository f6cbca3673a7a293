/*
 * test_jail_prefix: vm/host/jail.c, the corral-jail command line of one VM. Every file QEMU's argv
 * names must be bound (and nothing writable but the VM's own dir), limits and ids must be in
 * range, relative paths and over-long prefixes must be refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jail.h"

static const char *after(char **v, const char *flag, const char *val)
{
	for (size_t i = 0; v[i] && v[i + 1]; i++)
		if (strcmp(v[i], flag) == 0 && (!val || strcmp(v[i + 1], val) == 0))
			return v[i + 1];
	return NULL;
}

static struct vm_paths paths;
static struct qemu_argv_cfg cfg;

static int setup(void **state)
{
	memset(&paths, 0, sizeof(paths));
	strcpy(paths.dir, "/r/vm-77-3");
	cfg = (struct qemu_argv_cfg){ .qemu = "/usr/bin/qemu-system-x86_64", .accel = "tcg",
				      .mem_mib = 256, .vcpus = 1, .kernel = "/img/vmlinux",
				      .initrd = "/img/initramfs.cpio.gz", .rootfs = "/img/base.ext4",
				      .paths = &paths };
	return 0;
}

static void binds_every_file(void **state)
{
	struct jail_cfg j = { .jail = "/b/corral-jail", .pid = 77, .vm_n = 3 };
	char **v = NULL;
	size_t n = 0, rw = 0;

	assert_int_equal(jail_prefix_build(&j, &cfg, &v, NULL), 0);
	assert_string_equal(v[0], "/b/corral-jail");
	while (v[n])
		n++;
	assert_string_equal(v[n - 1], "--");
	assert_non_null(after(v, "--bind-ro", "/usr"));
	assert_non_null(after(v, "--bind-ro", "/img/vmlinux"));
	assert_non_null(after(v, "--bind-ro", "/img/initramfs.cpio.gz"));
	assert_non_null(after(v, "--bind-ro", "/img/base.ext4"));
	assert_non_null(after(v, "--bind-rw", "/r/vm-77-3"));
	assert_non_null(after(v, "--chown", "/r/vm-77-3"));
	assert_non_null(after(v, "--bind-dev", "/dev/null"));
	for (size_t i = 0; v[i]; i++)
		rw += strcmp(v[i], "--bind-rw") == 0;
	assert_int_equal(rw, 1);	/* only the VM's own dir is writable */
	assert_string_equal(after(v, "--cgroup", NULL), "vm-77-3");
	assert_string_equal(after(v, "--uid", NULL), after(v, "--gid", NULL));
	assert_true(strtoul(after(v, "--uid", NULL), NULL, 10) >= JAIL_UID_BASE);
	assert_true(strtoul(after(v, "--uid", NULL), NULL, 10) < JAIL_UID_BASE + JAIL_UID_RANGE);
	assert_string_equal(after(v, "--mem-max", NULL), "603979776");	/* (256 + 320) MiB */
	assert_null(after(v, "--keep-fd3", NULL));
	jail_prefix_free(v);
}

/* A clone's RAM: the sealed memfd is passed (--mem-fd 4), never the template's RAM file bound
 * read-write; without a memfd (unjailed callers) the file would be the second writable bind. */
static void clone_ram_is_memfd(void **state)
{
	struct jail_cfg j = { .jail = "/b/corral-jail", .pid = 77, .vm_n = 3, .keep_fd3 = true };
	char **v = NULL;
	size_t rw = 0;

	cfg.mem_path = "/snap/t-1/mem";
	cfg.incoming_defer = true;
	cfg.mem_fd = true;
	assert_int_equal(jail_prefix_build(&j, &cfg, &v, NULL), 0);
	assert_string_equal(after(v, "--mem-fd", NULL), "4");
	assert_non_null(after(v, "--keep-fd3", NULL));
	assert_null(after(v, "--bind-rw", "/snap/t-1/mem"));
	assert_null(after(v, "--bind-ro", "/snap/t-1/mem"));
	for (size_t i = 0; v[i]; i++)
		rw += strcmp(v[i], "--bind-rw") == 0;
	assert_int_equal(rw, 1);
	v = jail_prefix_free(v);

	cfg.mem_fd = false;
	assert_int_equal(jail_prefix_build(&j, &cfg, &v, NULL), 0);
	assert_null(after(v, "--mem-fd", NULL));
	assert_non_null(after(v, "--bind-rw", "/snap/t-1/mem"));
	jail_prefix_free(v);
}

static void distinct_uids(void **state)
{
	assert_int_not_equal(jail_uid(100, 1), jail_uid(100, 2));
	assert_int_not_equal(jail_uid(100, 1), jail_uid(101, 1));
}

static void refuses_relative_paths(void **state)
{
	struct jail_cfg j = { .jail = "/b/corral-jail", .pid = 1, .vm_n = 1 };
	struct errmsg e = { "" };
	char **v = NULL;

	cfg.kernel = "images/vmlinux";
	assert_int_equal(jail_prefix_build(&j, &cfg, &v, &e), -EINVAL);
	assert_null(v);
	assert_non_null(strstr(e.msg, "images/vmlinux"));
	cfg.kernel = "/img/vm:linux";	/* ':' would split SRC:DST */
	assert_int_equal(jail_prefix_build(&j, &cfg, &v, &e), -EINVAL);
}

static void refuses_overlong_prefix(void **state)
{
	const char *outer[QEMU_PREFIX_MAX + 1];
	struct jail_cfg j = { .jail = "/b/corral-jail", .outer = outer, .pid = 1, .vm_n = 1 };
	char **v = NULL;

	for (size_t i = 0; i < QEMU_PREFIX_MAX; i++)
		outer[i] = "/usr/bin/env";
	outer[QEMU_PREFIX_MAX] = NULL;
	assert_int_equal(jail_prefix_build(&j, &cfg, &v, NULL), -E2BIG);
	assert_null(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(binds_every_file, setup),
		cmocka_unit_test_setup(clone_ram_is_memfd, setup),
		cmocka_unit_test_setup(distinct_uids, setup),
		cmocka_unit_test_setup(refuses_relative_paths, setup),
		cmocka_unit_test_setup(refuses_overlong_prefix, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
