/*
 * artset: artefact assembly. Data buffers grow by doubling, never past the bytes still allowed
 * under max; an allocation failure drops the chunk (truncated) rather than failing the job.
 */
#include "artset.h"

#include <stdlib.h>
#include <string.h>

void artefacts_free(struct wire_artefact *arts, size_t n)
{
	for (size_t i = 0; arts && i < n; i++) {
		free(arts[i].path);
		free(arts[i].data);
	}
	free(arts);
}

void artset_init(struct artset *s, uint64_t max)
{
	memset(s, 0, sizeof(*s));
	s->max = max > WIRE_ARTEFACTS_MAX_LIMIT ? WIRE_ARTEFACTS_MAX_LIMIT : max;
}

/* Starts a new artefact for f. -1 when no more can be kept. */
static int open_artefact(struct artset *s, const struct wire_frame *f)
{
	struct wire_artefact *a;

	if (s->n >= WIRE_ARTEFACTS_COUNT_MAX)
		return -1;
	if (s->n == s->alloc) {
		size_t na = s->alloc ? s->alloc * 2 : 8;
		struct wire_artefact *nv;

		if (na > WIRE_ARTEFACTS_COUNT_MAX)
			na = WIRE_ARTEFACTS_COUNT_MAX;
		nv = realloc(s->arts, na * sizeof(*nv));
		if (!nv)
			return -1;
		s->arts = nv;
		s->alloc = na;
	}
	a = &s->arts[s->n];
	memset(a, 0, sizeof(*a));
	a->path = strdup(f->path);
	if (!a->path)
		return -1;
	a->size = f->size;
	a->mode = f->mode & 07777;
	s->n++;
	s->cap = 0;
	s->cur_open = true;
	return 0;
}

/* Appends up to what max still allows; marks the cut. */
static void append_data(struct artset *s, struct wire_artefact *a, const uint8_t *data, size_t len)
{
	uint64_t room = s->max - s->kept;
	size_t n = len > room ? (size_t)room : len;

	if (n < len) {
		a->truncated = true;
		s->truncated = true;
	}
	if (n == 0)
		return;
	if (a->len + n > s->cap) {
		size_t nc = s->cap ? s->cap : 4096;
		uint8_t *nd;

		while (nc < a->len + n)
			nc *= 2;
		if (nc > a->len + room)
			nc = a->len + (size_t)room;
		nd = realloc(a->data, nc);
		if (!nd) {
			a->truncated = true;
			s->truncated = true;
			return;
		}
		a->data = nd;
		s->cap = nc;
	}
	memcpy(a->data + a->len, data, n);
	a->len += n;
	s->kept += n;
}

void artset_add(struct artset *s, const struct wire_frame *f)
{
	struct wire_artefact *cur = s->n ? &s->arts[s->n - 1] : NULL;
	bool same = cur && s->cur_open && f->path && strcmp(cur->path, f->path) == 0;

	if (!f->path || f->path[0] != '/') {
		s->truncated = true;
		return;
	}
	if (same && f->offset != cur->len) {
		cur->truncated = true;	/* a gap or an overlap in one file: drop the chunk */
		s->truncated = true;
		return;
	}
	if (!same) {
		if (f->offset != 0 || open_artefact(s, f) < 0) {
			s->truncated = true;
			return;
		}
		cur = &s->arts[s->n - 1];
	}
	if (f->truncated) {
		cur->truncated = true;
		s->truncated = true;
	}
	append_data(s, cur, f->data, f->len);
	if (f->last)
		s->cur_open = false;
}

void artset_take(struct artset *s, struct wire_artefact **arts, size_t *n, bool *truncated)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->arts[i].len < s->arts[i].size) {
			s->arts[i].truncated = true;
			s->truncated = true;
		}
	*arts = s->arts;
	*n = s->n;
	*truncated = s->truncated;
	s->arts = NULL;
	s->n = s->alloc = 0;
	s->cur_open = false;
}

void artset_fini(struct artset *s)
{
	artefacts_free(s->arts, s->n);
	s->arts = NULL;
	s->n = s->alloc = 0;
}
