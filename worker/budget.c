/*
 * budget: see budget.h. Integer arithmetic over MiB and vCPUs, saturating, no I/O: the caller
 * reads /proc/meminfo and the CPU count and passes them in, so the unit test covers it all.
 */
#include "budget.h"

#include <errno.h>
#include <string.h>

int budget_parse_meminfo(const char *text, size_t len, uint64_t *ret_kib)
{
	static const char key[] = "MemTotal:";
	size_t i = 0;

	while (i < len) {
		size_t eol = i;

		while (eol < len && text[eol] != '\n')
			eol++;
		if (eol - i > sizeof(key) - 1 && memcmp(text + i, key, sizeof(key) - 1) == 0) {
			size_t p = i + sizeof(key) - 1;
			uint64_t v = 0;
			bool digits = false;

			while (p < eol && text[p] == ' ')
				p++;
			while (p < eol && text[p] >= '0' && text[p] <= '9') {
				if (v > (UINT64_MAX - 9) / 10)
					return -EINVAL;
				v = v * 10 + (uint64_t)(text[p++] - '0');
				digits = true;
			}
			if (!digits || eol - p < 3 || memcmp(text + p, " kB", 3) != 0 || v == 0)
				return -EINVAL;
			*ret_kib = v;
			return 0;
		}
		i = eol + 1;
	}
	return -EINVAL;
}

uint64_t budget_default_mem_mib(uint64_t memtotal_kib)
{
	uint64_t mib = memtotal_kib / 1024u / 100u * BUDGET_MEM_PERCENT;

	return mib ? mib : 1;
}

uint64_t budget_default_cpus(long ncpu)
{
	return ncpu < 1 ? BUDGET_CPU_PER_CORE : (uint64_t)ncpu * BUDGET_CPU_PER_CORE;
}

void budget_init(struct budget *b, uint64_t mem_mib, uint64_t cpus)
{
	memset(b, 0, sizeof(*b));
	b->mem_mib = mem_mib;
	b->cpus = cpus;
}

void budget_charge(struct budget *b, struct budget_vm vm)
{
	b->job_mem_mib += vm.mem_mib;
	b->job_cpus += vm.vcpus;
}

void budget_uncharge(struct budget *b, struct budget_vm vm)
{
	b->job_mem_mib = b->job_mem_mib > vm.mem_mib ? b->job_mem_mib - vm.mem_mib : 0;
	b->job_cpus = b->job_cpus > vm.vcpus ? b->job_cpus - vm.vcpus : 0;
}

static uint64_t room(uint64_t total, uint64_t a, uint64_t b)
{
	return a + b >= total ? 0 : total - a - b;
}

bool budget_fits(const struct budget *b, uint64_t held_mem, uint64_t held_cpus,
		 struct budget_vm vm)
{
	return budget_count(b, held_mem, held_cpus, vm, 1) == 1;
}

unsigned budget_count(const struct budget *b, uint64_t held_mem, uint64_t held_cpus,
		      struct budget_vm vm, unsigned cap)
{
	uint64_t mem = room(b->mem_mib, b->job_mem_mib, held_mem);
	uint64_t cpu = room(b->cpus, b->job_cpus, held_cpus);
	uint64_t n = vm.mem_mib ? mem / vm.mem_mib : cap;
	uint64_t nc = vm.vcpus ? cpu / vm.vcpus : cap;

	if (nc < n)
		n = nc;
	return n > cap ? cap : (unsigned)n;
}
