/*
 * Unit tests of qemu_argv: the exact QEMU command line, option escaping, limits, and the per-VM
 * paths with the unix socket length rule. Pure: no QEMU is run.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qemu_argv.h"

static struct vm_paths paths;

static struct qemu_argv_cfg base_cfg(void)
{
	struct errmsg em;

	assert_int_equal(vm_paths_make(&paths, "/run/corral", 4121, 7, &em), 0);
	return (struct qemu_argv_cfg){
		.qemu = "/usr/bin/qemu-system-x86_64",
		.accel = "tcg",
		.tb_mib = 128,
		.mem_mib = 256,
		.vcpus = 1,
		.kernel = "/img/vmlinux",
		.initrd = "/img/initramfs.cpio.gz",
		.rootfs = "/img/base.ext4",
		.sandbox = true,
		.paths = &paths,
	};
}

/* Index of item s in a, or -1. */
static int find(const struct qemu_argv *a, const char *s)
{
	for (size_t i = 0; i < a->argc; i++)
		if (strcmp(a->argv[i], s) == 0)
			return (int)i;
	return -1;
}

/* The value following option opt. */
static const char *opt_value(const struct qemu_argv *a, const char *opt)
{
	int i = find(a, opt);

	assert_true(i >= 0 && (size_t)i + 1 < a->argc);
	return a->argv[i + 1];
}

static void test_paths(void **state)
{
	struct errmsg em = { "" };
	struct vm_paths p;

	assert_int_equal(vm_paths_make(&p, "/work/run", 77, 3, &em), 0);
	assert_string_equal(p.dir, "/work/run/vm-77-3");
	assert_string_equal(p.agent_sock, "/work/run/vm-77-3/agent.sock");
	assert_string_equal(p.qmp_sock, "/work/run/vm-77-3/qmp.sock");
	assert_string_equal(p.console_log, "/work/run/vm-77-3/console.log");
	assert_string_equal(p.qemu_log, "/work/run/vm-77-3/qemu.log");
}

static void test_paths_socket_limit(void **state)
{
	struct errmsg em = { "" };
	struct vm_paths p;
	char dir[200];
	/* "/vm-1-1/agent.sock" is 18 bytes: a run dir of 89 bytes gives exactly 107. */
	size_t fixed = strlen("/vm-1-1/agent.sock");

	memset(dir, 'd', sizeof(dir));
	dir[0] = '/';
	dir[VM_SOCK_PATH_MAX - fixed] = '\0';
	assert_int_equal(vm_paths_make(&p, dir, 1, 1, &em), 0);
	assert_int_equal(strlen(p.agent_sock), VM_SOCK_PATH_MAX);

	memset(dir, 'd', sizeof(dir));
	dir[0] = '/';
	dir[VM_SOCK_PATH_MAX - fixed + 1] = '\0';
	assert_int_equal(vm_paths_make(&p, dir, 1, 1, &em), -ENAMETOOLONG);
	assert_non_null(strstr(em.msg, "agent.sock"));
	assert_non_null(strstr(em.msg, "107"));
}

static void test_full_argv(void **state)
{
	static const char *const want[] = {
		"/usr/bin/qemu-system-x86_64",
		"-M", "microvm,x-option-roms=off,rtc=on",
		"-accel", "tcg,tb-size=128",
		"-cpu", "max",
		"-m", "256",
		"-smp", "1",
		"-nodefaults", "-no-user-config",
		"-display", "none",
		"-no-reboot",
		"-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
		"-kernel", "/img/vmlinux",
		"-initrd", "/img/initramfs.cpio.gz",
		"-append", "console=ttyS0 quiet panic=-1 reboot=t cryptomgr.notests",
		"-drive", "id=root,file=/img/base.ext4,format=raw,if=none,readonly=on",
		"-device", "virtio-blk-device,drive=root",
		"-chardev", "file,id=console,path=/run/corral/vm-4121-7/console.log",
		"-serial", "chardev:console",
		"-device", "virtio-serial-device",
		"-chardev", "socket,id=agent,path=/run/corral/vm-4121-7/agent.sock,server=on,wait=off",
		"-device", "virtserialport,chardev=agent,name=corral.agent",
		"-chardev", "socket,id=qmp,path=/run/corral/vm-4121-7/qmp.sock,server=on,wait=off",
		"-mon", "chardev=qmp,mode=control",
	};
	struct qemu_argv_cfg c = base_cfg();
	struct qemu_argv a = { 0 };
	struct errmsg em = { "" };

	assert_int_equal(qemu_argv_build(&c, &a, &em), 0);
	assert_int_equal(a.argc, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < a.argc; i++)
		assert_string_equal(a.argv[i], want[i]);
	assert_null(a.argv[a.argc]);
	qemu_argv_free(&a);
	assert_null(a.argv);
}

static void test_kvm_and_options(void **state)
{
	struct qemu_argv_cfg c = base_cfg();
	struct qemu_argv a = { 0 };
	struct errmsg em = { "" };

	c.accel = "kvm";
	c.mem_mib = 512;
	c.vcpus = 2;
	c.sandbox = false;
	c.append_extra = "loglevel=7 rdinit=/init";
	assert_int_equal(qemu_argv_build(&c, &a, &em), 0);
	assert_string_equal(opt_value(&a, "-accel"), "kvm");
	assert_string_equal(opt_value(&a, "-m"), "512");
	assert_string_equal(opt_value(&a, "-smp"), "2");
	assert_int_equal(find(&a, "-sandbox"), -1);
	assert_string_equal(opt_value(&a, "-append"),
			    "console=ttyS0 quiet panic=-1 reboot=t cryptomgr.notests loglevel=7 rdinit=/init");
	qemu_argv_free(&a);

	c = base_cfg();
	c.tsc_khz = 2299919;
	c.append_extra = "loglevel=7";
	assert_int_equal(qemu_argv_build(&c, &a, &em), 0);
	assert_string_equal(opt_value(&a, "-append"),
			    "console=ttyS0 quiet panic=-1 reboot=t cryptomgr.notests tsc_early_khz=2299919 loglevel=7");
	qemu_argv_free(&a);

	c = base_cfg();
	c.tb_mib = 0;
	assert_int_equal(qemu_argv_build(&c, &a, &em), 0);
	assert_string_equal(opt_value(&a, "-accel"), "tcg");
	qemu_argv_free(&a);
}

static void test_comma_escaping(void **state)
{
	struct qemu_argv_cfg c = base_cfg();
	struct qemu_argv a = { 0 };
	struct errmsg em = { "" };
	struct vm_paths p;

	assert_int_equal(vm_paths_make(&p, "/r,un", 1, 2, &em), 0);
	c.paths = &p;
	c.rootfs = "/img,x/base.ext4";
	assert_int_equal(qemu_argv_build(&c, &a, &em), 0);
	assert_int_not_equal(find(&a, "id=root,file=/img,,x/base.ext4,format=raw,if=none,readonly=on"),
			     -1);
	assert_int_not_equal(find(&a, "socket,id=agent,path=/r,,un/vm-1-2/agent.sock,server=on,"
				      "wait=off"), -1);
	assert_int_not_equal(find(&a, "socket,id=qmp,path=/r,,un/vm-1-2/qmp.sock,server=on,"
				      "wait=off"), -1);
	assert_int_not_equal(find(&a, "file,id=console,path=/r,,un/vm-1-2/console.log"), -1);
	qemu_argv_free(&a);
}

static void test_prefix(void **state)
{
	static const char *const jail[] = { "/usr/bin/corral-jail", "--uid", "1234", "--", NULL };
	const char *many[QEMU_PREFIX_MAX + 2];
	struct qemu_argv_cfg c = base_cfg();
	struct qemu_argv a = { 0 };
	struct errmsg em = { "" };

	c.prefix = jail;
	assert_int_equal(qemu_argv_build(&c, &a, &em), 0);
	assert_string_equal(a.argv[0], "/usr/bin/corral-jail");
	assert_string_equal(a.argv[3], "--");
	assert_string_equal(a.argv[4], "/usr/bin/qemu-system-x86_64");
	qemu_argv_free(&a);

	for (size_t i = 0; i < QEMU_PREFIX_MAX + 1; i++)
		many[i] = "x";
	many[QEMU_PREFIX_MAX + 1] = NULL;
	c.prefix = many;
	assert_int_equal(qemu_argv_build(&c, &a, &em), -E2BIG);
	assert_null(a.argv);
}

static void test_refusals(void **state)
{
	struct qemu_argv_cfg c;
	struct qemu_argv a = { 0 };
	struct errmsg em = { "" };
	char long_append[QEMU_CMDLINE_MAX + 10];

	c = base_cfg();
	c.accel = "hvf";
	assert_int_equal(qemu_argv_build(&c, &a, &em), -EINVAL);
	assert_non_null(strstr(em.msg, "accel"));
	c = base_cfg();
	c.accel = NULL;
	assert_int_equal(qemu_argv_build(&c, &a, &em), -EINVAL);
	c = base_cfg();
	c.mem_mib = 16;
	assert_int_equal(qemu_argv_build(&c, &a, &em), -EINVAL);
	assert_non_null(strstr(em.msg, "mem_mib"));
	c = base_cfg();
	c.mem_mib = QEMU_MEM_MIB_MAX + 1;
	assert_int_equal(qemu_argv_build(&c, &a, &em), -EINVAL);
	c = base_cfg();
	c.vcpus = 0;
	assert_int_equal(qemu_argv_build(&c, &a, &em), -EINVAL);
	c = base_cfg();
	c.vcpus = QEMU_VCPUS_MAX + 1;
	assert_int_equal(qemu_argv_build(&c, &a, &em), -EINVAL);
	c = base_cfg();
	c.kernel = NULL;
	assert_int_equal(qemu_argv_build(&c, &a, &em), -EINVAL);
	c = base_cfg();
	c.append_extra = "init=/x\nevil";
	assert_int_equal(qemu_argv_build(&c, &a, &em), -EINVAL);
	assert_non_null(strstr(em.msg, "control byte"));
	memset(long_append, 'a', sizeof(long_append) - 1);
	long_append[sizeof(long_append) - 1] = '\0';
	c = base_cfg();
	c.append_extra = long_append;
	assert_int_equal(qemu_argv_build(&c, &a, &em), -E2BIG);
	assert_null(a.argv);
}

/* Templates and clones: guest RAM in a file (share on for the template, off for clones, commas
 * escaped), -incoming defer only for clones; plain VMs have neither. */
static void test_template_clone(void **state)
{
	struct qemu_argv_cfg c = base_cfg();
	struct qemu_argv a = { 0 };
	struct errmsg em = { "" };

	assert_int_equal(qemu_argv_build(&c, &a, &em), 0);
	assert_int_equal(find(&a, "-object"), -1);
	assert_int_equal(find(&a, "-incoming"), -1);
	qemu_argv_free(&a);

	c.mem_path = "/snap/t,1/mem";
	c.mem_share = true;
	assert_int_equal(qemu_argv_build(&c, &a, &em), 0);
	assert_string_equal(opt_value(&a, "-object"),
			    "memory-backend-file,id=mem,size=256M,mem-path=/snap/t,,1/mem,share=on");
	assert_string_equal(opt_value(&a, "-machine"), "memory-backend=mem");
	assert_int_equal(find(&a, "-incoming"), -1);
	qemu_argv_free(&a);

	c.mem_share = false;
	c.incoming_defer = true;
	assert_int_equal(qemu_argv_build(&c, &a, &em), 0);
	assert_string_equal(opt_value(&a, "-object"),
			    "memory-backend-file,id=mem,size=256M,mem-path=/snap/t,,1/mem,share=off");
	assert_string_equal(opt_value(&a, "-incoming"), "defer");
	qemu_argv_free(&a);

	/* A jailed clone: the RAM is the sealed memfd at fd 4, reopened through /proc. */
	c.mem_fd = true;
	assert_int_equal(qemu_argv_build(&c, &a, &em), 0);
	assert_string_equal(opt_value(&a, "-object"),
			    "memory-backend-file,id=mem,size=256M,mem-path=/proc/self/fd/4,share=off");
	qemu_argv_free(&a);
}

static void test_join(void **state)
{
	struct qemu_argv_cfg c = base_cfg();
	struct qemu_argv a = { 0 };
	struct errmsg em = { "" };
	char line[4096], tiny[12];

	assert_int_equal(qemu_argv_build(&c, &a, &em), 0);
	qemu_argv_join(&a, line, sizeof(line));
	assert_true(strncmp(line, "/usr/bin/qemu-system-x86_64 -M microvm", 38) == 0);
	qemu_argv_join(&a, tiny, sizeof(tiny));
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	qemu_argv_free(&a);
	qemu_argv_free(&a);	/* idempotent */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),	    cmocka_unit_test(test_paths_socket_limit),
		cmocka_unit_test(test_full_argv),   cmocka_unit_test(test_kvm_and_options),
		cmocka_unit_test(test_comma_escaping), cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_refusals),    cmocka_unit_test(test_join),
		cmocka_unit_test(test_template_clone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
