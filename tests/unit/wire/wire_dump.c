/*
 * wire_dump: renders decoded libwire structs as canonical "key=value" lines. Valid vectors'
 * .expect files list lines that must appear in this dump, and round-trip checks compare two
 * dumps for equality. Bytes outside printable ASCII print as \xNN and a backslash as "\\", so the
 * format is byte-exact and easy to reproduce in another language. It must not validate anything.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "wire_test.h"

static int put(struct buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int put(struct buf *out, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -EINVAL;
	return buf_append(out, tmp, (size_t)n);
}

static int put_esc(struct buf *out, const char *key, const void *p, size_t len)
{
	const unsigned char *s = p;
	char tmp[8];
	int r = put(out, "%s=", key);

	for (size_t i = 0; r == 0 && i < len; i++) {
		if (s[i] == '\\')
			r = buf_append(out, "\\\\", 2);
		else if (s[i] >= 0x20 && s[i] < 0x7f)
			r = buf_append(out, &s[i], 1);
		else {
			snprintf(tmp, sizeof(tmp), "\\x%02x", s[i]);
			r = buf_append(out, tmp, 4);
		}
	}
	return r ? r : buf_append(out, "\n", 1);
}

static int put_str(struct buf *out, const char *key, const char *s)
{
	if (!s)
		return put(out, "%s=(null)\n", key);
	return put_esc(out, key, s, strlen(s));
}

static int put_hex(struct buf *out, const char *key, const uint8_t *p, size_t len)
{
	char tmp[3];
	int r = put(out, "%s=", key);

	for (size_t i = 0; r == 0 && i < len; i++) {
		snprintf(tmp, sizeof(tmp), "%02x", p[i]);
		r = buf_append(out, tmp, 2);
	}
	return r ? r : buf_append(out, "\n", 1);
}

static int put_strv(struct buf *out, const char *count, const char *name, char *const *v,
		    size_t n)
{
	char key[32];
	int r = put(out, "%s=%zu\n", count, n);

	for (size_t i = 0; r == 0 && i < n; i++) {
		snprintf(key, sizeof(key), "%s[%zu]", name, i);
		r = put_str(out, key, v[i]);
	}
	return r;
}

static int dump_job_files(const struct wire_job *j, struct buf *out)
{
	char key[48];
	int r = put_str(out, "image", j->image);

	if (!r)
		r = put(out, "artefacts_max=%" PRIu64 "\nnfiles=%zu\n", j->artefacts_max, j->nfiles);
	for (size_t i = 0; !r && i < j->nfiles; i++) {
		snprintf(key, sizeof(key), "files[%zu].path", i);
		r = put_str(out, key, j->files[i].path);
		if (!r)
			r = put(out, "files[%zu].mode=0%o\nfiles[%zu].len=%zu\n", i,
				(unsigned)j->files[i].mode, i, j->files[i].len);
		snprintf(key, sizeof(key), "files[%zu].data_hex", i);
		if (!r)
			r = put_hex(out, key, j->files[i].data, j->files[i].len);
	}
	if (!r)
		r = put_strv(out, "noutputs", "outputs", j->outputs, j->noutputs);
	if (r || !j->repo)
		return r ? r : put(out, "repo=(null)\n");
	r = put_str(out, "repo.url", j->repo->url);
	if (!r)
		r = put_str(out, "repo.ref", j->repo->ref);
	if (!r)
		r = put(out, "repo.depth=%" PRIu32 "\n", j->repo->depth);
	if (!r)
		r = put_str(out, "repo.subdir", j->repo->subdir);
	return r;
}

int dump_job(const struct wire_job *j, struct buf *out)
{
	int r = put_str(out, "id", j->id);

	if (!r)
		r = put_strv(out, "argc", "argv", j->argv, j->argc);
	if (!r)
		r = put_strv(out, "envc", "env", j->env, j->envc);
	if (!r)
		r = put_str(out, "cwd", j->cwd);
	if (!r)
		r = put_str(out, "template", j->template_name);
	if (!r)
		r = put(out, "timeout_ms=%" PRIu32 "\noutput_max=%" PRIu64 "\nmax_attempts=%" PRIu32
			"\nsubmitted_ms=%" PRIu64 "\n", j->timeout_ms, j->output_max,
			j->max_attempts, j->submitted_ms);
	if (!r)
		r = dump_job_files(j, out);
	return r;
}

int dump_msg(const struct wire_msg *m, struct buf *out)
{
	int r = put(out, "kind=%s\nattempt=%" PRIu32 "\nseq=%" PRIu64 "\nts_ms=%" PRIu64 "\n",
		    m->kind == WIRE_MSG_OUTPUT ? "out" : "event", m->attempt, m->seq, m->ts_ms);

	if (r)
		return r;
	if (m->kind == WIRE_MSG_OUTPUT) {
		r = put(out, "fd=%u\nlen=%zu\n", m->fd, m->len);
		return r ? r : put_hex(out, "data_hex", m->data, m->len);
	}
	r = put(out, "state=%s\n", wire_state_name(m->state));
	if (!r)
		r = put_str(out, "worker", m->worker);
	if (!r)
		r = put_str(out, "reason", m->reason);
	return r;
}

int dump_result(const struct wire_result *res, struct buf *out)
{
	const struct wire_timings *t = &res->t;
	int r = put_str(out, "id", res->id);

	if (!r)
		r = put(out, "state=%s\nattempt=%" PRIu32 "\n", wire_state_name(res->state),
			res->attempt);
	if (!r)
		r = res->has_exit_code ? put(out, "exit_code=%" PRId32 "\n", res->exit_code) :
					 put(out, "exit_code=nil\n");
	if (!r)
		r = put(out, "signal=%" PRId32 "\n", res->signal);
	if (!r)
		r = put_str(out, "reason", res->reason);
	if (!r)
		r = put_str(out, "worker", res->worker);
	if (!r)
		r = put_str(out, "accel", res->accel);
	if (!r)
		r = put(out, "stdout_bytes=%" PRIu64 "\nstderr_bytes=%" PRIu64 "\ntruncated=%s\n",
			res->stdout_bytes, res->stderr_bytes, res->truncated ? "true" : "false");
	if (!r)
		r = put(out, "timings.queued_ms=%" PRIu64 "\ntimings.claimed_ms=%" PRIu64
			"\ntimings.vm_ms=%" PRIu64 "\ntimings.started_ms=%" PRIu64 "\n",
			t->queued_ms, t->claimed_ms, t->vm_ms, t->started_ms);
	if (!r)
		r = put(out, "timings.first_output_ms=%" PRIu64 "\ntimings.exited_ms=%" PRIu64
			"\ntimings.written_ms=%" PRIu64 "\n", t->first_output_ms, t->exited_ms,
			t->written_ms);
	if (!r)
		r = put(out, "timings.fetch_ms=%" PRIu64 "\ntimings.files_ms=%" PRIu64
			"\ntimings.collect_ms=%" PRIu64 "\ntimings.mirror_hit=%s\n", t->fetch_ms,
			t->files_ms, t->collect_ms, t->mirror_hit ? "true" : "false");
	if (!r)
		r = put_str(out, "commit", res->commit);
	if (!r)
		r = put_str(out, "limit", res->limit);
	if (!r)
		r = put(out, "artefacts_truncated=%s\nnartefacts=%zu\n",
			res->artefacts_truncated ? "true" : "false", res->nartefacts);
	for (size_t i = 0; !r && i < res->nartefacts; i++) {
		const struct wire_artefact *a = &res->artefacts[i];
		char key[48];

		snprintf(key, sizeof(key), "artefacts[%zu].path", i);
		r = put_str(out, key, a->path);
		if (!r)
			r = put(out, "artefacts[%zu].size=%" PRIu64 "\nartefacts[%zu].mode=0%o\n"
				"artefacts[%zu].len=%zu\nartefacts[%zu].truncated=%s\n", i, a->size,
				i, (unsigned)a->mode, i, a->len, i, a->truncated ? "true" : "false");
		snprintf(key, sizeof(key), "artefacts[%zu].data_hex", i);
		if (!r)
			r = put_hex(out, key, a->data, a->len);
	}
	return r;
}

static const char *frame_type_name(enum wire_frame_type t)
{
	static const char *const names[] = { "unknown", "ready", "init", "exec", "started",
					     "output", "exit", "signal", "error", "put", "putend",
					     "putok", "get", "file", "getend", "net_open", "net_ok",
					     "net_data", "net_ack", "net_close" };

	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "invalid";
}

int dump_frame(const struct wire_frame *f, struct buf *out)
{
	int r = put(out, "type=%s\nid=%" PRIu32 "\n", frame_type_name(f->type), f->id);

	if (!r)
		r = put_strv(out, "argc", "argv", f->argv, f->argc);
	if (!r)
		r = put_strv(out, "envc", "env", f->env, f->envc);
	if (!r)
		r = put_str(out, "cwd", f->cwd);
	if (!r)
		r = put(out, "uid=%" PRIu32 "\ngid=%" PRIu32 "\npid=%" PRId32 "\nfd=%u\nlen=%zu\n",
			f->uid, f->gid, f->pid, f->fd, f->len);
	if (!r)
		r = put_hex(out, "data_hex", f->data, f->len);
	if (!r)
		r = put(out, "exit_code=%" PRId32 "\nsignal=%" PRId32 "\nerr=%" PRId32 "\n",
			f->exit_code, f->signal, f->err);
	if (!r)
		r = put_str(out, "message", f->message);
	if (!r)
		r = put_str(out, "version", f->version);
	if (!r)
		r = put(out, "time_ns=%" PRIu64 "\n", f->time_ns);
	if (!r)
		r = put_hex(out, "seed_hex", f->seed, f->seed_len);
	if (!r)
		r = put_str(out, "path", f->path);
	if (!r)
		r = put_str(out, "target", f->target);
	if (!r)
		r = put(out, "kind=%s\nmode=0%o\nappend=%s\nlast=%s\ntruncated=%s\n",
			f->kind == WIRE_PUT_FILE ? "file" : f->kind == WIRE_PUT_DIR ? "dir" :
			f->kind == WIRE_PUT_SYMLINK ? "symlink" : "invalid", (unsigned)f->mode,
			f->append ? "true" : "false", f->last ? "true" : "false",
			f->truncated ? "true" : "false");
	if (!r)
		r = put(out, "size=%" PRIu64 "\noffset=%" PRIu64 "\nmax=%" PRIu64 "\ncount=%" PRIu64
			"\nbytes=%" PRIu64 "\n", f->size, f->offset, f->max, f->count, f->bytes);
	if (!r)
		r = put_strv(out, "npatterns", "patterns", f->patterns, f->npatterns);
	if (!r)
		r = put(out, "mem_max=%" PRIu64 "\npids_max=%" PRIu32 "\ndisk_max=%" PRIu64 "\n",
			f->mem_max, f->pids_max, f->disk_max);
	if (!r)
		r = put_str(out, "limit", f->limit);
	if (!r)
		r = put_str(out, "host", f->host);
	if (!r)
		r = put(out, "port=%u\nnet_kind=%s\n", (unsigned)f->port,
			wire_net_kind_name(f->net_kind));
	return r;
}
