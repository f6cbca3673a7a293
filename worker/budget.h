/*
 * budget: the host's memory and vCPU budget for VMs (issue 4). Every live VM is charged its
 * template's memory_mib and vcpus: running jobs' VMs through budget_charge/budget_uncharge, the
 * pools' VMs by the caller adding them to the "held" figures it passes in (wpool.c scans its
 * pools). It decides only arithmetic: whether one more VM fits, how many fit, and the defaults
 * (75 % of MemTotal, 4 vCPUs per host CPU). Pure: the /proc/meminfo text is passed in.
 */
#ifndef CORRALD_BUDGET_H
#define CORRALD_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUDGET_MEM_MAX_MIB (64u << 20)	/* 64 TiB, a sanity cap for --mem-budget */
#define BUDGET_CPU_MAX 65536u		/* --cpu-budget */
#define BUDGET_MEM_PERCENT 75u
#define BUDGET_CPU_PER_CORE 4u
#define BUDGET_MEMINFO_MAX 16384	/* bytes of /proc/meminfo read */

struct budget {
	uint64_t mem_mib, cpus;		/* totals */
	uint64_t job_mem_mib, job_cpus;	/* charged to running jobs' VMs */
};

/* A VM's size. */
struct budget_vm {
	unsigned mem_mib, vcpus;
};

/* MemTotal in KiB from /proc/meminfo's text. 0 or -EINVAL (no parsable MemTotal line). */
int budget_parse_meminfo(const char *text, size_t len, uint64_t *ret_kib);
/* The defaults: 75 % of MemTotal (MiB, at least 1) and 4 × ncpu (at least 1). */
uint64_t budget_default_mem_mib(uint64_t memtotal_kib);
uint64_t budget_default_cpus(long ncpu);
void budget_init(struct budget *b, uint64_t mem_mib, uint64_t cpus);
void budget_charge(struct budget *b, struct budget_vm vm);
/* Never below zero (an uncharge without its charge is a bug, clamped not trusted). */
void budget_uncharge(struct budget *b, struct budget_vm vm);
/* True if one more VM of size vm fits, with held_mem/held_cpus taken by pool VMs. */
bool budget_fits(const struct budget *b, uint64_t held_mem, uint64_t held_cpus,
		 struct budget_vm vm);
/* How many more VMs of size vm fit (0 when none; capped at cap). */
unsigned budget_count(const struct budget *b, uint64_t held_mem, uint64_t held_cpus,
		      struct budget_vm vm, unsigned cap);

#endif
