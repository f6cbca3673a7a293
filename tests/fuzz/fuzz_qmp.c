/*
 * fuzz_qmp: libFuzzer target for the QMP reply parser (vm/host/qmp_parse.c): what QEMU, which
 * runs beside a hostile guest, writes on the QMP socket. Line framing over the whole input, then
 * every line classified; whatever parses must be internally consistent. Seeds: tests/fuzz/seeds/qmp
 * (recorded greeting, replies, errors and events).
 */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct buf in;
	const char *line;
	size_t len;

	buf_init(&in, 0);
	if (buf_append(&in, d, n) < 0)
		return 0;
	for (int i = 0; i < 4096; i++) {
		struct qmp_msg m;
		struct errmsg e;
		int r = qmp_line_next(&in, &line, &len);

		if (r <= 0)
			break;
		if (len >= in.len || line < (const char *)in.data)
			__builtin_trap();
		memset(&m, 0, sizeof(m));
		if (qmp_parse(line, len, &m, &e) == 0 &&
		    (strnlen(m.name, sizeof(m.name)) == sizeof(m.name) ||
		     strnlen(m.desc, sizeof(m.desc)) == sizeof(m.desc)))
			__builtin_trap();	/* strings must stay terminated */
		buf_consume(&in, len + 1);
	}
	buf_free(&in);
	return 0;
}
