/*
 * fuzz_agent_put: libFuzzer target for the guest agent's PUT handling (vm/agent/put.c): the input
 * is a stream of framed agent frames (like fuzz_frame_guest's seeds); every PUT/PUTEND is applied
 * below a scratch root directory, exactly as the agent does below "/". Whatever the frames say
 * (symlinks then files through them, "..", absolute targets, appends), nothing may appear outside
 * the root: the root's parent must hold only the root and a sentinel file that must keep its
 * bytes. Run as root for the real chown path (else puts fail early, which still fuzzes the
 * walk's refusals). The root is emptied after each input.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static char outer[64], root[96], sentinel[112];
static int root_fd = -1;

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	if (ftw->level > 0)
		remove(p);
	return 0;
}

static void cleanup(void)
{
	nftw(outer, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	rmdir(outer);
}

static void setup_once(void)
{
	int fd;

	if (root_fd >= 0)
		return;
	log_set_level(LOG_ERROR);
	strcpy(outer, "/tmp/fz-put.XXXXXX");
	if (!mkdtemp(outer))
		abort();
	snprintf(root, sizeof(root), "%s/root", outer);
	snprintf(sentinel, sizeof(sentinel), "%s/sentinel", outer);
	if (mkdir(root, 0755) < 0)
		abort();
	fd = open(sentinel, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "keep", 4) != 4)
		abort();
	close(fd);
	root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		abort();
	atexit(cleanup);
}

/* Only "root" and "sentinel" (with its bytes) may exist next to the root. */
static void check_outside(void)
{
	char buf[8] = "";
	struct dirent *e;
	DIR *dir = opendir(outer);
	int fd;

	if (!dir)
		abort();
	while ((e = readdir(dir)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, "root") && strcmp(e->d_name, "sentinel"))
			__builtin_trap();	/* a put escaped the root */
	closedir(dir);
	fd = open(sentinel, O_RDONLY | O_NOFOLLOW);
	if (fd < 0 || read(fd, buf, sizeof(buf)) != 4 || memcmp(buf, "keep", 4))
		__builtin_trap();	/* written through a link */
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct wire_frame *f, reply;
	struct put_state ps;
	const uint8_t *payload;
	struct buf in;
	size_t len;

	setup_once();
	put_init(&ps, root_fd);
	buf_init(&in, 0);
	if (buf_append(&in, d, n) < 0)
		abort();
	while (wire_frame_split(&in, &payload, &len) == 1) {
		f = NULL;
		if (wire_frame_decode(payload, len, &f, NULL) == 0) {
			if (f->type == WIRE_FRAME_PUT)
				(void)put_frame(&ps, f);
			else if (f->type == WIRE_FRAME_PUTEND)
				put_end(&ps, f->id, &reply);
			wire_frame_free(f);
		}
		buf_consume(&in, WIRE_FRAME_HEADER + len);
	}
	put_end(&ps, 1, &reply);
	put_free(&ps);
	buf_free(&in);
	check_outside();
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
