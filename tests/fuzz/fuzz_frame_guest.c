/*
 * fuzz_frame_guest: libFuzzer target for the guest agent's reader (vm/agent/chan.c): the bytes
 * a hostile or broken host sends down the port, through the agent's bounded input buffer,
 * length check, reassembly and decoder. Garbage must be answered (ERROR frames queued, bounded)
 * and skipped; the reader must never fail or grow past AGENT_INBUF_MAX. Seeds: framed
 * schemas/vectors/frame (ops/fuzz adds the header).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct wire_frame *f;
	struct chan c;
	size_t off = 0;
	int sv[2], r;

	log_set_level(LOG_ERROR);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	chan_init(&c, sv[0], true);
	for (;;) {
		if (off < n) {
			ssize_t w = write(sv[1], d + off, n - off);

			if (w > 0)
				off += (size_t)w;
		} else if (off == n) {
			shutdown(sv[1], SHUT_WR);
			off++;
		}
		r = chan_fill(&c);
		if (c.in.len > AGENT_INBUF_MAX)
			__builtin_trap();
		while (chan_next(&c, &f) == 1)
			wire_frame_free(f);
		if (r < 0)
			break;
	}
	if (r != -EPIPE && !c.eof)
		__builtin_trap();
	chan_free(&c);	/* does not close the fd */
	close(sv[0]);
	close(sv[1]);
	return 0;
}
