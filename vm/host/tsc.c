/*
 * tsc: measures the host's TSC frequency, which a TCG guest inherits (QEMU's rdtsc under TCG
 * reads the host TSC). The guest kernel is told the value (tsc_early_khz=) because its own PIT
 * calibration fails under host load ("tsc: Unable to calibrate against PIT ... Marking TSC
 * unstable") and the boot then hangs: measured here, 5 hung attempts in 12 at load 3 on 2 cores
 * without it, 0 in 12 with it. It must not guess: no constant TSC, no value.
 */
#define LOG_MOD "vm"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "vm_int.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>

#define TSC_SAMPLES 5
#define TSC_WINDOW_NS 20000000L		/* 20 ms per sample */
#define TSC_PAIR_MAX_CYCLES 50000ull	/* a sample read across a preemption is retried */

static uint64_t mono_raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One (tsc, ns) pair read close together, or false after a few preempted tries. */
static bool pair(uint64_t *tsc, uint64_t *ns)
{
	for (int i = 0; i < 10; i++) {
		uint64_t a = __rdtsc(), t = mono_raw_ns(), b = __rdtsc();

		if (b - a < TSC_PAIR_MAX_CYCLES) {
			*tsc = a + (b - a) / 2;
			*ns = t;
			return true;
		}
	}
	return false;
}

static int cmp_u(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

static bool constant_tsc(void)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[4096];
	bool c = false, n = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		c = strstr(line, " constant_tsc") != NULL;
		n = strstr(line, " nonstop_tsc") != NULL;
		break;
	}
	fclose(f);
	return c && n;
}

int host_tsc_khz(unsigned *ret_khz)
{
	struct timespec win = { 0, TSC_WINDOW_NS };
	unsigned khz[TSC_SAMPLES];
	uint64_t t0, n0, t1, n1;

	if (!constant_tsc())
		return -ENOTSUP;
	for (int i = 0; i < TSC_SAMPLES; i++) {
		if (!pair(&t0, &n0))
			return -EAGAIN;
		nanosleep(&win, NULL);
		if (!pair(&t1, &n1) || n1 <= n0 || t1 <= t0)
			return -EAGAIN;
		khz[i] = (unsigned)((t1 - t0) * 1000000ull / (n1 - n0));
	}
	qsort(khz, TSC_SAMPLES, sizeof(khz[0]), cmp_u);
	*ret_khz = khz[TSC_SAMPLES / 2];
	return 0;
}
#else
int host_tsc_khz(unsigned *ret_khz)
{
	return -ENOTSUP;
}
#endif
