/*
 * fuzz_frame_host: libFuzzer target for the host end of the agent channel (vm/host/channel.c):
 * the bytes a hostile guest writes to its virtio-serial port, through the real reassembly,
 * length checks and frame decoder, on a private libev loop over a socketpair. Every frame handed
 * up is freed; the channel must end broken (EOF at least) without crashing or leaking. Seeds:
 * schemas/vectors/frame with the 4-byte length header added (ops/fuzz does it).
 */
#include <ev.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "channel.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

struct state {
	unsigned frames;
	bool broken;
};

static int on_frame(struct channel *c, struct wire_frame *f, void *ud)
{
	struct state *s = ud;

	s->frames++;
	wire_frame_free(f);
	return 0;
}

static void on_broken(struct channel *c, int err, const char *why, void *ud)
{
	struct state *s = ud;

	if (err >= 0 || !why)
		__builtin_trap();
	s->broken = true;
}

static const struct channel_ops ops = { on_frame, on_broken };

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static struct ev_loop *loop;
	struct state s = { 0 };
	struct channel *c = NULL;
	size_t off = 0;
	int sv[2];

	if (!loop) {
		log_set_level(LOG_ERROR);
		loop = ev_loop_new(EVFLAG_AUTO);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (channel_new(loop, sv[0], &ops, &s, &c) < 0)
		abort();
	/* Feed in pieces as the socket takes them, letting the channel read in between. */
	while (off < n && !s.broken) {
		ssize_t w = write(sv[1], d + off, n - off);

		if (w > 0)
			off += (size_t)w;
		ev_run(loop, EVRUN_NOWAIT);
	}
	shutdown(sv[1], SHUT_WR);
	for (int i = 0; i < 10000 && !s.broken; i++)
		ev_run(loop, EVRUN_NOWAIT);
	if (!s.broken)
		__builtin_trap();	/* EOF must always end the channel */
	channel_free(c);
	ev_run(loop, EVRUN_NOWAIT);	/* deferred frees */
	close(sv[1]);
	return 0;
}
