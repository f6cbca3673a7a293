/*
 * tpl_memfd: the read-only copy of a template's RAM that jailed clones map (vm/jailer/mem.c says
 * why a file will not do under QEMU 7.2). tpl_memfd_make() copies the snapshot's `mem` file into
 * a memfd and seals it against every write (F_SEAL_WRITE|SHRINK|GROW|SEAL); clones get it as
 * fd QEMU_MEM_FD and map it MAP_PRIVATE through /proc/self/fd/N.
 *
 * The copy is sparse: holes (SEEK_DATA/SEEK_HOLE) and all-zero blocks are skipped, so it holds
 * only the pages the saved guest touched. It costs that much memory once per template on top of
 * the tmpfs file, which stays so that a restarted worker reuses the snapshot (template.c). It
 * runs once per template (build or reuse), not per clone: ~0.1-0.3 s for 256 MiB here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "vm_int.h"

#define TPL_MEMFD_CHUNK (1u << 20)
#define TPL_MEMFD_BLOCK 4096u
#define TPL_MEMFD_SEALS (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

static bool all_zero(const unsigned char *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* Writes the non-zero blocks of buf[0..n) at offset off. */
static int put_nonzero(int out, const unsigned char *buf, size_t n, off_t off, size_t *bytes)
{
	for (size_t i = 0; i < n; i += TPL_MEMFD_BLOCK) {
		size_t len = n - i < TPL_MEMFD_BLOCK ? n - i : TPL_MEMFD_BLOCK;

		if (all_zero(buf + i, len))
			continue;
		if (pwrite(out, buf + i, len, off + (off_t)i) != (ssize_t)len)
			return errno ? -errno : -EIO;
		*bytes += len;
	}
	return 0;
}

static int copy_sparse(int in, int out, off_t size, size_t *bytes, struct errmsg *reterr)
{
	unsigned char *buf = malloc(TPL_MEMFD_CHUNK);
	off_t pos = 0;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	while (pos < size) {
		off_t data = lseek(in, pos, SEEK_DATA), hole;

		if (data < 0) {
			if (errno != ENXIO)
				r = errmsg_set(reterr, -errno, "SEEK_DATA: %s", errno_name(errno));
			break;	/* ENXIO: only a hole is left */
		}
		hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0) {
			r = errmsg_set(reterr, -errno, "SEEK_HOLE: %s", errno_name(errno));
			break;
		}
		for (pos = data; pos < hole;) {
			size_t want = (size_t)(hole - pos) < TPL_MEMFD_CHUNK ? (size_t)(hole - pos)
									   : TPL_MEMFD_CHUNK;
			ssize_t n = pread(in, buf, want, pos);

			if (n <= 0) {
				r = errmsg_set(reterr, n < 0 ? -errno : -EIO, "read RAM file: %s",
					       n < 0 ? errno_name(errno) : "short");
				goto out;
			}
			r = put_nonzero(out, buf, (size_t)n, pos, bytes);
			if (r < 0) {
				errmsg_set(reterr, r, "write memfd: %s", errno_name(-r));
				goto out;
			}
			pos += n;
		}
	}
out:
	free(buf);
	return r;
}

int tpl_memfd_make(const char *mem_path, const char *name, size_t *bytes, struct errmsg *reterr)
{
	struct stat st;
	int in = -1, out = -1, r;

	*bytes = 0;
	in = open(mem_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0 || fstat(in, &st) < 0) {
		r = errmsg_set(reterr, -errno, "open %s: %s", mem_path, errno_name(errno));
		goto fail;
	}
	out = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (out < 0) {
		r = errmsg_set(reterr, -errno, "memfd_create: %s", errno_name(errno));
		goto fail;
	}
	if (ftruncate(out, st.st_size) < 0) {
		r = errmsg_set(reterr, -errno, "memfd size %lld: %s", (long long)st.st_size,
			       errno_name(errno));
		goto fail;
	}
	r = copy_sparse(in, out, st.st_size, bytes, reterr);
	if (r < 0)
		goto fail;
	if (fcntl(out, F_ADD_SEALS, TPL_MEMFD_SEALS) < 0) {
		r = errmsg_set(reterr, -errno, "seal memfd: %s", errno_name(errno));
		goto fail;
	}
	close(in);
	return out;
fail:
	fd_close(in);
	fd_close(out);
	return r;
}
