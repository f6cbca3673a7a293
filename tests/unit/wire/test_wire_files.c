/*
 * test_wire_files: unit tests of the issue-5 parts of libwire that vectors cannot express:
 * results owning artefacts (wire_result_clear, JSON with base64 data checked through jansson,
 * the 32 MiB total built in memory), encoder refusals of half-filled structs, and the path, subdir
 * and ref checkers called directly with edge cases.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "wire_test.h"

static void test_result_artefacts_json(void **state)
{
	uint8_t bin[256];
	struct wire_artefact a[3] = {
		{ .path = "/home/corral/out.txt", .size = 3, .mode = 0644, .data = (uint8_t *)"abc",
		  .len = 3 },
		{ .path = "/tmp/bin", .size = 1000, .mode = 0755, .data = bin, .len = 256,
		  .truncated = true },
		{ .path = "/tmp/q\"uote", .size = 0 },
	};
	struct wire_result r = { .state = WIRE_STATE_SUCCEEDED, .attempt = 1,
				 .artefacts = a, .nartefacts = 3, .artefacts_truncated = true };
	struct wire_result d;
	struct errmsg e;
	json_error_t jerr;
	json_t *j, *arr;
	struct buf enc, out;

	for (int i = 0; i < 256; i++)
		bin[i] = (uint8_t)i;
	strcpy(r.id, "j1");
	strcpy(r.commit, "0123456789abcdef0123456789abcdef01234567");
	r.t.fetch_ms = 7;
	r.t.mirror_hit = true;
	buf_init(&enc, 0);
	buf_init(&out, 0);
	assert_int_equal(wire_result_encode(&r, &enc, &e), 0);
	assert_int_equal(wire_result_decode(enc.data, enc.len, &d, &e), 0);
	assert_int_equal(d.nartefacts, 3);
	assert_memory_equal(d.artefacts[1].data, bin, 256);
	assert_null(d.artefacts[2].data);
	assert_true(d.t.mirror_hit);
	assert_int_equal(wire_result_to_json(&d, &out), 0);
	j = json_loadb((const char *)out.data, out.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		fail_msg("invalid JSON (%s): %.*s", jerr.text, (int)out.len, (const char *)out.data);
	assert_string_equal(json_string_value(json_object_get(j, "commit")), r.commit);
	assert_true(json_is_true(json_object_get(j, "artefacts_truncated")));
	assert_true(json_is_true(json_object_get(json_object_get(j, "timings"), "mirror_hit")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "timings"),
							    "fetch_ms")), 7);
	arr = json_object_get(j, "artefacts");
	assert_int_equal(json_array_size(arr), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "data_b64")),
			    "YWJj");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 1), "mode")),
			 0755);
	assert_true(json_is_true(json_object_get(json_array_get(arr, 1), "truncated")));
	/* 256 bytes → 344 chars ending "==", starting with base64 of 00 01 02 */
	assert_int_equal(strlen(json_string_value(json_object_get(json_array_get(arr, 1),
								   "data_b64"))), 344);
	assert_memory_equal(json_string_value(json_object_get(json_array_get(arr, 1), "data_b64")),
			    "AAEC", 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 2), "data_b64")),
			    "");
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 2), "path")),
			    "/tmp/q\"uote");
	json_decref(j);
	wire_result_clear(&d);
	assert_null(d.artefacts);
	assert_int_equal(d.nartefacts, 0);
	wire_result_clear(&d);
	wire_result_clear(NULL);
	buf_free(&enc);
	buf_free(&out);
}

static void test_result_artefacts_total(void **state)
{
	size_t big = 17u << 20, rest = (16u << 20);
	uint8_t *p = calloc(1, big);
	struct wire_artefact a[2] = {
		{ .path = "/a", .size = big, .data = p, .len = big },
		{ .path = "/b", .size = rest, .data = p, .len = rest },
	};
	struct wire_result r = { .state = WIRE_STATE_SUCCEEDED, .attempt = 1, .artefacts = a,
				 .nartefacts = 2 };
	struct wire_result d;
	struct errmsg e;
	struct buf enc;

	assert_non_null(p);
	strcpy(r.id, "j1");
	buf_init(&enc, 0);
	assert_int_equal(wire_result_encode(&r, &enc, &e), -EMSGSIZE);
	assert_non_null(strstr(e.msg, "artefacts: more than 33554432 bytes of data in total"));
	assert_int_equal(enc.len, 0);
	a[1].len = rest - 1;		/* exactly... one byte under the limit is fine */
	a[1].size = rest - 1;
	a[0].len = a[0].size = big - (1u << 20) + 1;
	assert_int_equal(wire_result_encode(&r, &enc, &e), 0);
	assert_int_equal(wire_result_decode(enc.data, enc.len, &d, &e), 0);
	assert_int_equal(d.artefacts[0].len + d.artefacts[1].len, 32u << 20);
	wire_result_clear(&d);
	/* a failed decode leaves the caller's struct alone and leaks nothing */
	memset(&d, 0x5a, sizeof(d));
	assert_true(wire_result_decode(enc.data, enc.len - 1, &d, &e) < 0);
	assert_int_equal(d.nartefacts, (size_t)0x5a5a5a5a5a5a5a5aull);
	a[0].path = NULL;
	buf_reset(&enc);
	assert_int_equal(wire_result_encode(&r, &enc, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "artefacts[0]: NULL path"));
	buf_free(&enc);
	free(p);
}

static void test_job_files_roundtrip(void **state)
{
	struct wire_job *j = wire_job_new(), *d = NULL;
	struct wire_file files[2] = {
		{ .path = "/home/corral/x.sh", .mode = 0755, .data = (uint8_t *)"#!/bin/sh\n",
		  .len = 10 },
		{ .path = "/tmp/empty", .mode = 0600 },
	};
	char *outputs[] = { "/home/corral/out/*", NULL };
	char *argv[] = { "sh", NULL };
	struct wire_repo repo = { .url = "https://example.org/r.git", .depth = 1 };
	struct errmsg e;
	struct buf enc;

	assert_non_null(j);
	assert_int_equal(j->artefacts_max, WIRE_ARTEFACTS_MAX_DEFAULT);
	strcpy(j->id, "j1");
	strcpy(j->image, "build");
	j->argv = argv;
	j->argc = 1;
	j->files = files;
	j->nfiles = 2;
	j->outputs = outputs;
	j->noutputs = 1;
	j->repo = &repo;
	buf_init(&enc, 0);
	assert_int_equal(wire_job_encode(j, &enc, &e), 0);
	assert_int_equal(wire_job_decode(enc.data, enc.len, &d, &e), 0);
	assert_string_equal(d->image, "build");
	assert_int_equal(d->nfiles, 2);
	assert_int_equal(d->files[0].mode, 0755);
	assert_memory_equal(d->files[0].data, "#!/bin/sh\n", 10);
	assert_null(d->files[1].data);
	assert_string_equal(d->outputs[0], "/home/corral/out/*");
	assert_null(d->outputs[1]);
	assert_string_equal(d->repo->ref, "HEAD");	/* NULL ref/subdir encode as defaults */
	assert_string_equal(d->repo->subdir, "repo");
	assert_int_equal(d->repo->depth, 1);
	wire_job_free(d);
	/* invalid values are refused by the encoder with the decoder's message */
	files[1].path = "/tmp/../etc/x";
	buf_reset(&enc);
	assert_int_equal(wire_job_encode(j, &enc, &e), -EINVAL);
	assert_string_equal(e.msg, "files[1].path: '..' path component not allowed");
	assert_int_equal(enc.len, 0);
	files[1].path = NULL;
	assert_int_equal(wire_job_encode(j, &enc, &e), -EINVAL);
	files[1].path = "/tmp/empty";
	repo.url = NULL;
	assert_int_equal(wire_job_encode(j, &enc, &e), -EINVAL);
	buf_free(&enc);
	j->argv = NULL;
	j->files = NULL;
	j->outputs = NULL;
	j->repo = NULL;
	wire_job_free(j);
}

static void test_frame_files_encode(void **state)
{
	char *pats[] = { "/tmp/*", NULL };
	struct wire_frame put = { .type = WIRE_FRAME_PUT, .path = "/home/corral/a",
				  .kind = WIRE_PUT_FILE, .mode = 0644, .data = (uint8_t *)"x",
				  .len = 1, .uid = 1000, .gid = 1000 };
	struct wire_frame get = { .type = WIRE_FRAME_GET, .id = 4, .patterns = pats,
				  .npatterns = 1, .max = 10, .uid = 1000, .gid = 1000 };
	struct wire_frame *d = NULL;
	struct errmsg e;
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(wire_frame_encode(&put, &b, &e), 0);
	assert_int_equal(wire_frame_decode(b.data + 4, b.len - 4, &d, &e), 0);
	assert_int_equal(d->type, WIRE_FRAME_PUT);
	assert_int_equal(d->id, 0);
	d = wire_frame_free(d);
	buf_reset(&b);
	put.kind = 7;
	assert_int_equal(wire_frame_encode(&put, &b, &e), -EINVAL);
	put.kind = WIRE_PUT_SYMLINK;		/* symlink without target */
	assert_int_equal(wire_frame_encode(&put, &b, &e), -EINVAL);
	put.kind = WIRE_PUT_FILE;
	put.path = NULL;
	assert_int_equal(wire_frame_encode(&put, &b, &e), -EINVAL);
	put.path = "/a";
	put.len = WIRE_CHUNK_MAX + 1;
	assert_int_equal(wire_frame_encode(&put, &b, &e), -EMSGSIZE);
	assert_int_equal(b.len, 0);
	assert_int_equal(wire_frame_encode(&get, &b, &e), 0);
	buf_reset(&b);
	get.npatterns = 0;
	assert_int_equal(wire_frame_encode(&get, &b, &e), -EINVAL);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void test_checkers(void **state)
{
	static const char *const good_paths[] = { "/a", "/home/corral/x", "//a", "/a/", "/.a",
						  "/a/..b", "/a/b...", "/-" };
	static const char *const bad_paths[] = { "", "a", "/", "//", "/..", "/a/../b", "/./a",
						 "/a/.", "/a/./" };
	static const char *const good_refs[] = { "HEAD", "main", "refs/heads/x", "v1.2.3",
						 "feature/a-b_c", "0123456789abcdef0123456789abcdef01234567" };
	static const char *const bad_refs[] = { "", "-x", "/x", "x/", "a..b", "a//b", "a@{1}",
						"x.lock", ".x", "a/.b", "a b", "a~1", "a^", "a:b", "a?",
						"a*", "a[", "a\\b", "x.", "@", "a\x01" };
	struct errmsg e;

	for (size_t i = 0; i < sizeof(good_paths) / sizeof(*good_paths); i++)
		if (wire_check_path("p", good_paths[i], strlen(good_paths[i]), &e) != 0)
			fail_msg("path %s refused: %s", good_paths[i], e.msg);
	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(*bad_paths); i++)
		if (wire_check_path("p", bad_paths[i], strlen(bad_paths[i]), &e) == 0)
			fail_msg("path '%s' accepted", bad_paths[i]);
	/* not NUL-terminated: the checker reads only len bytes */
	assert_int_equal(wire_check_path("p", "/a/..XYZ", 5, &e), -EINVAL);
	assert_int_equal(wire_check_path("p", "/ab/c", 2, &e), 0);
	for (size_t i = 0; i < sizeof(good_refs) / sizeof(*good_refs); i++)
		if (wire_check_ref("r", good_refs[i], strlen(good_refs[i]), &e) != 0)
			fail_msg("ref %s refused: %s", good_refs[i], e.msg);
	for (size_t i = 0; i < sizeof(bad_refs) / sizeof(*bad_refs); i++)
		if (wire_check_ref("r", bad_refs[i], strlen(bad_refs[i]), &e) == 0)
			fail_msg("ref '%s' accepted", bad_refs[i]);
	assert_int_equal(wire_check_subdir("s", "a/b", 3, &e), 0);
	assert_int_equal(wire_check_subdir("s", "a//b", 4, &e), -EINVAL);
	assert_int_equal(wire_check_subdir("s", "..", 2, &e), -EINVAL);
	assert_int_equal(wire_check_subdir("s", "/a", 2, &e), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result_artefacts_json),
		cmocka_unit_test(test_result_artefacts_total),
		cmocka_unit_test(test_job_files_roundtrip),
		cmocka_unit_test(test_frame_files_encode),
		cmocka_unit_test(test_checkers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
