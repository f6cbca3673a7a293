/*
 * fuzz_msg: libFuzzer target for the output/event message and result decoders (what clients and
 * the CLI read back from Redis streams and keys). Whatever decodes must re-encode, and a result
 * must also render as JSON. Seeds: schemas/vectors/msg and schemas/vectors/result.
 */
#include <stdint.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct wire_msg *m = NULL;
	struct wire_result r;
	struct errmsg e;
	struct buf b;

	buf_init(&b, 0);
	if (wire_msg_decode(d, n, &m, &e) == 0) {
		if (wire_msg_encode(m, &b, &e) != 0)
			__builtin_trap();
		wire_msg_free(m);
	} else if (m) {
		__builtin_trap();
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
	buf_free(&b);
	return 0;
}
