/*
 * Unit tests of vm/agent/chan.c: garbage and oversized input are answered with ERROR frames and
 * never stop the decoder; a host hangup drops a torn output frame and any unsent READY so the next
 * host starts on a frame boundary with exactly one READY. Uses a pipe as the "port" (no sockets,
 * no sleeps).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent.h"

static void feed(struct chan *c, const void *p, size_t n)
{
	assert_int_equal(buf_append(&c->in, p, n), 0);
}

static void feed_frame(struct chan *c, const struct wire_frame *f)
{
	struct buf tmp;

	buf_init(&tmp, 0);
	assert_int_equal(wire_frame_encode(f, &tmp, NULL), 0);
	feed(c, tmp.data, tmp.len);
	buf_free(&tmp);
}

/* Takes the first frame off b, decoded. */
static struct wire_frame *pop_buf(struct buf *b)
{
	struct wire_frame *f = NULL;
	const uint8_t *payload;
	size_t len;

	assert_int_equal(wire_frame_split(b, &payload, &len), 1);
	assert_int_equal(wire_frame_decode(payload, len, &f, NULL), 0);
	buf_consume(b, WIRE_FRAME_HEADER + len);
	return f;
}

static struct wire_frame *pop_out(struct chan *c)
{
	return pop_buf(&c->out);
}

static void test_garbage_then_valid(void **state)
{
	struct wire_frame sig = { .type = WIRE_FRAME_SIGNAL, .id = 7, .signal = 9 };
	struct wire_frame *f = NULL, *err;
	struct chan c;

	(void)state;
	chan_init(&c, -1, true);
	feed(&c, "\0\0\0\3abc", 7);		/* not msgpack */
	feed_frame(&c, &sig);
	assert_int_equal(chan_next(&c, &f), 1);
	assert_int_equal(f->type, WIRE_FRAME_SIGNAL);
	assert_int_equal(f->id, 7);
	wire_frame_free(f);
	err = pop_out(&c);
	assert_int_equal(err->type, WIRE_FRAME_ERROR);
	assert_int_equal(err->id, 0);
	assert_true(err->err > 0);
	wire_frame_free(err);
	assert_int_equal(c.in.len, 0);
	chan_free(&c);
}

static void test_partial_waits(void **state)
{
	struct wire_frame sig = { .type = WIRE_FRAME_SIGNAL, .id = 1, .signal = 15 };
	struct wire_frame *f = NULL;
	struct buf tmp;
	struct chan c;

	(void)state;
	chan_init(&c, -1, true);
	buf_init(&tmp, 0);
	assert_int_equal(wire_frame_encode(&sig, &tmp, NULL), 0);
	feed(&c, tmp.data, tmp.len - 1);
	assert_int_equal(chan_next(&c, &f), 0);
	assert_int_equal(c.out.len, 0);		/* incomplete is not an error */
	feed(&c, tmp.data + tmp.len - 1, 1);
	assert_int_equal(chan_next(&c, &f), 1);
	wire_frame_free(f);
	buf_free(&tmp);
	chan_free(&c);
}

static void test_oversized_resets(void **state)
{
	struct wire_frame *f = NULL, *err;
	struct chan c;

	(void)state;
	chan_init(&c, -1, true);
	feed(&c, "\x7f\0\0\0junkjunk", 12);
	assert_int_equal(chan_next(&c, &f), 0);
	assert_int_equal(c.in.len, 0);
	err = pop_out(&c);
	assert_int_equal(err->type, WIRE_FRAME_ERROR);
	assert_int_equal(err->err, EMSGSIZE);
	assert_non_null(strstr(err->message, "limit"));
	wire_frame_free(err);
	chan_free(&c);
}

/* A frame half written when the host leaves: the rest is dropped, the next host gets READY. */
static void test_hup_drops_torn_frame(void **state)
{
	static uint8_t data[WIRE_CHUNK_MAX];
	struct wire_frame out = { .type = WIRE_FRAME_OUTPUT, .id = 3, .fd = 1, .data = data,
				  .len = sizeof(data) };
	struct wire_frame ex = { .type = WIRE_FRAME_EXIT, .id = 3, .exit_code = 0 };
	struct wire_frame *f;
	struct chan c;
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	assert_true(fcntl(p[1], F_SETPIPE_SZ, 4096) >= 4096);
	chan_init(&c, p[1], false);
	c.need_ready = false;			/* pretend READY went out already */
	assert_int_equal(chan_send(&c, &out), 0);
	assert_int_equal(chan_send(&c, &ex), 0);
	assert_int_equal(chan_flush(&c), 0);	/* the pipe takes only part of the OUTPUT */
	assert_true(c.head_left > 0);
	chan_set_hup(&c);
	assert_true(c.hup && c.need_ready);
	assert_int_equal(c.head_left, 0);
	f = pop_out(&c);			/* what is left starts with the EXIT frame */
	assert_int_equal(f->type, WIRE_FRAME_EXIT);
	wire_frame_free(f);
	assert_int_equal(c.out.len, 0);
	chan_free(&c);
	close(p[0]);
	close(p[1]);
}

/* READY queued but unsent when the host leaves is dropped: one READY per connection. */
static void test_hup_drops_unsent_ready(void **state)
{
	struct wire_frame ex = { .type = WIRE_FRAME_EXIT, .id = 4, .signal = 9 };
	struct wire_frame *f;
	struct chan c;
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	assert_true(fcntl(p[1], F_SETPIPE_SZ, 4096) >= 4096);
	/* Fill the pipe so nothing can be written. */
	while (write(p[1], "xxxxxxxxxxxxxxxx", 16) > 0)
		;
	chan_init(&c, p[1], false);
	assert_int_equal(chan_send(&c, &ex), 0);
	assert_int_equal(chan_flush(&c), 0);
	assert_true(c.ready_at_head);
	chan_set_hup(&c);
	f = pop_out(&c);
	assert_int_equal(f->type, WIRE_FRAME_EXIT);
	wire_frame_free(f);
	assert_true(c.need_ready);
	chan_free(&c);
	close(p[0]);
	close(p[1]);
}

/* On a connected port the first bytes are READY, then the queued frames in order. */
static void test_ready_first(void **state)
{
	struct wire_frame ex = { .type = WIRE_FRAME_EXIT, .id = 5, .exit_code = 2 };
	struct wire_frame *f = NULL;
	uint8_t raw[4096];
	struct buf got;
	struct chan c;
	ssize_t n;
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	chan_init(&c, p[1], false);
	assert_int_equal(chan_send(&c, &ex), 0);
	assert_int_equal(chan_flush(&c), 0);
	assert_int_equal(c.out.len, 0);
	assert_false(c.need_ready);
	n = read(p[0], raw, sizeof(raw));
	assert_true(n > 0);
	buf_init(&got, 0);
	assert_int_equal(buf_append(&got, raw, (size_t)n), 0);
	f = pop_buf(&got);
	assert_int_equal(f->type, WIRE_FRAME_READY);
	assert_string_equal(f->version, CORRAL_VERSION);
	wire_frame_free(f);
	f = pop_buf(&got);
	assert_int_equal(f->type, WIRE_FRAME_EXIT);
	assert_int_equal(f->exit_code, 2);
	wire_frame_free(f);
	assert_int_equal(got.len, 0);
	buf_free(&got);
	chan_free(&c);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_garbage_then_valid),
		cmocka_unit_test(test_partial_waits),
		cmocka_unit_test(test_oversized_resets),
		cmocka_unit_test(test_hup_drops_torn_frame),
		cmocka_unit_test(test_hup_drops_unsent_ready),
		cmocka_unit_test(test_ready_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
