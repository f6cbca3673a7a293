/*
 * latency: job latency histograms for the metrics endpoint, `corral_job_latency_seconds
 * {phase=...}` in the Prometheus text format, fed from the timings every result already
 * carries (wire_timings). Phases: queued (queued→claimed), vm (claimed→vm), start (vm→started),
 * first_output (started→first output), write (exited→written), total (queued→written). A phase
 * whose ends were not both reached is not observed. Pure: no I/O, no clock.
 */
#ifndef CORRALD_LATENCY_H
#define CORRALD_LATENCY_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define LATENCY_BUCKETS 14
#define LATENCY_PHASES 6

struct latency_hist {
	uint64_t b[LATENCY_BUCKETS + 1];	/* last: above every bound (+Inf only) */
	uint64_t count, sum_ms;
};

struct latency {
	struct latency_hist h[LATENCY_PHASES];
};

/* The bucket bounds in ms (5 ms .. 60 s). */
extern const unsigned latency_bounds_ms[LATENCY_BUCKETS];
extern const char *const latency_phase_names[LATENCY_PHASES];

void latency_observe(struct latency *l, const struct wire_timings *t);
void latency_hist_add(struct latency_hist *h, uint64_t ms);
/* Appends the histogram family to out (at most n bytes, NUL-terminated when n > 0); returns the
 * bytes written (< n). */
size_t latency_render(const struct latency *l, char *out, size_t n);

#endif
