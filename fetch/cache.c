/*
 * cache: where a URL's mirror lives in the cache dir and how processes share it. A mirror is
 * <cache>/<key>.git with key = the first FETCH_KEY_HEX hex digits of sha256(url); <key>.lock is
 * flock()ed (exclusive while fetching or evicting, shared while exporting) so concurrent
 * corral-fetch processes on one host serialize; <key>.stamp's mtime is the LRU clock.
 * It must not follow symlinks it did not create: every open is O_NOFOLLOW.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch.h"
#include "util.h"

int fetch_paths_of(const char *cache, const char *url, struct fetch_paths *p,
		   struct errmsg *reterr)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t h[32];
	int n = 0;

	sha256(url, strlen(url), h);
	for (unsigned i = 0; i < FETCH_KEY_HEX / 2; i++) {
		p->key[2 * i] = hex[h[i] >> 4];
		p->key[2 * i + 1] = hex[h[i] & 15];
	}
	p->key[FETCH_KEY_HEX] = '\0';
	n |= snprintf(p->git, sizeof(p->git), "%s/%s.git", cache, p->key) >= (int)sizeof(p->git);
	n |= snprintf(p->tmp, sizeof(p->tmp), "%s/%s.new", cache, p->key) >= (int)sizeof(p->tmp);
	n |= snprintf(p->lock, sizeof(p->lock), "%s/%s.lock", cache, p->key) >=
	     (int)sizeof(p->lock);
	n |= snprintf(p->stamp, sizeof(p->stamp), "%s/%s.stamp", cache, p->key) >=
	     (int)sizeof(p->stamp);
	if (n)
		return errmsg_set(reterr, FETCH_EXIT_USAGE, "repo: cache path too long");
	return 0;
}

int fetch_lock(const struct fetch_paths *p, int how, struct errmsg *reterr)
{
	int fd = open(p->lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: open cache lock: %s",
				   errno_name(errno));
	while (flock(fd, how) < 0) {
		if (errno != EINTR) {
			(void)errmsg_set(reterr, FETCH_EXIT_INTERNAL, "repo: lock cache: %s",
					 errno_name(errno));
			fd_close(fd);
			return -FETCH_EXIT_INTERNAL;
		}
	}
	return fd;
}

void fetch_touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return;
	(void)futimens(fd, NULL);
	fd_close(fd);
}
