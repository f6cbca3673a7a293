/*
 * outcome: result → exit code, note, and text. Keep the mapping in one place: the README and
 * `corral run --help` promise it.
 */
#include "outcome.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int outcome_exit_code(const struct wire_result *r)
{
	switch (r->state) {
	case WIRE_STATE_SUCCEEDED:
		return 0;
	case WIRE_STATE_TIMED_OUT:
		return CLI_EXIT_TIMEOUT;
	case WIRE_STATE_FAILED:
		if (r->signal > 0 && r->signal < 128)
			return 128 + r->signal;
		if (r->has_exit_code && r->exit_code > 0 && r->exit_code < 256 &&
		    !r->truncated)
			return r->exit_code;
		return CLI_EXIT_CORRAL;
	default:
		return CLI_EXIT_CORRAL;
	}
}

const char *outcome_note(const struct wire_result *r, char *buf, size_t size)
{
	const char *reason = r->reason[0] ? r->reason : "no reason given";

	if (r->state == WIRE_STATE_SUCCEEDED)
		return NULL;
	if (r->state == WIRE_STATE_FAILED && r->has_exit_code && !r->truncated && r->signal == 0)
		return NULL;	/* a plain non-zero exit speaks for itself */
	snprintf(buf, size, "job %s %s: %s", r->id, wire_state_name(r->state), reason);
	return buf;
}

static void print_t(FILE *f, const char *name, uint64_t base, uint64_t t)
{
	if (t && base && t >= base)
		fprintf(f, "  %-14s +%" PRIu64 " ms\n", name, t - base);
	else if (t)
		fprintf(f, "  %-14s %" PRIu64 "\n", name, t);
	else
		fprintf(f, "  %-14s -\n", name);
}

void outcome_print(FILE *f, const struct wire_result *r)
{
	fprintf(f, "id:         %s\n", r->id);
	fprintf(f, "state:      %s\n", wire_state_name(r->state));
	if (r->has_exit_code)
		fprintf(f, "exit code:  %d\n", (int)r->exit_code);
	else
		fprintf(f, "exit code:  -\n");
	if (r->signal)
		fprintf(f, "signal:     %d\n", (int)r->signal);
	if (r->reason[0])
		fprintf(f, "reason:     %s\n", r->reason);
	if (r->limit[0])
		fprintf(f, "limit:      %s\n", r->limit);
	fprintf(f, "attempt:    %u\n", (unsigned)r->attempt);
	fprintf(f, "worker:     %s\n", r->worker[0] ? r->worker : "-");
	fprintf(f, "accel:      %s\n", r->accel[0] ? r->accel : "-");
	fprintf(f, "stdout:     %" PRIu64 " bytes\n", r->stdout_bytes);
	fprintf(f, "stderr:     %" PRIu64 " bytes\n", r->stderr_bytes);
	fprintf(f, "truncated:  %s\n", r->truncated ? "yes" : "no");
	fprintf(f, "timings (after queued at %" PRIu64 "):\n", r->t.queued_ms);
	print_t(f, "claimed", r->t.queued_ms, r->t.claimed_ms);
	print_t(f, "vm ready", r->t.queued_ms, r->t.vm_ms);
	print_t(f, "started", r->t.queued_ms, r->t.started_ms);
	print_t(f, "first output", r->t.queued_ms, r->t.first_output_ms);
	print_t(f, "exited", r->t.queued_ms, r->t.exited_ms);
	print_t(f, "written", r->t.queued_ms, r->t.written_ms);
	if (r->t.fetch_ms || r->t.files_ms || r->t.collect_ms || r->commit[0])
		fprintf(f, "  %-14s %" PRIu64 " ms%s\n  %-14s %" PRIu64 " ms\n  %-14s %" PRIu64
			" ms\n", "repo fetch", r->t.fetch_ms, r->t.mirror_hit ? " (mirror hit)" : "",
			"files in", r->t.files_ms, "collect", r->t.collect_ms);
	if (r->commit[0])
		fprintf(f, "commit:     %s\n", r->commit);
	if (r->nartefacts || r->artefacts_truncated)
		fprintf(f, "artefacts:  %zu%s\n", r->nartefacts,
			r->artefacts_truncated ? " (truncated to artefacts_max)" : "");
	for (size_t i = 0; i < r->nartefacts; i++) {
		const struct wire_artefact *a = &r->artefacts[i];

		fprintf(f, "  %s  %" PRIu64 " bytes  %04o%s\n", a->path, a->size, (unsigned)a->mode,
			a->truncated ? "  truncated" : "");
	}
}
