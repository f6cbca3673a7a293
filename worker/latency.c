/*
 * latency: see latency.h. Fixed buckets, counters only; rendering is snprintf into the caller's
 * buffer and stops cleanly when it is full.
 */
#include "latency.h"

#include <stdio.h>

const unsigned latency_bounds_ms[LATENCY_BUCKETS] = { 5,    10,   25,   50,    100,   250,  500,
						      1000, 2500, 5000, 10000, 20000, 30000, 60000 };
const char *const latency_phase_names[LATENCY_PHASES] = { "queued",	  "vm",	   "start",
							  "first_output", "write", "total" };

void latency_hist_add(struct latency_hist *h, uint64_t ms)
{
	unsigned i = 0;

	while (i < LATENCY_BUCKETS && ms > latency_bounds_ms[i])
		i++;
	h->b[i]++;
	h->count++;
	h->sum_ms += ms;
}

static void span(struct latency_hist *h, uint64_t from, uint64_t to)
{
	if (from && to && to >= from)
		latency_hist_add(h, to - from);
}

void latency_observe(struct latency *l, const struct wire_timings *t)
{
	span(&l->h[0], t->queued_ms, t->claimed_ms);
	span(&l->h[1], t->claimed_ms, t->vm_ms);
	span(&l->h[2], t->vm_ms, t->started_ms);
	span(&l->h[3], t->started_ms, t->first_output_ms);
	span(&l->h[4], t->exited_ms, t->written_ms);
	span(&l->h[5], t->queued_ms, t->written_ms);
}

#define P(...)                                                              \
	do {                                                                \
		if (o < n)                                                  \
			o += (size_t)snprintf(out + o, n - o, __VA_ARGS__); \
	} while (0)

size_t latency_render(const struct latency *l, char *out, size_t n)
{
	static const char name[] = "corral_job_latency_seconds";
	size_t o = 0;

	if (n == 0)
		return 0;
	out[0] = '\0';
	P("# HELP %s Job latency by phase, from the result's timings.\n# TYPE %s histogram\n",
	  name, name);
	for (unsigned p = 0; p < LATENCY_PHASES; p++) {
		const struct latency_hist *h = &l->h[p];
		uint64_t cum = 0;

		for (unsigned i = 0; i < LATENCY_BUCKETS; i++) {
			cum += h->b[i];
			P("%s_bucket{phase=\"%s\",le=\"%g\"} %llu\n", name, latency_phase_names[p],
			  latency_bounds_ms[i] / 1000.0, (unsigned long long)cum);
		}
		P("%s_bucket{phase=\"%s\",le=\"+Inf\"} %llu\n", name, latency_phase_names[p],
		  (unsigned long long)h->count);
		P("%s_sum{phase=\"%s\"} %g\n%s_count{phase=\"%s\"} %llu\n", name,
		  latency_phase_names[p], h->sum_ms / 1000.0, name, latency_phase_names[p],
		  (unsigned long long)h->count);
	}
	if (o >= n) {
		out[n - 1] = '\0';
		return n - 1;
	}
	return o;
}
