/*
 * channel: the host end of the guest agent's virtio-serial port (a unix socket QEMU serves).
 * Reassembles libwire frames from the byte stream, decodes them and hands each to the owner;
 * encodes outgoing frames into a bounded queue written when the socket is writable. The guest
 * is untrusted: an oversize or undecodable frame breaks the channel with a precise reason and
 * nothing else happens. It must not interpret frames: vm.c does.
 */
#ifndef CORRAL_CHANNEL_H
#define CORRAL_CHANNEL_H

#include "errmsg.h"
#include "wire.h"

/* Queued bytes to the guest. Large enough that a whole 64 MiB repo checkout streamed as PUT frames
 * (data + per-chunk path/framing overhead) fits even without flow control; callers streaming bulk
 * data should still keep channel_backlog() under VM_SEND_BACKLOG_HINT (vm.h) so memory stays
 * small. The queue grows on demand: an idle VM holds none of it. */
#define CHANNEL_OUTQ_MAX (96u * 1024u * 1024u)
#define CHANNEL_READ_CHUNK (128u * 1024u)
#define CHANNEL_READS_PER_WAKEUP 16	/* then yield to the loop, so one VM cannot starve others */

struct ev_loop;
struct channel;

struct channel_ops {
	/* One frame; ownership of f passes to the callee. Return 0 to go on, or negative to stop
	 * reading. The callee may channel_free() the channel (the free is deferred until the
	 * callback returns). */
	int (*frame)(struct channel *c, struct wire_frame *f, void *ud);
	/* The channel is unusable: EOF, I/O error, oversize or undecodable frame. Nothing follows;
	 * the callee frees the channel when it likes. */
	void (*broken)(struct channel *c, int err, const char *why, void *ud);
};

/* Takes ownership of fd (connected, non-blocking), even on failure. */
int channel_new(struct ev_loop *loop, int fd, const struct channel_ops *ops, void *ud,
		struct channel **ret);
/* Encodes f and queues it. 0, -ENOBUFS (queue over CHANNEL_OUTQ_MAX), -EPIPE (broken), or an
 * encoding error with reterr. Never writes or calls back synchronously. */
int channel_send(struct channel *c, const struct wire_frame *f, struct errmsg *reterr);
/* Queues already-encoded frames (header + payload each) as they are, after checking the framing
 * with wire_frame_split(): whole frames only, each ≤ WIRE_FRAME_MAX. Payloads are not decoded
 * (the agent validates them). 0, -EINVAL (bad framing), -ENOBUFS, -EPIPE. */
int channel_send_raw(struct channel *c, const void *frames, size_t len, struct errmsg *reterr);
/* Bytes queued towards the guest and not yet written. */
size_t channel_backlog(const struct channel *c);
/* NULL-safe; returns NULL. */
struct channel *channel_free(struct channel *c);

#endif
