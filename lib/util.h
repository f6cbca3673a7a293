/*
 * util: small fd and time helpers shared by every binary. libc only.
 */
#ifndef CORRAL_UTIL_H
#define CORRAL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Closes fd if ≥ 0, keeps errno; returns -1 so `fd = fd_close(fd);` resets the sentinel. */
int fd_close(int fd);
int fd_set_nonblock(int fd, int on);
/* Writes all n bytes (retries EINTR/short writes; blocking fds only). 0 or -errno. */
int fd_write_all(int fd, const void *p, size_t n);

/* Wall clock in ms since the epoch; monotonic clock in ms and ns. */
uint64_t time_now_ms(void);
uint64_t time_mono_ms(void);
uint64_t time_mono_ns(void);

/* Fills out with n random bytes from getrandom(2). 0 or -errno. */
int random_bytes(void *out, size_t n);
/* Writes a fresh random job id (32 lowercase hex chars + NUL) into out[33]. */
int random_hex_id(char out[33]);

#endif
