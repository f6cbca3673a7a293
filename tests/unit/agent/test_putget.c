/*
 * Unit tests of vm/agent/put.c and get.c on the host, against a real filesystem under a
 * temporary directory (as root, like the agent: chown needs it; skipped otherwise). Puts resolve
 * below a root fd, so "/" in a frame is the temp dir. Checks: files/dirs/symlinks land with the
 * right bytes, mode and owner; parents are created 0755 owned by the user; a planted symlink in
 * the path or at the leaf is never written through; the first error of a batch is the one
 * reported and the next batch starts clean; appends only continue the batch's last file; uid 0
 * is refused. Gets: glob matches as the user, symlinks/dirs/unreadable files skipped, chunk
 * offsets, the max cut and the truncated flags, GETEND counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent.h"

#define UID 1000u
#define GID 1000u

static char tmpdir[64];

/* The current fsuid (setfsuid with an invalid id changes nothing and returns it). */
static int getfsuid_probe(void)
{
	return setfsuid((uid_t)-1);
}
static int rootfd = -1;

static int setup(void **state)
{
	if (geteuid() != 0)
		return 0;
	strcpy(tmpdir, "/tmp/corral-putget.XXXXXX");
	if (!mkdtemp(tmpdir) || chmod(tmpdir, 0755) < 0)
		return -1;
	rootfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return rootfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];

	if (rootfd >= 0)
		close(rootfd);
	if (tmpdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

static struct wire_frame putf(const char *path, const char *data, bool append)
{
	return (struct wire_frame){ .type = WIRE_FRAME_PUT, .path = (char *)path,
				    .kind = WIRE_PUT_FILE, .mode = 0644, .data = (uint8_t *)data,
				    .len = data ? strlen(data) : 0, .append = append, .uid = UID,
				    .gid = GID };
}

static void at(char *out, size_t n, const char *rel)
{
	snprintf(out, n, "%s%s", tmpdir, rel);
}

static void check_file(const char *rel, const char *want, mode_t mode, uid_t uid)
{
	char p[256], got[256] = "";
	struct stat st;
	int fd;
	ssize_t n;

	at(p, sizeof(p), rel);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, mode);
	assert_int_equal(st.st_uid, uid);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, got, sizeof(got) - 1);
	close(fd);
	assert_true(n >= 0);
	got[n] = '\0';
	assert_string_equal(got, want);
}

static void test_put_batch(void **state)
{
	struct put_state ps;
	struct wire_frame f, reply;
	char p[256];
	struct stat st;

	if (geteuid() != 0)
		skip();
	put_init(&ps, rootfd);
	f = putf("/home/corral/a/b/c.txt", "hello\n", false);
	assert_int_equal(put_frame(&ps, &f), 0);
	f = putf("/home/corral/a/b/c.txt", "more", true);
	assert_int_equal(put_frame(&ps, &f), 0);
	f = putf("/home/corral/run.sh", "#!/bin/sh\n", false);
	f.mode = 0755;
	assert_int_equal(put_frame(&ps, &f), 0);
	f = (struct wire_frame){ .type = WIRE_FRAME_PUT, .path = "/home/corral/d", .kind = WIRE_PUT_DIR,
				 .mode = 0700, .uid = UID, .gid = GID };
	assert_int_equal(put_frame(&ps, &f), 0);
	f = (struct wire_frame){ .type = WIRE_FRAME_PUT, .path = "/home/corral/l",
				 .kind = WIRE_PUT_SYMLINK, .target = "/etc/passwd", .uid = UID,
				 .gid = GID };
	assert_int_equal(put_frame(&ps, &f), 0);
	put_end(&ps, 5, &reply);
	assert_int_equal(reply.type, WIRE_FRAME_PUTOK);
	assert_int_equal(reply.id, 5);
	assert_int_equal(reply.count, 5);
	assert_int_equal(reply.bytes, 6 + 4 + 10);
	check_file("/home/corral/a/b/c.txt", "hello\nmore", 0644, UID);
	check_file("/home/corral/run.sh", "#!/bin/sh\n", 0755, UID);
	at(p, sizeof(p), "/home/corral/a");
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_uid, UID);
	assert_int_equal(st.st_gid, GID);
	at(p, sizeof(p), "/home/corral/d");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	at(p, sizeof(p), "/home/corral/l");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(st.st_uid, UID);
	put_free(&ps);
}

static void test_put_refusals(void **state)
{
	struct put_state ps;
	struct wire_frame f, reply;
	char p[256], t[256];
	struct stat st;
	int r;

	if (geteuid() != 0)
		skip();
	put_init(&ps, rootfd);
	/* a symlink the user planted: /evil -> <tmp>/victim; a put through it must fail */
	at(t, sizeof(t), "/victim");
	assert_int_equal(mkdir(t, 0755), 0);
	at(p, sizeof(p), "/evil");
	assert_int_equal(symlink(t, p), 0);
	f = putf("/evil/x", "owned", false);
	r = put_frame(&ps, &f);
	assert_true(r == -ELOOP || r == -ENOTDIR);	/* O_DIRECTORY|O_NOFOLLOW on a symlink */
	/* later puts of the batch are skipped; the first error is reported */
	f = putf("/fine", "x", false);
	assert_int_equal(put_frame(&ps, &f), r);
	put_end(&ps, 6, &reply);
	assert_int_equal(reply.type, WIRE_FRAME_ERROR);
	assert_int_equal(reply.id, 6);
	assert_int_equal(reply.err, -r);
	assert_non_null(strstr(reply.message, "put /evil/x: 'evil' is a symlink"));
	at(p, sizeof(p), "/victim/x");
	assert_int_equal(lstat(p, &st), -1);
	at(p, sizeof(p), "/fine");
	assert_int_equal(lstat(p, &st), -1);
	/* a symlink at the leaf: O_EXCL|O_NOFOLLOW, never written through */
	at(p, sizeof(p), "/leaf");
	at(t, sizeof(t), "/victim/target");
	assert_int_equal(symlink(t, p), 0);
	f = putf("/leaf", "x", false);
	assert_int_equal(put_frame(&ps, &f), -EEXIST);
	put_end(&ps, 7, &reply);
	assert_int_equal(reply.type, WIRE_FRAME_ERROR);
	assert_int_equal(lstat(t, &st), -1);
	/* the next batch starts clean */
	f = putf("/fine", "x", false);
	assert_int_equal(put_frame(&ps, &f), 0);
	/* an existing file is not overwritten */
	assert_int_equal(put_frame(&ps, &f), -EEXIST);
	put_end(&ps, 8, &reply);
	assert_int_equal(reply.type, WIRE_FRAME_ERROR);
	assert_non_null(strstr(reply.message, "put /fine: create: EEXIST"));
	/* append only continues the batch's last created file */
	f = putf("/fine", "y", true);
	assert_int_equal(put_frame(&ps, &f), -EBADF);
	put_end(&ps, 9, &reply);
	assert_int_equal(reply.type, WIRE_FRAME_ERROR);
	check_file("/fine", "x", 0644, UID);
	/* uid 0 */
	f = putf("/root-file", "x", false);
	f.uid = 0;
	assert_int_equal(put_frame(&ps, &f), -EPERM);
	put_end(&ps, 10, &reply);
	assert_int_equal(reply.err, EPERM);
	/* ".." cannot climb out even if a frame skipped the decoder */
	f = putf("/a/../../etc/x", "x", false);
	assert_true(put_frame(&ps, &f) < 0);
	put_end(&ps, 11, &reply);
	assert_int_equal(reply.type, WIRE_FRAME_ERROR);
	/* a dir put over someone else's existing directory leaves it alone */
	at(p, sizeof(p), "/rootdir");
	assert_int_equal(mkdir(p, 0711), 0);
	f = (struct wire_frame){ .type = WIRE_FRAME_PUT, .path = "/rootdir", .kind = WIRE_PUT_DIR,
				 .mode = 0777, .uid = UID, .gid = GID };
	assert_int_equal(put_frame(&ps, &f), 0);
	put_end(&ps, 12, &reply);
	assert_int_equal(reply.type, WIRE_FRAME_PUTOK);
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_mode & 07777, 0711);
	put_free(&ps);
}

/* Pops every frame queued in c->out. */
static size_t pop_all(struct chan *c, struct wire_frame **out, size_t max)
{
	size_t n = 0;
	const uint8_t *payload;
	size_t len;

	while (n < max && wire_frame_split(&c->out, &payload, &len) == 1) {
		assert_int_equal(wire_frame_decode(payload, len, &out[n], NULL), 0);
		buf_consume(&c->out, WIRE_FRAME_HEADER + len);
		n++;
	}
	return n;
}

static void write_file(const char *rel, size_t size, mode_t mode, uid_t uid)
{
	char p[256];
	int fd;

	at(p, sizeof(p), rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	for (size_t i = 0; i < size; i++) {
		uint8_t b = (uint8_t)(i * 7);

		assert_int_equal(write(fd, &b, 1), 1);
	}
	assert_int_equal(fchown(fd, uid, uid), 0);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void run_get(struct get_op *g, struct chan *c, const char *const *pats, size_t np,
		    uint64_t max)
{
	char *full[8];
	struct wire_frame req = { .type = WIRE_FRAME_GET, .id = 3, .npatterns = np, .max = max,
				  .uid = UID, .gid = GID };
	struct errmsg e;

	for (size_t i = 0; i < np; i++) {
		full[i] = malloc(256);
		at(full[i], 256, pats[i]);
	}
	full[np] = NULL;
	req.patterns = full;
	assert_int_equal(get_start(g, &req, &e), 0);
	assert_int_equal(get_start(g, &req, &e), -EBUSY);
	for (int i = 0; i < 10000 && get_active(g); i++)
		get_step(g, c);
	assert_false(get_active(g));
	for (size_t i = 0; i < np; i++)
		free(full[i]);
}

static void test_get(void **state)
{
	static const char *const pats[] = { "/out/*.bin", "/out/sub", "/out/link", "/out/a.bin",
					    "/out/secret", "/out/none*" };
	struct wire_frame *fr[64];
	struct get_op g = { .fd = -1 };
	struct chan c;
	char p[256], t[256];
	size_t n;

	if (geteuid() != 0)
		skip();
	chan_init(&c, -1, true);
	at(p, sizeof(p), "/out");
	assert_int_equal(mkdir(p, 0755), 0);
	write_file("/out/a.bin", 150000, 0640, UID);	/* 3 chunks */
	write_file("/out/b.bin", 0, 0600, UID);		/* empty */
	write_file("/out/secret", 10, 0600, 0);		/* root's: not readable by the user */
	at(p, sizeof(p), "/out/sub");
	assert_int_equal(mkdir(p, 0755), 0);
	at(p, sizeof(p), "/out/link");
	at(t, sizeof(t), "/out/a.bin");
	assert_int_equal(symlink(t, p), 0);
	run_get(&g, &c, pats, 6, 1u << 20);
	n = pop_all(&c, fr, 64);
	/* a.bin ×3 (offsets 0, 65536, 131072), b.bin ×1, getend; a.bin listed twice: once */
	assert_int_equal(n, 5);
	assert_int_equal(fr[0]->type, WIRE_FRAME_FILE);
	assert_int_equal(fr[0]->offset, 0);
	assert_int_equal(fr[0]->len, 65536);
	assert_int_equal(fr[0]->size, 150000);
	assert_int_equal(fr[0]->mode, 0640);
	assert_false(fr[0]->last);
	assert_int_equal(fr[1]->offset, 65536);
	assert_int_equal(fr[2]->offset, 131072);
	assert_int_equal(fr[2]->len, 150000 - 131072);
	assert_true(fr[2]->last);
	assert_false(fr[2]->truncated);
	assert_int_equal(fr[2]->data[0], (uint8_t)(131072 * 7));
	assert_non_null(strstr(fr[3]->path, "/out/b.bin"));
	assert_int_equal(fr[3]->len, 0);
	assert_true(fr[3]->last);
	assert_int_equal(fr[4]->type, WIRE_FRAME_GETEND);
	assert_int_equal(fr[4]->count, 2);
	assert_false(fr[4]->truncated);
	for (size_t i = 0; i < n; i++)
		wire_frame_free(fr[i]);

	/* max 70000: a.bin cut after 70000 bytes, b.bin (empty) complete, c.bin listed without data */
	write_file("/out/c.bin", 5, 0644, UID);
	run_get(&g, &c, pats, 1, 70000);
	n = pop_all(&c, fr, 64);
	assert_int_equal(n, 5);
	assert_int_equal(fr[1]->len, 70000 - 65536);
	assert_true(fr[1]->last);
	assert_true(fr[1]->truncated);
	assert_true(fr[2]->last);		/* b.bin: empty, whole */
	assert_false(fr[2]->truncated);
	assert_non_null(strstr(fr[3]->path, "/out/c.bin"));
	assert_int_equal(fr[3]->len, 0);
	assert_int_equal(fr[3]->size, 5);
	assert_true(fr[3]->truncated);
	assert_int_equal(fr[4]->type, WIRE_FRAME_GETEND);
	assert_int_equal(fr[4]->count, 3);
	assert_true(fr[4]->truncated);
	for (size_t i = 0; i < n; i++)
		wire_frame_free(fr[i]);

	/* uid 0 is refused */
	{
		char *pp[] = { "/tmp", NULL };
		struct wire_frame req = { .type = WIRE_FRAME_GET, .id = 4, .patterns = pp,
					  .npatterns = 1, .max = 1, .uid = 0, .gid = 0 };
		struct errmsg e;

		assert_int_equal(get_start(&g, &req, &e), -EPERM);
	}
	assert_int_equal(getfsuid_probe(), 0);
	chan_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_batch),
		cmocka_unit_test(test_put_refusals),
		cmocka_unit_test(test_get),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
