/*
 * stats: nearest-rank percentiles over a sample array (sorted in place).
 */
#include "stats.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double stats_pct(double *v, size_t n, double p)
{
	size_t rank;

	qsort(v, n, sizeof(*v), cmp_double);
	rank = (size_t)ceil(p / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

void stats_print_json(FILE *f, double *v, size_t n)
{
	double sum = 0;

	if (n == 0) {
		fprintf(f, "{\"n\":0}");
		return;
	}
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	(void)stats_pct(v, n, 50);	/* sorts: v[0] and v[n-1] are then min and max */
	fprintf(f, "{\"n\":%zu,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"min\":%.3f,\"max\":%.3f,\"mean\":%.3f}",
		n, stats_pct(v, n, 50), stats_pct(v, n, 90), stats_pct(v, n, 99), v[0], v[n - 1],
		sum / (double)n);
}
