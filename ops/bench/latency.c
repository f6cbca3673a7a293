/*
 * corral-bench-latency: XADD → first output byte at a subscriber, for N jobs of `echo hi`, run one
 * after the other against a live corrald. Baselines from the same run: the Redis transport floor
 * (PUBLISH → subscriber round trip on the same connections) and a native fork+exec of
 * `sh -c 'echo hi'` on the host. Prints one JSON object on stdout. Not a test: it asserts nothing.
 *   corral-bench-latency [--redis ADDR] [--n N] [--prefix P] [--gap-ms MS]
 * --gap-ms: a pause after each job (default 0, back to back). A warm pool refills in the
 * background: back to back on 2 TCG cores the jobs soon outrun the refills (each clone runs its
 * warm-up, ~0.4-1 s of CPU) and then measure the wait for a clone, not the warm path; a gap of
 * about one refill shows the warm path (ops/bench/pool prints both).
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "redis_addr.h"
#include "stats.h"
#include "util.h"
#include "wire.h"

extern char **environ;

#define BENCH_N_MAX 100000

static redisContext *connect_addr(const struct redis_addr *a)
{
	struct timeval tv = { 30, 0 };
	redisContext *c = a->is_unix ? redisConnectUnixWithTimeout(a->path, tv)
				     : redisConnectWithTimeout(a->host, a->port, tv);

	if (!c || c->err) {
		fprintf(stderr, "bench: cannot connect to redis: %s\n", c ? c->errstr : "oom");
		exit(1);
	}
	redisSetTimeout(c, tv);
	return c;
}

static double ms_since(uint64_t t0_ns)
{
	return (double)(time_mono_ns() - t0_ns) / 1e6;
}

/* Waits on the subscriber for messages of one job; returns ms to the first output chunk, or -1
 * if the job ended without output or the wait failed. */
static double wait_first_output(redisContext *sub, uint64_t t0, int *final)
{
	double first = -1;
	redisReply *r;

	*final = 0;
	while (!*final) {
		struct wire_msg *m = NULL;

		if (redisGetReply(sub, (void **)&r) != REDIS_OK)
			return -1;
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
		    strcmp(r->element[0]->str, "message") == 0 &&
		    wire_msg_decode(r->element[2]->str, r->element[2]->len, &m, NULL) == 0) {
			if (m->kind == WIRE_MSG_OUTPUT && first < 0)
				first = ms_since(t0);
			if (m->kind == WIRE_MSG_EVENT && wire_state_final(m->state))
				*final = 1;
			wire_msg_free(m);
		}
		freeReplyObject(r);
	}
	return first;
}

static double native_exec_ms(void)
{
	char *argv[] = { "sh", "-c", "echo hi >/dev/null", NULL };
	uint64_t t0 = time_mono_ns();
	pid_t pid;
	int st;

	if (posix_spawnp(&pid, "sh", NULL, NULL, argv, environ) != 0)
		return -1;
	waitpid(pid, &st, 0);
	return ms_since(t0);
}

int main(int argc, char **argv)
{
	const char *addr_s = NULL, *prefix = "corral:";
	struct redis_addr addr;
	struct errmsg err = { "" };
	size_t n = 50, got = 0, nb = 0, nn = 0;
	unsigned long gap_ms = 0;
	double *lat, *total, *base, *native;
	redisContext *cmd, *sub;
	redisReply *r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--redis") == 0 && i + 1 < argc)
			addr_s = argv[++i];
		else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
			n = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc)
			prefix = argv[++i];
		else if (strcmp(argv[i], "--gap-ms") == 0 && i + 1 < argc)
			gap_ms = strtoul(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: corral-bench-latency [--redis ADDR] [--n N] [--prefix P] "
				"[--gap-ms MS]\n");
			return 2;
		}
	}
	if (n == 0 || n > BENCH_N_MAX) {
		fprintf(stderr, "bench: --n must be 1..%d\n", BENCH_N_MAX);
		return 2;
	}
	if (redis_addr_resolve(addr_s, &addr, &err) < 0) {
		fprintf(stderr, "bench: %s\n", err.msg);
		return 2;
	}
	cmd = connect_addr(&addr);
	sub = connect_addr(&addr);
	lat = calloc(n, sizeof(double));
	total = calloc(n, sizeof(double));
	base = calloc(n, sizeof(double));
	native = calloc(n, sizeof(double));
	if (!lat || !total || !base || !native)
		return 1;

	for (size_t i = 0; i < n; i++) {
		char chan[256], key[256];
		struct wire_job *job = wire_job_new();
		struct buf enc;
		uint64_t t0;
		int final;
		double first;

		buf_init(&enc, 0);
		random_hex_id(job->id);
		job->argv = calloc(3, sizeof(char *));
		job->argv[0] = strdup("echo");
		job->argv[1] = strdup("hi");
		job->argc = 2;
		job->timeout_ms = 30000;
		job->submitted_ms = time_now_ms();
		if (wire_job_encode(job, &enc, &err) < 0) {
			fprintf(stderr, "bench: encode: %s\n", err.msg);
			return 1;
		}
		snprintf(chan, sizeof(chan), "%s{q}:out:%s", prefix, job->id);
		snprintf(key, sizeof(key), "%s{q}:jobs", prefix);
		r = redisCommand(sub, "SUBSCRIBE %s", chan);
		freeReplyObject(r);
		t0 = time_mono_ns();
		r = redisCommand(cmd, "XADD %s * job %b", key, enc.data, enc.len);
		freeReplyObject(r);
		first = wait_first_output(sub, t0, &final);
		if (first >= 0) {
			lat[got] = first;
			total[got++] = ms_since(t0);
		}
		r = redisCommand(sub, "UNSUBSCRIBE %s", chan);
		freeReplyObject(r);
		buf_free(&enc);
		wire_job_free(job);

		/* Baselines, interleaved so that noise hits both alike. */
		r = redisCommand(sub, "SUBSCRIBE bench:floor");
		freeReplyObject(r);
		t0 = time_mono_ns();
		r = redisCommand(cmd, "PUBLISH bench:floor x");
		freeReplyObject(r);
		if (redisGetReply(sub, (void **)&r) == REDIS_OK) {
			base[nb++] = ms_since(t0);
			freeReplyObject(r);
		}
		r = redisCommand(sub, "UNSUBSCRIBE bench:floor");
		freeReplyObject(r);
		double ne = native_exec_ms();
		if (ne >= 0)
			native[nn++] = ne;
		if (gap_ms)
			usleep((useconds_t)(gap_ms > 60000 ? 60000 : gap_ms) * 1000);
	}
	printf("{\"bench\":\"xadd_to_first_output\",\"jobs\":%zu,\"completed\":%zu,\"gap_ms\":%lu,",
	       n, got, gap_ms);
	printf("\"xadd_to_first_output_ms\":");
	stats_print_json(stdout, lat, got);
	printf(",\"xadd_to_final_event_ms\":");
	stats_print_json(stdout, total, got);
	printf(",\"baseline_redis_publish_rtt_ms\":");
	stats_print_json(stdout, base, nb);
	printf(",\"baseline_native_exec_ms\":");
	stats_print_json(stdout, native, nn);
	if (got && nn)
		printf(",\"ratio_p50_vs_native_exec\":%.1f",
		       stats_pct(lat, got, 50) / stats_pct(native, nn, 50));
	printf("}\n");
	redisFree(cmd);
	redisFree(sub);
	free(lat);
	free(total);
	free(base);
	free(native);
	return got == n ? 0 : 1;
}
