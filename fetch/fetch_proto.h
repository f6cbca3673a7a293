/*
 * fetch_proto: the contract between corral-fetch and its caller (worker/repo.c, tests): exit
 * codes, the uid it drops to, limits. Exit codes 2..9 are permanent (retrying cannot help),
 * 10..19 transient (a retry, maybe on another worker, may help). Whatever the exit code, the
 * last line corral-fetch writes to stderr is either the one-line JSON summary (exit 0) or the
 * error, one line starting "repo: ". Nothing here may include libgit2 or libev.
 */
#ifndef CORRAL_FETCH_PROTO_H
#define CORRAL_FETCH_PROTO_H

#define FETCH_EXIT_OK 0
#define FETCH_EXIT_USAGE 2	/* bad arguments */
#define FETCH_EXIT_POLICY 3	/* URL refused (transport, credentials in URL, address), bad TLS */
#define FETCH_EXIT_REF 4	/* ref not found (or a commit id not in the mirror) */
#define FETCH_EXIT_SIZE 5	/* over a cap: repository size/objects, checkout bytes/files/file */
#define FETCH_EXIT_HOSTILE 6	/* symlink out of the checkout, bad names, corrupt objects */
#define FETCH_EXIT_AUTH 7	/* authentication required or refused */
#define FETCH_EXIT_NOTFOUND 8	/* no such repository / host */
#define FETCH_EXIT_NETWORK 10	/* connection, DNS or protocol failure */
#define FETCH_EXIT_TIMEOUT 11	/* --timeout-ms hit (or CPU limit) */
#define FETCH_EXIT_INTERNAL 12	/* local failure: disk, memory, jail set-up, helper crashed */

#define FETCH_EXIT_TRANSIENT(c) ((c) >= 10 && (c) <= 19)

#define FETCH_UID 199999	/* unprivileged uid/gid the helper drops to (no passwd entry) */
#define FETCH_GID 199999
#define FETCH_CRED_MAX 4096	/* "USER:SECRET" read from --cred-fd */
#define FETCH_GUEST_HOME "/home/corral"
#define FETCH_GUEST_UID 1000
#define FETCH_GUEST_GID 1000

#endif
