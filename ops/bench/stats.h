/*
 * stats: percentile summaries of samples in milliseconds, printed as JSON objects. Pure.
 */
#ifndef CORRAL_BENCH_STATS_H
#define CORRAL_BENCH_STATS_H

#include <stddef.h>
#include <stdio.h>

/* Sorts v in place and returns the p-th percentile (0..100, nearest rank). n must be ≥ 1. */
double stats_pct(double *v, size_t n, double p);
/* Prints {"n":..,"p50":..,"p90":..,"p99":..,"min":..,"max":..,"mean":..} to f. */
void stats_print_json(FILE *f, double *v, size_t n);

#endif
