/*
 * egress: the worker side of a job's network access (issue 6). A VM has no NIC; the guest
 * agent's proxy carries each client connection as a net_* stream over the agent channel
 * (schemas/agent-frame.md), and one egress session per job serves them here, on the worker's
 * libev loop: it refuses everything when the job's template has `network: none`, checks
 * host:port against the template's allowlist (wire_template_allows), resolves the name without
 * blocking the loop (resolver threads, or --egress-resolve), refuses non-public addresses
 * unless --egress-allow-addr covers them, connects to the address it checked (no second
 * lookup), then relays: for `connect` only after the TLS ClientHello's SNI equals the host, for
 * `http` rewriting each request whose Host names the host (egress_http.c). Caps: 64 streams and
 * --egress-max-bytes per job, an idle timeout per stream. Every decision is logged
 * (ev=egress.open host= port= allowed= reason=). It knows nothing of Redis.
 *
 * Credential injection (later): egress_http_hook_headers() sees every plain-HTTP request's
 * headers per host; CONNECT streams are end-to-end TLS and would need termination.
 */
#ifndef CORRALD_EGRESS_H
#define CORRALD_EGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "egress_cfg.h"
#include "wire.h"

struct ev_loop;
struct vm;
struct egress;

#define EGRESS_STREAMS_MAX 64		/* per job (= the agent's PROXY_STREAMS_MAX) */
#define EGRESS_HELLO_MAX (64u * 1024u)	/* ClientHello bytes buffered before the SNI check */
#define EGRESS_HTTP_HEAD_MAX 16384	/* one request head */
#define EGRESS_ADDRS_MAX 16		/* addresses kept per name */
#define EGRESS_CONNECT_TIMEOUT_S 10.0
#define EGRESS_PROXY_URL "http://127.0.0.1:3128"

/* True for the net_* frame types (egress_frame's business). */
static inline bool egress_is_frame(const struct wire_frame *f)
{
	return f->type >= WIRE_FRAME_NET_OPEN && f->type <= WIRE_FRAME_NET_CLOSE;
}

/* Process-wide settings (from config.c); call once before any session. The struct is copied. */
void egress_configure(const struct egress_cfg *cfg);

/* A net_* frame from the job's VM. *sp is the job's session, created on the first frame (t may
 * be NULL: then every stream is refused as if the template had no network). */
void egress_frame(struct egress **sp, struct ev_loop *loop, struct vm *vm,
		  const struct wire_template *t, const char *job_id, const struct wire_frame *f);
/* Closes every stream and frees the session (before the VM is destroyed). NULL-safe. */
struct egress *egress_free(struct egress *e);

/* The exec env for a job: env (envc items, may be NULL) plus HTTP_PROXY, HTTPS_PROXY,
 * http_proxy, https_proxy and NO_PROXY when t allows network (the job's own values of those
 * names are replaced). *ret is NULL when nothing is added (use env as is), else a new
 * NULL-terminated array the caller frees with egress_env_free(). 0 or -ENOMEM. */
int egress_exec_env(const struct wire_template *t, char *const *env, size_t envc, char ***ret,
		    size_t *retc);
void egress_env_free(char **env);

/* ---- egress_tls.c ---- */
/* 1 and sni (lower-cased) when p holds a complete ClientHello with one host name, 0 when more
 * bytes are needed, -ENOENT no SNI, -EPROTO/-EMSGSIZE not an acceptable ClientHello; *why says
 * what (static string). */
int egress_tls_sni(const uint8_t *p, size_t n, char *sni, size_t snisz, const char **why);

/* ---- egress_http.c ---- */
enum egress_http_state { EH_HEAD, EH_BODY, EH_CHUNK_SIZE, EH_CHUNK_DATA, EH_CHUNK_CRLF,
			 EH_TRAILER };

struct egress_http {
	enum egress_http_state st;
	struct buf head;		/* the current head or chunk line */
	uint64_t left;			/* body or chunk bytes still to pass */
	char host[WIRE_NET_HOST_MAX + 1];
	uint16_t port;
	unsigned requests;
};

void egress_http_init(struct egress_http *h, const char *host, uint16_t port);
void egress_http_free(struct egress_http *h);
/* Feeds client bytes; what goes to the origin is appended to out. 0, or -EPERM (policy: another
 * host, two Host headers, ...), -EPROTO (malformed), -EMSGSIZE/-ENOBUFS (too large) with why. */
int egress_http_feed(struct egress_http *h, const uint8_t *p, size_t n, struct buf *out,
		     char *why, size_t whysz);
/* Credential injection point (see egress_http.c); appends nothing today. */
int egress_http_hook_headers(const char *host, uint16_t port, struct buf *out);

/* ---- egress_dns.c: getaddrinfo on resolver threads, answers on the loop ---- */
struct egress_dns_req;
typedef void (*egress_dns_cb)(int err, const struct sockaddr_storage *addrs, size_t n,
			      void *ud);
/* Starts resolving host (TCP addresses, both families). cb runs later on loop with err 0 and
 * the addresses (≤ EGRESS_ADDRS_MAX), or -ENOENT (no such name) / -EAGAIN (resolver failure).
 * 0 or -ENOMEM. */
int egress_dns_start(struct ev_loop *loop, const char *host, egress_dns_cb cb, void *ud,
		     struct egress_dns_req **ret);
/* cb will not run. NULL-safe. */
void egress_dns_cancel(struct egress_dns_req *r);

#endif
