/*
 * fuzz_wire: libFuzzer target for every libwire decoder (job, peek id, msg, result, frame,
 * template) on the same input. Whatever decodes must re-encode (encoders accept all their
 * decoders accept) and a failed decode must leave *ret untouched. Built only with
 * -DCORRAL_FUZZ=ON and clang; seed it with the .msgpack files under schemas/vectors. Run with
 * -malloc_limit_mb=128 to catch large allocations.
 */
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char id[WIRE_ID_MAX + 1];
	struct wire_frame *f = NULL;
	struct wire_template *t = NULL;
	struct wire_job *j = NULL;
	struct wire_msg *m = NULL;
	struct wire_result r;
	struct errmsg e;
	struct buf b;

	buf_init(&b, 0);
	if (wire_job_decode(d, n, &j, &e) == 0) {
		if (wire_job_encode(j, &b, &e) != 0)
			__builtin_trap();
		j = wire_job_free(j);
	} else if (j) {
		__builtin_trap();
	}
	(void)wire_job_peek_id(d, n, id);
	buf_reset(&b);
	if (wire_msg_decode(d, n, &m, &e) == 0) {
		if (wire_msg_encode(m, &b, &e) != 0)
			__builtin_trap();
		m = wire_msg_free(m);
	}
	buf_reset(&b);
	if (wire_result_decode(d, n, &r, &e) == 0) {
		if (wire_result_encode(&r, &b, &e) != 0)
			__builtin_trap();
		buf_reset(&b);
		if (wire_result_to_json(&r, &b) != 0)
			__builtin_trap();
		wire_result_clear(&r);
	}
	buf_reset(&b);
	if (wire_frame_decode(d, n, &f, &e) == 0) {
		if (f->type != WIRE_FRAME_UNKNOWN && wire_frame_encode(f, &b, &e) != 0)
			__builtin_trap();
		f = wire_frame_free(f);
	}
	buf_reset(&b);
	if (wire_template_decode(d, n, &t, &e) == 0) {
		if (wire_template_encode(t, &b, &e) != 0)
			__builtin_trap();
		t = wire_template_free(t);
	} else if (t) {
		__builtin_trap();
	}
	buf_free(&b);
	return 0;
}
