/*
 * fuzz_job: libFuzzer target for the job decoder (what corrald takes from Redis, written by any
 * client). A decoded job must re-encode and the re-encoding must decode to the same bytes again
 * (a fixed point); a failed decode must leave *ret NULL; peek_id must never read past the input.
 * Seeds: schemas/vectors/job.
 */
#include <stdint.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char id[WIRE_ID_MAX + 1];
	struct wire_job *j = NULL, *j2 = NULL;
	struct errmsg e;
	struct buf b, b2;

	(void)wire_job_peek_id(d, n, id);
	if (wire_job_decode(d, n, &j, &e) != 0) {
		if (j)
			__builtin_trap();
		return 0;
	}
	buf_init(&b, 0);
	buf_init(&b2, 0);
	if (wire_job_encode(j, &b, &e) != 0)
		__builtin_trap();
	if (wire_job_decode(b.data, b.len, &j2, &e) != 0)
		__builtin_trap();
	if (wire_job_encode(j2, &b2, &e) != 0 || b.len != b2.len || memcmp(b.data, b2.data, b.len))
		__builtin_trap();
	wire_job_free(j);
	wire_job_free(j2);
	buf_free(&b);
	buf_free(&b2);
	return 0;
}
