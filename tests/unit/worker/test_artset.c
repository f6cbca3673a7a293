/*
 * Unit tests for worker/artset.c: artefacts assembled from `file` frames as an honest agent sends
 * them (chunks, several files, a cut at max, dropped files) and as a hostile guest might (gaps,
 * overlaps, a new file not at offset 0, too many files, more data than max, relative paths).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "artset.h"

static uint8_t chunk[WIRE_CHUNK_MAX];

static void add(struct artset *s, const char *path, uint64_t size, uint64_t off, size_t len,
		bool last, bool truncated)
{
	struct wire_frame f = {
		.type = WIRE_FRAME_FILE,
		.id = 7,
		.path = (char *)path,
		.size = size,
		.mode = 0100644,
		.offset = off,
		.data = len ? chunk : NULL,
		.len = len,
		.last = last,
		.truncated = truncated,
	};

	artset_add(s, &f);
}

static void test_honest(void **state)
{
	struct artset s;
	struct wire_artefact *a;
	size_t n;
	bool tr;

	(void)state;
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)i;
	artset_init(&s, 1 << 20);
	/* a 100000-byte file in two chunks, then a 5-byte file, then an empty one */
	add(&s, "/home/corral/a.csv", 100000, 0, 65536, false, false);
	add(&s, "/home/corral/a.csv", 100000, 65536, 100000 - 65536, true, false);
	add(&s, "/home/corral/b.txt", 5, 0, 5, true, false);
	add(&s, "/home/corral/empty", 0, 0, 0, true, false);
	artset_take(&s, &a, &n, &tr);
	assert_int_equal(n, 3);
	assert_false(tr);
	assert_string_equal(a[0].path, "/home/corral/a.csv");
	assert_int_equal(a[0].len, 100000);
	assert_int_equal(a[0].size, 100000);
	assert_int_equal(a[0].mode, 0644);	/* permission bits only */
	assert_false(a[0].truncated);
	assert_int_equal(a[0].data[65536 + 3], (uint8_t)3);
	assert_int_equal(a[1].len, 5);
	assert_int_equal(a[2].len, 0);
	assert_null(a[2].data);
	artefacts_free(a, n);
	artset_fini(&s);
}

static void test_max(void **state)
{
	struct artset s;
	struct wire_artefact *a;
	size_t n;
	bool tr;

	(void)state;
	/* max 70000: the first file is cut inside its second chunk, the second kept empty */
	artset_init(&s, 70000);
	add(&s, "/a", 200000, 0, 65536, false, false);
	add(&s, "/a", 200000, 65536, 65536, false, true);
	add(&s, "/a", 200000, 131072, 65536, true, true);	/* beyond max: dropped data */
	add(&s, "/b", 10, 0, 0, true, true);
	artset_take(&s, &a, &n, &tr);
	assert_true(tr);
	assert_int_equal(n, 2);
	assert_int_equal(a[0].len, 70000);
	assert_true(a[0].truncated);
	assert_int_equal(a[1].len, 0);
	assert_true(a[1].truncated);
	artefacts_free(a, n);
	artset_fini(&s);

	/* a guest that ignores max: never more than max bytes kept */
	artset_init(&s, 1000);
	add(&s, "/x", 65536, 0, 65536, true, false);
	add(&s, "/y", 65536, 0, 65536, true, false);
	assert_int_equal(s.kept, 1000);
	artset_take(&s, &a, &n, &tr);
	assert_true(tr);
	assert_int_equal(a[0].len, 1000);
	assert_int_equal(a[1].len, 0);
	artefacts_free(a, n);
	/* max over the limit is capped */
	artset_init(&s, UINT64_MAX);
	assert_int_equal(s.max, WIRE_ARTEFACTS_MAX_LIMIT);
}

static void test_hostile(void **state)
{
	struct artset s;
	struct wire_artefact *a;
	size_t n;
	bool tr;
	char path[32];

	(void)state;
	artset_init(&s, 1 << 20);
	add(&s, "/a", 300, 0, 100, false, false);
	add(&s, "/a", 300, 150, 100, false, false);	/* gap: dropped */
	add(&s, "/a", 300, 50, 100, false, false);	/* overlap: dropped */
	add(&s, "/a", 300, 100, 100, true, false);	/* continues */
	add(&s, "/b", 100, 20, 80, true, false);	/* a new file not at 0: dropped */
	add(&s, "relative", 1, 0, 1, true, false);	/* not absolute: dropped */
	add(&s, "/a", 300, 200, 100, true, false);	/* after last: a new file not at 0 */
	add(&s, "/a", 5, 0, 5, true, false);		/* listed again from 0: a new artefact */
	artset_take(&s, &a, &n, &tr);
	assert_true(tr);
	assert_int_equal(n, 2);
	assert_int_equal(a[0].len, 200);
	assert_true(a[0].truncated);	/* len < size and a chunk was dropped */
	assert_int_equal(a[1].len, 5);
	assert_false(a[1].truncated);
	artefacts_free(a, n);
	artset_fini(&s);

	/* too many files: at most WIRE_ARTEFACTS_COUNT_MAX kept */
	artset_init(&s, 1 << 20);
	for (int i = 0; i < WIRE_ARTEFACTS_COUNT_MAX + 10; i++) {
		snprintf(path, sizeof(path), "/f%d", i);
		add(&s, path, 1, 0, 1, true, false);
	}
	artset_take(&s, &a, &n, &tr);
	assert_int_equal(n, WIRE_ARTEFACTS_COUNT_MAX);
	assert_true(tr);
	assert_string_equal(a[n - 1].path, "/f1023");
	artefacts_free(a, n);
	artset_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_honest),
		cmocka_unit_test(test_max),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
