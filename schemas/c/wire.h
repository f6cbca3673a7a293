/*
 * libwire: the only C code that includes <msgpack.h>. Encodes and decodes, with full validation,
 * every version-1 wire message of Corral: the job, the output/event stream message, the result
 * record and the guest-agent frame. The authoritative field lists, limits and version rules are
 * in schemas/<message>.md; this header mirrors them.
 *
 * Rules shared by every decoder:
 *  - input is untrusted: every size/count is checked against a *_MAX before allocating;
 *  - decoders copy out: nothing returned points into the input buffer;
 *  - a map with "v" other than WIRE_VERSION is refused (-EPROTONOSUPPORT, "unknown version N");
 *  - unknown map keys are ignored (forward compatibility within version 1);
 *  - on failure the return is negative errno and reterr names the field, e.g. "argv[3]: longer
 *    than 65536 bytes" or "timeout_ms: expected unsigned integer, got string".
 */
#ifndef CORRAL_WIRE_H
#define CORRAL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "errmsg.h"

#define WIRE_VERSION 1

/* ---- limits (schemas/job.md) ---- */
#define WIRE_JOB_ENCODED_MAX (1024 * 1024)	/* whole job message */
#define WIRE_ID_MAX 64				/* job id: [A-Za-z0-9._-]{1,64} */
#define WIRE_ARGC_MAX 256
#define WIRE_ARG_MAX 65536			/* one argv item, bytes */
#define WIRE_ENVC_MAX 256
#define WIRE_ENV_ITEM_MAX 32768			/* one "KEY=VALUE", bytes */
#define WIRE_CWD_MAX 4096
#define WIRE_TEMPLATE_MAX 64			/* [A-Za-z0-9._-]{1,64} */
#define WIRE_TIMEOUT_MS_DEFAULT 60000u	/* the built-in template's timeout (jobs default to 0) */
#define WIRE_TIMEOUT_MS_MAX 86400000u		/* 24 h */
#define WIRE_OUTPUT_MAX_DEFAULT (1024u * 1024u)	/* stdout+stderr bytes kept */
#define WIRE_OUTPUT_MAX_LIMIT (64u * 1024u * 1024u)
#define WIRE_ATTEMPTS_DEFAULT 3u
#define WIRE_ATTEMPTS_MAX 20u
#define WIRE_REASON_MAX 255
#define WIRE_WORKER_MAX 64
#define WIRE_CHUNK_MAX 65536			/* data bytes in one output message / frame */
#define WIRE_FRAME_MAX (WIRE_JOB_ENCODED_MAX + 4096)	/* one agent frame payload */
#define WIRE_FRAME_HEADER 4			/* big-endian u32 payload length */
#define WIRE_IMAGE_MAX 32			/* image name: [a-z0-9_-]{1,32} */
#define WIRE_FILES_MAX 1024			/* job files */
#define WIRE_FILES_BYTES_MAX (768u * 1024u)	/* job files' data, in total */
#define WIRE_PATH_MAX 4096			/* file path / output pattern, bytes */
#define WIRE_MODE_MAX 07777u
#define WIRE_OUTPUTS_MAX 64			/* output patterns of a job / a get frame */
#define WIRE_ARTEFACTS_MAX_DEFAULT (4u * 1024u * 1024u)
#define WIRE_ARTEFACTS_MAX_LIMIT (32u * 1024u * 1024u)
#define WIRE_ARTEFACTS_COUNT_MAX 1024		/* artefacts in a result / file paths in a get */
#define WIRE_URL_MAX 2048
#define WIRE_REF_MAX 256
#define WIRE_SUBDIR_MAX 255
#define WIRE_DEPTH_LIMIT 2147483648u		/* repo depth ≤ 2^31 */
#define WIRE_COMMIT_HEX 40
/* the whole result record: artefacts' data plus their paths and the fixed fields */
#define WIRE_RESULT_ENCODED_MAX (WIRE_ARTEFACTS_MAX_LIMIT + \
				 WIRE_ARTEFACTS_COUNT_MAX * (WIRE_PATH_MAX + 64) + 8192)

/* ---- job (schemas/job.md) ---- */
struct wire_file {
	char *path;		/* absolute, no ".." component, not "/" */
	uint32_t mode;		/* ≤ 07777, default 0644 */
	uint8_t *data;		/* owned, NULL when len 0 */
	size_t len;
};

struct wire_repo {
	char *url;		/* 1..WIRE_URL_MAX bytes */
	char *ref;		/* never NULL after decode; default "HEAD" */
	uint32_t depth;		/* 0 = full history */
	char *subdir;		/* never NULL after decode; default "repo"; relative */
};

struct wire_job {
	char id[WIRE_ID_MAX + 1];
	char **argv;		/* argc items + NULL */
	size_t argc;		/* ≥ 1 */
	char **env;		/* envc "KEY=VALUE" items + NULL; may be NULL when envc == 0 */
	size_t envc;
	char *cwd;		/* NULL: the guest user's home */
	char template_name[WIRE_TEMPLATE_MAX + 1];	/* default "default" */
	uint32_t timeout_ms;	/* 0 (absent): the template's timeout */
	uint64_t output_max;
	uint32_t max_attempts;
	uint64_t submitted_ms;	/* client wall clock, ms since epoch; 0 = unknown */
	char image[WIRE_IMAGE_MAX + 1];		/* "" = the template's image */
	struct wire_file *files;	/* nfiles items, owned */
	size_t nfiles;
	char **outputs;		/* noutputs absolute paths / glob patterns + NULL; may be NULL */
	size_t noutputs;
	uint64_t artefacts_max;	/* default WIRE_ARTEFACTS_MAX_DEFAULT */
	struct wire_repo *repo;	/* NULL: not a repo job */
};

/* Decodes and validates. 0, -EBADMSG (not msgpack / wrong shape), -EINVAL (bad value),
 * -EMSGSIZE (over a limit), -EPROTONOSUPPORT (version), -ENOMEM. Caller owns *ret. */
int wire_job_decode(const void *data, size_t len, struct wire_job **ret, struct errmsg *reterr);
/* Validates then appends the encoding to out. 0 or negative errno. */
int wire_job_encode(const struct wire_job *job, struct buf *out, struct errmsg *reterr);
/* Best effort: pulls a valid "id" out of an otherwise invalid job, for dead-letter records.
 * 0 and id filled, or negative errno. */
int wire_job_peek_id(const void *data, size_t len, char id[WIRE_ID_MAX + 1]);
struct wire_job *wire_job_free(struct wire_job *job);
/* Allocates an empty job with all defaults set (for producers). */
struct wire_job *wire_job_new(void);
bool wire_id_valid(const char *s, size_t len);
/* Checks a put/file path: absolute, ≤ WIRE_PATH_MAX, no NUL, no "." or ".." component, not "/".
 * 0 or -EINVAL / -EMSGSIZE naming field. */
int wire_check_path(const char *field, const char *s, size_t len, struct errmsg *reterr);
/* Checks a repo subdir: relative, ≤ WIRE_SUBDIR_MAX, no empty, "." or ".." component. */
int wire_check_subdir(const char *field, const char *s, size_t len, struct errmsg *reterr);
/* Checks a git ref: a branch, tag, refs/... name or a 40-hex commit (git check-ref-format rules). */
int wire_check_ref(const char *field, const char *s, size_t len, struct errmsg *reterr);

/* ---- template record (schemas/template.md) ----
 * One msgpack map per template, value of field <name> of the hash <prefix>templates. */
#define WIRE_TEMPLATE_ENCODED_MAX (512u * 1024u)	/* whole record; field limits stay below */
#define WIRE_TEMPLATE_VCPUS_MAX 8u
#define WIRE_TEMPLATE_MEMORY_MIN 128u		/* MiB */
#define WIRE_TEMPLATE_MEMORY_MAX 16384u
#define WIRE_TEMPLATE_DISK_MIN 16u		/* MiB */
#define WIRE_TEMPLATE_DISK_MAX 65536u
#define WIRE_TEMPLATE_PIDS_MIN 16u
#define WIRE_TEMPLATE_PIDS_MAX 65536u
#define WIRE_TEMPLATE_ENVC_MAX 64
#define WIRE_TEMPLATE_ENV_ITEM_MAX 4096		/* one "KEY=VALUE", bytes */
#define WIRE_TEMPLATE_WARMUP_MAX 4096		/* bytes */
#define WIRE_TEMPLATE_ALLOW_MAX 64		/* allow patterns */
#define WIRE_HOST_MAX 253			/* a host name / pattern without ":port" */
#define WIRE_TEMPLATE_IMAGE_DEFAULT "base"
#define WIRE_TEMPLATE_VCPUS_DEFAULT 1u
#define WIRE_TEMPLATE_MEMORY_DEFAULT 256u
#define WIRE_TEMPLATE_DISK_DEFAULT 256u
#define WIRE_TEMPLATE_PIDS_DEFAULT 512u
#define WIRE_TEMPLATE_WARMUP_DEFAULT "python3 -c pass"

struct wire_template {
	char name[WIRE_TEMPLATE_MAX + 1];
	uint32_t version;			/* ≥ 1, bumped by every write */
	char image[WIRE_IMAGE_MAX + 1];
	uint32_t vcpus, memory_mib, disk_mib, pids_max, timeout_ms;
	char **env; size_t envc;		/* "K=V" + NULL; may be NULL when envc == 0 */
	char *warmup;				/* "" = none; never NULL after decode/new */
	bool network;				/* false = none */
	char **allow; size_t nallow;		/* patterns + NULL; may be NULL when 0 */
	uint64_t created_ms;
};

/* Decodes and validates one record (same errors as wire_job_decode). Caller owns *ret. */
int wire_template_decode(const void *data, size_t len, struct wire_template **ret,
			 struct errmsg *reterr);
/* Validates then appends the encoding to out. 0 or negative errno. */
int wire_template_encode(const struct wire_template *t, struct buf *out, struct errmsg *reterr);
/* All defaults of schemas/template.md, version 1; NULL on a bad name or no memory. */
struct wire_template *wire_template_new(const char *name);
struct wire_template *wire_template_free(struct wire_template *t);
/* true if host:port is allowed by t (network on and a pattern matches); host lower-case. */
bool wire_template_allows(const struct wire_template *t, const char *host, unsigned port);
/* Checks one allow pattern: "host" or "*.suffix", lower-case [a-z0-9.-] labels, optional
 * ":port" (1..65535), host ≤ WIRE_HOST_MAX. 0 or -EINVAL / -EMSGSIZE naming field. */
int wire_check_allow(const char *field, const char *s, size_t len, struct errmsg *reterr);

/* ---- job states (schemas/event.md) ---- */
enum wire_state {
	WIRE_STATE_QUEUED,
	WIRE_STATE_CLAIMED,
	WIRE_STATE_STARTING,
	WIRE_STATE_RUNNING,
	WIRE_STATE_SUCCEEDED,	/* final: exit code 0 */
	WIRE_STATE_FAILED,	/* final: non-zero exit, signal, or a limit hit (reason says which) */
	WIRE_STATE_TIMED_OUT,	/* final: wall-clock timeout */
	WIRE_STATE_CANCELLED,	/* final */
	WIRE_STATE_DEAD,	/* final: dead-lettered (invalid job, or attempts exhausted) */
	WIRE_STATE_COUNT_
};
const char *wire_state_name(enum wire_state s);
int wire_state_parse(const char *name, enum wire_state *ret);
bool wire_state_final(enum wire_state s);

/* ---- output stream / channel message (schemas/output.md, schemas/event.md) ----
 * One type for the two kinds of entries of a job's output stream and channel. */
enum wire_msg_kind { WIRE_MSG_OUTPUT, WIRE_MSG_EVENT };

struct wire_msg {
	enum wire_msg_kind kind;
	uint32_t attempt;	/* ≥ 1 */
	uint64_t seq;		/* per attempt, from 0, over output and events together */
	uint64_t ts_ms;		/* worker wall clock */
	/* output */
	uint8_t fd;		/* 1 stdout, 2 stderr */
	uint8_t *data;		/* owned, ≤ WIRE_CHUNK_MAX */
	size_t len;
	/* event */
	enum wire_state state;
	char worker[WIRE_WORKER_MAX + 1];
	char reason[WIRE_REASON_MAX + 1];	/* "" when none */
};

int wire_msg_decode(const void *data, size_t len, struct wire_msg **ret, struct errmsg *reterr);
int wire_msg_encode(const struct wire_msg *m, struct buf *out, struct errmsg *reterr);
struct wire_msg *wire_msg_free(struct wire_msg *m);

/* ---- result record (schemas/result.md) ---- */
struct wire_timings {	/* wall clock ms since epoch; 0 = not reached */
	uint64_t queued_ms;
	uint64_t claimed_ms;
	uint64_t vm_ms;		/* VM acquired (agent ready) */
	uint64_t started_ms;	/* process started */
	uint64_t first_output_ms;
	uint64_t exited_ms;
	uint64_t written_ms;	/* result written */
	uint64_t fetch_ms;	/* duration of the host-side repo fetch+export (0 = none) */
	uint64_t files_ms;	/* duration of placing files + checkout in the VM */
	uint64_t collect_ms;	/* duration of collecting artefacts */
	bool mirror_hit;	/* the repo came from the worker's mirror without a network clone */
};

struct wire_artefact {
	char *path;		/* absolute path in the guest */
	uint64_t size;		/* real size of the file */
	uint32_t mode;		/* ≤ 07777 */
	uint8_t *data;		/* owned; len ≤ size bytes, NULL when len 0 */
	size_t len;
	bool truncated;		/* len < size: cut or dropped for artefacts_max */
};

/* ---- resource limits (issue 6) ----
 * The name of the limit a job hit, in a result's `limit` and an EXIT frame's `limit`. */
#define WIRE_LIMIT_NAME_MAX 15
/* True when s is a limit a result may carry: "" (none), "time", "memory", "pids", "disk",
 * "output". With frame set, only what the agent can report: "", "memory", "pids", "disk". */
bool wire_limit_valid(const char *s, bool frame);

struct wire_result {
	char id[WIRE_ID_MAX + 1];
	enum wire_state state;	/* final states only */
	uint32_t attempt;
	bool has_exit_code;
	int32_t exit_code;	/* valid when has_exit_code */
	int32_t signal;		/* 0 = none */
	char reason[WIRE_REASON_MAX + 1];
	char worker[WIRE_WORKER_MAX + 1];
	char accel[16];		/* "kvm" | "tcg" | "" */
	uint64_t stdout_bytes;	/* produced by the process, including dropped bytes */
	uint64_t stderr_bytes;
	bool truncated;		/* output over output_max was dropped */
	struct wire_timings t;
	char commit[WIRE_COMMIT_HEX + 1];	/* "" when not a repo job, else 40 lowercase hex */
	struct wire_artefact *artefacts;	/* owned; wire_result_clear() frees */
	size_t nartefacts;
	bool artefacts_truncated;		/* some artefact cut or dropped for artefacts_max */
	char limit[WIRE_LIMIT_NAME_MAX + 1];	/* "" | time | memory | pids | disk | output */
};

/* Decodes into *ret, which then owns its artefacts: call wire_result_clear(). On failure *ret
 * is left untouched. */
int wire_result_decode(const void *data, size_t len, struct wire_result *ret, struct errmsg *reterr);
/* Frees the artefacts (and zeroes nartefacts); NULL-safe, safe to call twice. */
void wire_result_clear(struct wire_result *r);
int wire_result_encode(const struct wire_result *r, struct buf *out, struct errmsg *reterr);
/* Writes the result as one JSON object (for `corral result --json`) into out; artefacts' data
 * is base64 under "data_b64". */
int wire_result_to_json(const struct wire_result *r, struct buf *out);

/* ---- guest-agent frames (schemas/agent-frame.md) ----
 * On the virtio-serial port, each frame is a 4-byte big-endian length, then that many bytes of
 * msgpack map. Host → guest: INIT, EXEC, SIGNAL, PUT, PUTEND, GET, NET_OK. Guest → host: READY,
 * STARTED, OUTPUT, EXIT, ERROR, PUTOK, FILE, GETEND, NET_OPEN. Both: NET_DATA, NET_ACK, NET_CLOSE
 * (egress streams: the guest's proxy on 127.0.0.1:3128 ↔ the worker's egress proxy). */
enum wire_frame_type {
	WIRE_FRAME_UNKNOWN,	/* a "t" this version does not know: receivers ignore it */
	WIRE_FRAME_READY,	/* g→h: agent up; version */
	WIRE_FRAME_INIT,	/* h→g: set wall clock (time_ns) and mix seed into the RNG */
	WIRE_FRAME_EXEC,	/* h→g: id, argv, env, cwd, uid, gid */
	WIRE_FRAME_STARTED,	/* g→h: id, pid */
	WIRE_FRAME_OUTPUT,	/* g→h: id, fd, data */
	WIRE_FRAME_EXIT,	/* g→h: id, exit_code or signal */
	WIRE_FRAME_SIGNAL,	/* h→g: id, signal (to the process group) */
	WIRE_FRAME_ERROR,	/* g→h: id (0 = not about an exec), err (errno), message */
	WIRE_FRAME_PUT,		/* h→g: id (may be 0), path, kind, mode, data, append, target, uid, gid */
	WIRE_FRAME_PUTEND,	/* h→g: id: end of a put batch */
	WIRE_FRAME_PUTOK,	/* g→h: id, count, bytes: the batch was placed */
	WIRE_FRAME_GET,		/* h→g: id, patterns, max, uid, gid */
	WIRE_FRAME_FILE,	/* g→h: id, path, size, mode, offset, data, last, truncated */
	WIRE_FRAME_GETEND,	/* g→h: id, count, truncated */
	WIRE_FRAME_NET_OPEN,	/* g→h: id (stream, chosen by the guest), host, port, net_kind */
	WIRE_FRAME_NET_OK,	/* h→g: id: the stream is open, data may flow */
	WIRE_FRAME_NET_DATA,	/* both: id, data (≤ WIRE_CHUNK_MAX) */
	WIRE_FRAME_NET_ACK,	/* both: id, bytes: the receiver consumed that much data */
	WIRE_FRAME_NET_CLOSE,	/* both: id, err (errno, 0 = none), message: the stream is gone */
};

enum wire_put_kind { WIRE_PUT_FILE, WIRE_PUT_DIR, WIRE_PUT_SYMLINK };
enum wire_net_kind { WIRE_NET_CONNECT, WIRE_NET_HTTP };	/* net_open "kind" */

#define WIRE_NET_HOST_MAX 253			/* net_open host: lower-case [a-z0-9._-] */
#define WIRE_NET_WINDOW (256u * 1024u)		/* unacked net_data bytes per stream and direction */

#define WIRE_SEED_MAX 64

struct wire_frame {
	enum wire_frame_type type;
	uint32_t id;		/* exec id chosen by the host, ≥ 1 */
	/* EXEC */
	char **argv;		/* argc + NULL */
	size_t argc;
	char **env;		/* envc + NULL, may be NULL */
	size_t envc;
	char *cwd;		/* NULL: the user's home */
	uint32_t uid, gid;
	/* STARTED */
	int32_t pid;
	/* OUTPUT */
	uint8_t fd;
	uint8_t *data;		/* owned, ≤ WIRE_CHUNK_MAX */
	size_t len;
	/* EXIT: exit_code ≥ 0, or signal > 0 */
	int32_t exit_code;
	int32_t signal;		/* also SIGNAL's signal number */
	/* ERROR */
	int32_t err;
	char message[WIRE_REASON_MAX + 1];
	/* READY */
	char version[32];
	/* INIT */
	uint64_t time_ns;	/* wall clock, ns since epoch */
	uint8_t seed[WIRE_SEED_MAX];
	size_t seed_len;
	/* PUT (path, target, kind, mode, data, append, uid, gid), FILE (path, size, mode, offset,
	 * data, last, truncated), PUTOK (count, bytes), GET (patterns, max, uid, gid),
	 * GETEND (count, truncated) */
	char *path;		/* owned; PUT: wire_check_path() rules; FILE: absolute */
	char *target;		/* owned; PUT symlink target, else NULL */
	uint8_t kind;		/* enum wire_put_kind */
	uint32_t mode;		/* ≤ 07777; PUT default 0644 (file) / 0755 (dir) / 0777 (symlink) */
	bool append, last, truncated;
	uint64_t size, offset, max, count, bytes;
	char **patterns;	/* npatterns + NULL */
	size_t npatterns;
	/* NET_OPEN (host, port, net_kind), NET_DATA (data), NET_ACK (bytes), NET_CLOSE (err,
	 * message) */
	char host[WIRE_NET_HOST_MAX + 1];
	uint16_t port;		/* 1..65535 */
	uint8_t net_kind;	/* enum wire_net_kind */
	/* EXEC resource limits inside the guest (issue 6); 0 = none */
	uint64_t mem_max;	/* bytes: the exec's cgroup memory.max */
	uint64_t disk_max;	/* bytes: size of the VM's writable layer */
	uint32_t pids_max;	/* processes + threads of the exec */
	/* EXIT: the limit the process hit: "" (none), "memory", "pids" or "disk" */
	char limit[WIRE_LIMIT_NAME_MAX + 1];
};

/* Decodes one frame payload (without its length header). Caller owns *ret. */
int wire_frame_decode(const void *data, size_t len, struct wire_frame **ret, struct errmsg *reterr);
/* Appends header + payload to out. */
int wire_frame_encode(const struct wire_frame *f, struct buf *out, struct errmsg *reterr);
struct wire_frame *wire_frame_free(struct wire_frame *f);
/* Looks at the start of in: returns 1 and sets *payload and *len when a whole frame is there (the
 * caller then buf_consume()s WIRE_FRAME_HEADER + len), 0 when more bytes are needed, -EMSGSIZE
 * when the header announces more than WIRE_FRAME_MAX (the stream is then unusable). */
int wire_frame_split(const struct buf *in, const uint8_t **payload, size_t *len);
/* "connect", "http" or "invalid". */
const char *wire_net_kind_name(uint8_t kind);
/* The net_open host rule: 1..WIRE_NET_HOST_MAX bytes of lower-case [a-z0-9._-]. 0 or -errno
 * with reterr naming field. */
int wire_net_check_host(const char *field, const char *s, size_t len, struct errmsg *reterr);

#endif
