/*
 * evict: keeps the mirror cache under its byte cap by deleting least recently used mirrors
 * (oldest <key>.stamp first). Runs inside the jail as the fetch uid after each fetch. A mirror
 * whose lock another process holds (a fetch or an export in progress) is skipped; the one just
 * fetched is never evicted. A victim is first renamed to <key>.trash-<pid> under its lock, so an
 * interrupted delete never leaves a half mirror under a live name. It walks with FTW_PHYS and
 * never follows a symlink.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch.h"
#include "util.h"

#define EVICT_MIRRORS_MAX 4096		/* mirrors considered in one pass */
#define EVICT_FDS 16

struct mirror {
	char key[FETCH_KEY_HEX + 1];
	uint64_t bytes;
	int64_t stamp;			/* mtime of <key>.stamp, 0 = none */
};

static uint64_t walk_total;

static int add_size(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)path;
	(void)flag;
	(void)f;
	walk_total += (uint64_t)st->st_blocks * 512u;
	return 0;
}

static uint64_t tree_bytes(const char *path)
{
	walk_total = 0;
	(void)nftw(path, add_size, EVICT_FDS, FTW_PHYS | FTW_MOUNT);
	return walk_total;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_DP)
		(void)rmdir(path);
	else
		(void)unlink(path);
	return 0;
}

void fetch_rm_tree(const char *path)
{
	(void)nftw(path, rm_one, EVICT_FDS, FTW_PHYS | FTW_DEPTH | FTW_MOUNT);
}

static bool is_key(const char *name, size_t n)
{
	if (n != FETCH_KEY_HEX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return true;
}

static int by_stamp(const void *a, const void *b)
{
	const struct mirror *x = a, *y = b;

	return x->stamp < y->stamp ? -1 : x->stamp > y->stamp;
}

/* Lists <key>.git mirrors with their size and stamp; returns the count. */
static size_t list_mirrors(const char *cache, struct mirror *m, uint64_t *total)
{
	char path[FETCH_PATH_MAX];
	struct dirent *de;
	struct stat st;
	size_t n = 0;
	DIR *d = opendir(cache);

	*total = 0;
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < EVICT_MIRRORS_MAX) {
		size_t len = strlen(de->d_name);

		if (len == FETCH_KEY_HEX + 4 && strcmp(de->d_name + FETCH_KEY_HEX, ".git") == 0 &&
		    is_key(de->d_name, FETCH_KEY_HEX)) {
			memcpy(m[n].key, de->d_name, FETCH_KEY_HEX);
			m[n].key[FETCH_KEY_HEX] = '\0';
			snprintf(path, sizeof(path), "%s/%s", cache, de->d_name);
			m[n].bytes = tree_bytes(path);
			snprintf(path, sizeof(path), "%s/%s.stamp", cache, m[n].key);
			m[n].stamp = lstat(path, &st) == 0 ? (int64_t)st.st_mtime : 0;
			*total += m[n].bytes;
			n++;
		} else if (strstr(de->d_name, ".trash-")) {
			/* renamed under its lock by an eviction that was killed: garbage */
			snprintf(path, sizeof(path), "%s/%s", cache, de->d_name);
			fetch_rm_tree(path);
		}
	}
	closedir(d);
	return n;
}

static bool evict_one(const char *cache, const struct mirror *m)
{
	char lock[FETCH_PATH_MAX], git[FETCH_PATH_MAX], trash[FETCH_PATH_MAX];
	bool done = false;
	int fd;

	snprintf(lock, sizeof(lock), "%s/%s.lock", cache, m->key);
	snprintf(git, sizeof(git), "%s/%s.git", cache, m->key);
	snprintf(trash, sizeof(trash), "%s/%s.trash-%d", cache, m->key, (int)getpid());
	fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && rename(git, trash) == 0) {
		fetch_rm_tree(trash);
		snprintf(git, sizeof(git), "%s/%s.stamp", cache, m->key);
		(void)unlink(git);
		done = true;
	}
	fd_close(fd);
	return done;
}

int fetch_evict(const char *cache, uint64_t max, const char *keep_key)
{
	struct mirror *m;
	uint64_t total;
	size_t n;
	int evicted = 0;

	if (max == 0)
		return 0;
	m = calloc(EVICT_MIRRORS_MAX, sizeof(*m));
	if (!m)
		return 0;
	n = list_mirrors(cache, m, &total);
	qsort(m, n, sizeof(*m), by_stamp);
	for (size_t i = 0; i < n && total > max; i++) {
		if (strcmp(m[i].key, keep_key) == 0)
			continue;
		if (evict_one(cache, &m[i])) {
			total -= m[i].bytes < total ? m[i].bytes : total;
			evicted++;
		}
	}
	free(m);
	return evicted;
}
