/*
 * corral-vm: boots a microVM, runs one command in it, streams its stdout/stderr live and exits
 * with its exit code. A debugging tool and the VM half of the benchmarks; it uses only vm.h.
 *
 *   corral-vm [--images DIR] [--run-dir DIR] [--accel auto|kvm|tcg] [--count N] [--mem MIB]
 *             [--cpus N] [--boot-timeout MS] [--boot-attempts N] [--append STR] [--cwd DIR]
 *             [--env K=V]... [--qemu PATH] [--template NAME [--warmup SHELLCMD] [--pool N]]
 *             [--mem-max MIB] [--pids-max N] [--disk-max MIB] -- CMD [ARG]...
 *
 * --mem-max/--pids-max/--disk-max: the exec's limits inside the guest (vm_exec_req); the run line
 * then says which one was hit (limit=memory|pids|disk|none).
 *
 * --template: each run is a clone of the template NAME (built first if needed, warm-up run in it
 * before the save) instead of a cold boot; boot_ms is then the clone's restore time.
 * --pool N: keeps N warm clones (warm-up run in each); once N are ready it prints
 * ev=pool.idle n=N pss_kib=... (QEMU's Pss per idle clone from /proc/PID/smaps_rollup), then
 * each run takes a VM from the pool (boot_ms = wait for one).
 *
 * Each run (--count N boots N VMs one after the other) ends with a logfmt line on stderr:
 * ev=vm.run n=1 accel=tcg boot_ms=1402 attempts=1 exec_ms=230 exit=3 signal=0 limit=none
 * and with N > 1 a summary (ev=vm.summary: boot_ms min/median/max, retries). Exit status: the last
 * command's (128+N when killed by signal N); 125 when the VM fails; 126/127 when the command
 * cannot be started (127: not found). The first SIGINT/SIGTERM is forwarded to the command's
 * process group in the guest (vm_signal); a second one destroys the VM and exits 128+N.
 */
#define LOG_MOD "corral-vm"
#include <errno.h>
#include <ev.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "vm.h"

#define TOOL_COUNT_MAX 10000u
#define TOOL_ENV_MAX 256

struct tool {
	struct ev_loop *loop;
	struct vm_runtime *rt;
	struct vm *vm;
	struct vm_exec_req req;
	unsigned count, run;
	uint64_t t_exec_ms;
	uint32_t exec_id;	/* 0: no command running */
	bool signalled;
	const char *tpl_name;
	char *warmup[4];
	unsigned pool_n;
	struct vm_template *tpl;
	struct vm_pool *pool;
	int tpl_err;
	bool tpl_done, pool_filled;
	uint64_t t_acquire_ms;
	ev_timer wait;
	uint64_t *boot_ms, *exec_ms;
	unsigned attempts_total;
	int rc;
	bool done;
};

static int start_next(struct tool *t);

static void finish(struct tool *t, int rc)
{
	t->vm = vm_destroy(t->vm);
	t->rc = rc;
	t->done = true;
	ev_break(t->loop, EVBREAK_ALL);
}

static void on_ready(struct vm *vm, void *ud)
{
	struct tool *t = ud;
	struct errmsg em = { "" };
	uint32_t id;
	int r;

	if (!t->pool) {
		t->boot_ms[t->run - 1] = vm_boot_ms(vm);
		t->attempts_total += vm_boot_attempts(vm);
	}
	t->t_exec_ms = time_mono_ms();
	r = vm_exec(vm, &t->req, &id, &em);
	if (r >= 0)
		t->exec_id = id;
	if (r < 0) {
		log_error("tool.exec_failed", "err=%s msg=\"%s\"", errno_name(r), em.msg);
		finish(t, 125);
	}
}

static void on_output(struct vm *vm, uint32_t id, int fd, const uint8_t *data, size_t len,
		      void *ud)
{
	(void)fd_write_all(fd == 2 ? STDERR_FILENO : STDOUT_FILENO, data, len);
}

static void on_exited(struct vm *vm, uint32_t id, int exit_code, int sig, void *ud)
{
	struct tool *t = ud;
	uint64_t exec_ms = time_mono_ms() - t->t_exec_ms;
	int rc = sig > 0 ? 128 + sig : exit_code;

	t->exec_ms[t->run - 1] = exec_ms;
	t->exec_id = 0;
	log_info("vm.run", "n=%u accel=%s boot_ms=%llu attempts=%u exec_ms=%llu exit=%d signal=%d "
		 "limit=%s", t->run, vm_runtime_accel(t->rt), (unsigned long long)vm_boot_ms(vm),
		 vm_boot_attempts(vm), (unsigned long long)exec_ms, exit_code, sig,
		 vm_exit_limit(vm)[0] ? vm_exit_limit(vm) : "none");
	t->vm = vm_destroy(t->vm);
	t->rc = rc;
	if (t->run >= t->count || start_next(t) < 0) {
		t->done = true;
		ev_break(t->loop, EVBREAK_ALL);
	}
}

static void on_exec_failed(struct vm *vm, uint32_t id, int err, const char *msg, void *ud)
{
	struct tool *t = ud;

	log_error("tool.cannot_run", "cmd=\"%s\" err=%s msg=\"%s\"", t->req.argv[0],
		  errno_name(err), msg);
	finish(t, err == ENOENT || err == -ENOENT ? 127 : 126);
}

static void on_failed(struct vm *vm, int err, const char *why, void *ud)
{
	struct tool *t = ud;

	fprintf(stderr, "corral-vm: vm failed: %s: %s\n", errno_name(err), why);
	finish(t, 125);
}

static const struct vm_events tool_events = {
	.ready = on_ready,
	.output = on_output,
	.exited = on_exited,
	.exec_failed = on_exec_failed,
	.failed = on_failed,
};

static uint64_t pss_kib(int pid)
{
	char path[64], line[256];
	unsigned long long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pss: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void pool_wait_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct tool *t = w->data;
	struct vm_pool_stats st;
	struct errmsg em = { "" };
	int r;

	if (!t->pool_filled) {
		int pids[VM_POOL_MAX];
		uint64_t sum = 0, kib[VM_POOL_MAX];
		size_t n;
		char each[1024] = "";
		size_t o = 0;

		vm_pool_get_stats(t->pool, &st);
		if (st.ready < t->pool_n)
			return;
		n = vm_pool_ready_pids(t->pool, pids, VM_POOL_MAX);
		for (size_t i = 0; i < n; i++) {
			kib[i] = pss_kib(pids[i]);
			sum += kib[i];
			if (o < sizeof(each) - 16)
				o += (size_t)snprintf(each + o, sizeof(each) - o, "%s%llu", i ? "," : "",
						      (unsigned long long)kib[i]);
		}
		log_info("pool.idle", "n=%zu pss_kib_mean=%llu pss_kib=%s clones=%llu boots=%llu "
			 "clone_ms_mean=%llu fallbacks=%llu", n,
			 (unsigned long long)(n ? sum / n : 0), each,
			 (unsigned long long)st.clones, (unsigned long long)st.boots,
			 (unsigned long long)(st.clones ? st.clone_ms_sum / st.clones : 0),
			 (unsigned long long)st.clone_fallbacks);
		t->pool_filled = true;
	}
	r = vm_pool_acquire(t->pool, &tool_events, t, &t->vm);
	if (r == -EAGAIN)
		return;
	ev_timer_stop(loop, w);
	if (r < 0) {
		fprintf(stderr, "corral-vm: pool: %s %s\n", errno_name(r), em.msg);
		finish(t, 125);
		return;
	}
	t->boot_ms[t->run - 1] = time_mono_ms() - t->t_acquire_ms;
	on_ready(t->vm, t);
}

static int start_next(struct tool *t)
{
	struct errmsg em = { "" };
	int r;

	t->run++;
	if (t->pool) {
		t->t_acquire_ms = time_mono_ms();
		ev_timer_set(&t->wait, 0., 0.002);
		ev_timer_start(t->loop, &t->wait);
		return 0;
	}
	if (t->tpl)
		r = vm_clone(t->tpl, &tool_events, t, &t->vm, &em);
	else
		r = vm_start(t->rt, &tool_events, t, &t->vm, &em);
	if (r < 0) {
		fprintf(stderr, "corral-vm: vm_start: %s: %s\n", errno_name(r), em.msg);
		t->rc = 125;
	}
	return r;
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct tool *t = w->data;

	/* The first SIGINT/SIGTERM goes to the command (its exit ends the run), the next one
	 * ends the tool. */
	if (t->vm && t->exec_id && !t->signalled &&
	    vm_signal(t->vm, t->exec_id, w->signum) == 0) {
		t->signalled = true;
		log_info("tool.signal_forwarded", "signal=%d exec=%u", w->signum, t->exec_id);
		return;
	}
	log_warn("tool.interrupted", "signal=%d", w->signum);
	finish(t, 128 + w->signum);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void summary(struct tool *t)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->run; i++)
		if (t->boot_ms[i])
			t->boot_ms[n++] = t->boot_ms[i];
	if (n < 2)
		return;
	qsort(t->boot_ms, n, sizeof(uint64_t), cmp_u64);
	if (t->pool) {
		/* boot_ms is the wait for a pooled VM, 0 (left out) when one was ready at once. */
		log_info("vm.summary", "count=%u waited=%u wait_ms_min=%llu wait_ms_median=%llu "
			 "wait_ms_max=%llu accel=%s", t->count, n,
			 (unsigned long long)t->boot_ms[0], (unsigned long long)t->boot_ms[n / 2],
			 (unsigned long long)t->boot_ms[n - 1], vm_runtime_accel(t->rt));
		return;
	}
	log_info("vm.summary", "count=%u booted=%u boot_ms_min=%llu boot_ms_median=%llu "
		 "boot_ms_max=%llu retries=%u accel=%s", t->count, n,
		 (unsigned long long)t->boot_ms[0], (unsigned long long)t->boot_ms[n / 2],
		 (unsigned long long)t->boot_ms[n - 1], t->attempts_total - n,
		 vm_runtime_accel(t->rt));
}

static void tool_tpl_done(struct vm_template *tpl, int err, void *ud)
{
	struct tool *t = ud;

	t->tpl_err = err;
	t->tpl_done = true;
	ev_break(t->loop, EVBREAK_ALL);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: corral-vm [--images DIR] [--run-dir DIR] [--accel auto|kvm|tcg] [--count N]\n"
		"                 [--mem MIB] [--cpus N] [--boot-timeout MS] [--boot-attempts N]\n"
		"                 [--append STR] [--cwd DIR] [--env K=V]... [--qemu PATH]\n"
		"                 [--template NAME [--warmup SHELLCMD] [--pool N]]\n"
		"                 [--mem-max MIB] [--pids-max N] [--disk-max MIB]\n"
		"                 -- CMD [ARG]...\n");
	exit(2);
}

static unsigned parse_uint(const char *s, unsigned max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max) {
		fprintf(stderr, "corral-vm: bad number '%s' (max %u)\n", s, max);
		exit(2);
	}
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "images", 1, NULL, 'i' },	   { "run-dir", 1, NULL, 'r' },
		{ "accel", 1, NULL, 'a' },	   { "count", 1, NULL, 'n' },
		{ "mem", 1, NULL, 'm' },	   { "cpus", 1, NULL, 'c' },
		{ "boot-timeout", 1, NULL, 't' }, { "boot-attempts", 1, NULL, 'b' },
		{ "append", 1, NULL, 'A' },	   { "cwd", 1, NULL, 'C' },
		{ "env", 1, NULL, 'e' },	   { "qemu", 1, NULL, 'q' },
		{ "jail", 1, NULL, 'J' },	/* corral-jail path: run QEMU jailed (root) */
		{ "template", 1, NULL, 'T' },	   { "warmup", 1, NULL, 'W' },
		{ "pool", 1, NULL, 'P' },
		{ "mem-max", 1, NULL, 'M' },	   { "pids-max", 1, NULL, 'N' },
		{ "disk-max", 1, NULL, 'D' },
		{ "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char *env[TOOL_ENV_MAX + 1];
	struct vm_config cfg = { 0 };
	struct tool t = { .count = 1, .rc = 125 };
	struct errmsg em = { "" };
	ev_signal sigint, sigterm;
	size_t nenv = 0;
	int c;

	log_init("corral-vm");
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'i': cfg.images_dir = optarg; break;
		case 'r': cfg.run_dir = optarg; break;
		case 'a': cfg.accel = optarg; break;
		case 'n': t.count = parse_uint(optarg, TOOL_COUNT_MAX); break;
		case 'm': cfg.mem_mib = parse_uint(optarg, 65536); break;
		case 'c': cfg.vcpus = parse_uint(optarg, 64); break;
		case 't': cfg.boot_timeout_ms = parse_uint(optarg, 3600000); break;
		case 'b': cfg.boot_attempts = parse_uint(optarg, 20); break;
		case 'A': cfg.append_extra = optarg; break;
		case 'C': t.req.cwd = optarg; break;
		case 'q': cfg.qemu_path = optarg; break;
		case 'J': cfg.jail = optarg; break;
		case 'T': t.tpl_name = optarg; break;
		case 'W':
			t.warmup[0] = "/bin/sh";
			t.warmup[1] = "-c";
			t.warmup[2] = optarg;
			break;
		case 'P': t.pool_n = parse_uint(optarg, 64); break;
		case 'M': t.req.mem_max = (uint64_t)parse_uint(optarg, 65536) << 20; break;
		case 'N': t.req.pids_max = parse_uint(optarg, 4194304); break;
		case 'D': t.req.disk_max = (uint64_t)parse_uint(optarg, 65536) << 20; break;
		case 'e':
			if (nenv >= TOOL_ENV_MAX || !strchr(optarg, '='))
				usage();
			env[nenv++] = optarg;
			break;
		default: usage();
		}
	}
	if (optind >= argc || t.count == 0)
		usage();
	t.req.argv = argv + optind;
	t.req.env = nenv ? env : NULL;
	t.req.uid = VM_USER_UID;
	t.req.gid = VM_USER_GID;
	t.boot_ms = calloc(t.count, sizeof(uint64_t));
	t.exec_ms = calloc(t.count, sizeof(uint64_t));
	if (!t.boot_ms || !t.exec_ms)
		return 125;
	signal(SIGPIPE, SIG_IGN);
	t.loop = ev_default_loop(0);
	if (vm_runtime_new(t.loop, &cfg, &t.rt, &em) < 0) {
		fprintf(stderr, "corral-vm: %s\n", em.msg);
		return 125;
	}
	ev_signal_init(&sigint, on_signal, SIGINT);
	ev_signal_init(&sigterm, on_signal, SIGTERM);
	sigint.data = sigterm.data = &t;
	ev_signal_start(t.loop, &sigint);
	ev_signal_start(t.loop, &sigterm);
	ev_timer_init(&t.wait, pool_wait_cb, 0., 0.002);
	t.wait.data = &t;
	if (t.pool_n) {
		struct vm_pool_cfg pc = { .tpl = { .name = t.tpl_name ? t.tpl_name : "bench",
						   .warmup = (const char *const *)t.warmup },
					  .min = t.pool_n, .max = t.pool_n, .inflight = 2 };

		if (vm_pool_new(t.rt, &pc, &t.pool, &em) < 0) {
			fprintf(stderr, "corral-vm: pool: %s\n", em.msg);
			return 125;
		}
	} else if (t.tpl_name) {
		struct vm_template_cfg tc = { .name = t.tpl_name,
					      .warmup = (const char *const *)t.warmup };

		if (vm_template_new(t.rt, &tc, tool_tpl_done, &t, &t.tpl, &em) < 0) {
			fprintf(stderr, "corral-vm: template: %s\n", em.msg);
			return 125;
		}
		ev_run(t.loop, 0);
		if (t.tpl_err < 0) {
			fprintf(stderr, "corral-vm: template failed: %s\n", errno_name(t.tpl_err));
			return 125;
		}
	}
	if (start_next(&t) == 0)
		ev_run(t.loop, 0);
	ev_timer_stop(t.loop, &t.wait);
	t.pool = vm_pool_free(t.pool);
	t.tpl = vm_template_free(t.tpl);
	t.vm = vm_destroy(t.vm);
	/* libev reaps killed QEMUs on its next iteration, which will not come: reap them here so
	 * that no zombie outlives the tool. */
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	if (t.count > 1)
		summary(&t);
	vm_runtime_free(t.rt);
	free(t.boot_ms);
	free(t.exec_ms);
	return t.rc;
}
