/*
 * sysinit: applies the host's INIT frame. Sets the wall clock (a cloned VM wakes with the clock of
 * its snapshot) and mixes the host's seed into the kernel RNG, crediting it with RNDADDENTROPY so
 * the clones of one template never share a random stream. It must not log the seed.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static int sysinit_seed(const uint8_t *seed, size_t len, struct errmsg *reterr)
{
	/* struct rand_pool_info ends in a flexible array: room for it and the seed, int-aligned. */
	uint32_t words[(sizeof(struct rand_pool_info) + WIRE_SEED_MAX) / sizeof(uint32_t) + 1];
	struct rand_pool_info *pool = (struct rand_pool_info *)words;
	int fd, r = 0;

	if (len > WIRE_SEED_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "seed: %zu bytes, limit %d", len,
				  WIRE_SEED_MAX);
	fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errmsg_set(reterr, -errno, "open /dev/urandom");
	memset(words, 0, sizeof(words));
	pool->entropy_count = (int)(len * 8);
	pool->buf_size = (int)len;
	memcpy(pool->buf, seed, len);
	if (ioctl(fd, RNDADDENTROPY, pool) < 0) {
		/* Without the ioctl the bytes are still mixed in, just not credited. */
		r = fd_write_all(fd, seed, len);
		if (r < 0)
			errmsg_set(reterr, r, "write /dev/urandom");
	}
	explicit_bzero(words, sizeof(words));
	fd_close(fd);
	return r;
}

int sysinit_apply(uint64_t time_ns, const uint8_t *seed, size_t seed_len, struct errmsg *reterr)
{
	int r;

	if (time_ns) {
		struct timespec ts = {
			.tv_sec = (time_t)(time_ns / 1000000000ull),
			.tv_nsec = (long)(time_ns % 1000000000ull),
		};

		if (clock_settime(CLOCK_REALTIME, &ts) < 0)
			return errmsg_set(reterr, -errno, "clock_settime");
	}
	if (seed_len) {
		r = sysinit_seed(seed, seed_len, reterr);
		if (r < 0)
			return r;
	}
	return 0;
}
