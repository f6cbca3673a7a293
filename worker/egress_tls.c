/*
 * egress_tls: finds the server name (SNI) in the first bytes a client sends through a CONNECT
 * tunnel: TLS records of type handshake carrying a ClientHello (reassembled across records up to
 * EGRESS_HELLO_MAX), its extensions, the server_name extension's host_name. Strict: anything that
 * is not a well-formed ClientHello is refused, so is a hello with two server_name extensions,
 * two host names, or the encrypted_client_hello extension (whose outer name need not be the
 * server reached). Pure: no I/O, no allocation; it reads only the bytes given.
 */
#include "egress.h"

#include <errno.h>
#include <string.h>

#define TLS_REC_HEADER 5
#define TLS_REC_MAX (16384 + 256)	/* a plaintext record's fragment, with slack */
#define TLS_CT_HANDSHAKE 22
#define TLS_HS_CLIENT_HELLO 1
#define TLS_EXT_SERVER_NAME 0x0000
#define TLS_EXT_ECH 0xfe0d

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static int why_(const char **why, const char *s, int err)
{
	*why = s;
	return err;
}

/* Gathers the handshake bytes of the leading handshake records into hs (at most cap).
 * 1 when the whole first handshake message is there (*hslen = its size), 0 need more. */
static int gather(const uint8_t *p, size_t n, uint8_t *hs, size_t cap, size_t *hslen,
		  const char **why)
{
	size_t off = 0, have = 0, need = 0;

	while (off + TLS_REC_HEADER <= n) {
		size_t len = be16(p + off + 3);

		if (p[off] != TLS_CT_HANDSHAKE)
			return why_(why, "not a TLS handshake record", -EPROTO);
		if (p[off + 1] != 3)
			return why_(why, "not a TLS record version", -EPROTO);
		if (len == 0 || len > TLS_REC_MAX)
			return why_(why, "bad TLS record length", -EPROTO);
		if (off + TLS_REC_HEADER + len > n)
			return 0;
		if (have + len > cap)
			return why_(why, "ClientHello too large", -EMSGSIZE);
		memcpy(hs + have, p + off + TLS_REC_HEADER, len);
		have += len;
		off += TLS_REC_HEADER + len;
		if (need == 0 && have >= 4) {
			if (hs[0] != TLS_HS_CLIENT_HELLO)
				return why_(why, "first handshake message is not a ClientHello",
					    -EPROTO);
			need = 4 + ((size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3]);
			if (need > cap)
				return why_(why, "ClientHello too large", -EMSGSIZE);
		}
		if (need && have >= need) {
			*hslen = need;
			return 1;
		}
	}
	if (n >= cap + 64 * TLS_REC_HEADER)
		return why_(why, "ClientHello too large", -EMSGSIZE);
	return 0;
}

/* The host_name of a server_name extension body. */
static int sni_ext(const uint8_t *p, size_t n, char *sni, size_t snisz, const char **why)
{
	size_t list, off = 2;
	bool found = false;

	if (n < 2 || (list = be16(p)) != n - 2)
		return why_(why, "malformed server_name extension", -EPROTO);
	while (off < n) {
		unsigned type;
		size_t len;

		if (off + 3 > n)
			return why_(why, "malformed server_name extension", -EPROTO);
		type = p[off];
		len = be16(p + off + 1);
		off += 3;
		if (off + len > n)
			return why_(why, "malformed server_name extension", -EPROTO);
		if (type == 0) {
			if (found)
				return why_(why, "two host names in server_name", -EPROTO);
			if (len == 0 || len > EGRESS_NAME_MAX || len >= snisz)
				return why_(why, "bad SNI length", -EPROTO);
			for (size_t i = 0; i < len; i++) {
				char c = (char)p[off + i];

				if (c >= 'A' && c <= 'Z')
					c = (char)(c - 'A' + 'a');
				if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
				      c == '-' || c == '_'))
					return why_(why, "bad character in SNI", -EPROTO);
				sni[i] = c;
			}
			sni[len] = '\0';
			found = true;
		}
		off += len;
	}
	return found ? 0 : why_(why, "server_name without a host name", -ENOENT);
}

int egress_tls_sni(const uint8_t *p, size_t n, char *sni, size_t snisz, const char **why)
{
	static uint8_t hs[EGRESS_HELLO_MAX];	/* the loop is single-threaded */
	size_t hslen = 0, off, len, ext_end;
	bool have_sni = false;
	int r;

	*why = "";
	sni[0] = '\0';
	r = gather(p, n, hs, sizeof(hs), &hslen, why);
	if (r <= 0)
		return r;
	off = 4 + 2 + 32;			/* header, legacy_version, random */
	if (hslen < off + 1)
		return why_(why, "truncated ClientHello", -EPROTO);
	off += 1 + hs[off];			/* session id */
	if (off + 2 > hslen)
		return why_(why, "truncated ClientHello", -EPROTO);
	len = be16(hs + off);			/* cipher suites */
	if (len < 2 || (len & 1))
		return why_(why, "bad cipher suites", -EPROTO);
	off += 2 + len;
	if (off + 1 > hslen)
		return why_(why, "truncated ClientHello", -EPROTO);
	off += 1 + hs[off];			/* compression methods */
	if (off + 2 > hslen)
		return why_(why, "ClientHello without extensions (no SNI)", -ENOENT);
	len = be16(hs + off);
	off += 2;
	if (off + len != hslen)
		return why_(why, "bad extensions length", -EPROTO);
	ext_end = off + len;
	while (off < ext_end) {
		unsigned type;
		size_t elen;

		if (off + 4 > ext_end)
			return why_(why, "truncated extension", -EPROTO);
		type = be16(hs + off);
		elen = be16(hs + off + 2);
		off += 4;
		if (off + elen > ext_end)
			return why_(why, "truncated extension", -EPROTO);
		if (type == TLS_EXT_ECH)
			return why_(why, "encrypted ClientHello (ECH) is not allowed", -EPROTO);
		if (type == TLS_EXT_SERVER_NAME) {
			if (have_sni)
				return why_(why, "two server_name extensions", -EPROTO);
			r = sni_ext(hs + off, elen, sni, snisz, why);
			if (r < 0)
				return r;
			have_sni = true;
		}
		off += elen;
	}
	if (!have_sni)
		return why_(why, "no SNI in the ClientHello", -ENOENT);
	return 1;
}
