# tests/lib/harness.sh: sourced by every integration test (bash). Gives each test its own world
# in a temp dir: a real redis-server on a unix socket, a real corrald with its run dir there,
# and helpers with deadlines. Everything it started is killed on exit (corrald, any QEMU under
# the test's run dir, redis); on failure the tails of the logs are printed.
#
#   source "$SRC_DIR/tests/lib/harness.sh"
#   harness_start                 # redis + corrald; exports CORRAL_REDIS
#   out=$(corral run -- echo hi)  # the CLI against this test's Redis
#
# More workers: start_worker NAME [FLAGS] (own --id, run dir and log $T/NAME.log), kill_worker
# NAME (SIGKILL with its VMs), stop_worker NAME (SIGTERM; a non-zero exit fails the test).
# out_msgs ID: the job's output stream decoded, one line per message (tests/lib/redis_msgs.py).
#
# Env: BUILD_DIR (required), SRC_DIR, CORRAL_TEST_ACCEL (default auto),
# CORRAL_TEST_CONCURRENCY (default 1), CORRAL_TEST_KEEP=1 keeps the temp dir,
# REDIS_AOF=1 starts Redis with appendonly yes / appendfsync always.
# Exit 77 (skip) when the binaries, guest images, redis-server or QEMU are missing.

set -euo pipefail

: "${BUILD_DIR:?BUILD_DIR must point at a build directory}"
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
SRC_DIR=${SRC_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
HARNESS_NAME=$(basename "${0%.sh}")
CORRAL_BIN=$BUILD_DIR/bin/corral
CORRALD_BIN=$BUILD_DIR/bin/corrald
IMAGES=${CORRAL_TEST_IMAGES:-$BUILD_DIR/images}

skip() {
	echo "SKIP $HARNESS_NAME: $*" >&2
	exit 77
}

fail() {
	echo "FAIL $HARNESS_NAME: $*" >&2
	exit 1
}

note() {
	echo "# $HARNESS_NAME: $*" >&2
}

for b in "$CORRAL_BIN" "$CORRALD_BIN"; do
	[ -x "$b" ] || skip "missing $b (build first)"
done
for f in vmlinux initramfs.cpio.gz base.ext4; do
	[ -e "$IMAGES/$f" ] || skip "missing guest artefact $IMAGES/$f (run images/build --out $IMAGES)"
done
for c in redis-server redis-cli qemu-system-x86_64 python3; do
	command -v "$c" >/dev/null || skip "missing $c"
done

# Short path: QEMU's unix socket paths must fit in 107 bytes.
T=$(mktemp -d /tmp/ct.XXXXXX)
REDIS_SOCK=$T/redis.sock
RUN_DIR=$T/run
REDIS_PID=
CORRALD_PID=
export CORRAL_REDIS=unix://$REDIS_SOCK

# QEMU processes whose command line mentions this test's run dir.
harness_qemu_pids() {
	pgrep -f "qemu-system.*$RUN_DIR/" || true
}

harness_tails() {
	local f
	for f in "$T/corrald.log" "$T/corrald.log.1" "$T"/w*.log "$T/redis.log"; do
		[ -s "$f" ] || continue
		echo "---- tail $f" >&2
		tail -n 60 "$f" >&2
	done
	for f in "$RUN_DIR"/vm-*/console.log; do
		[ -s "$f" ] || continue
		echo "---- tail $f" >&2
		tail -n 20 "$f" >&2
	done
}

# Stops corrald: SIGTERM, then SIGKILL after $1 seconds (default 20). Sets CORRALD_STATUS to
# its exit status (a clean drain is 0; sanitizer reports make it non-zero).
CORRALD_STATUS=0
harness_stop_corrald() {
	local grace=${1:-20} i
	[ -n "$CORRALD_PID" ] || return 0
	kill -TERM "$CORRALD_PID" 2>/dev/null || true
	for ((i = 0; i < grace * 10; i++)); do
		kill -0 "$CORRALD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$CORRALD_PID" 2>/dev/null; then
		note "corrald did not stop in ${grace}s: SIGKILL"
		kill -KILL "$CORRALD_PID" 2>/dev/null || true
	fi
	CORRALD_STATUS=0
	wait "$CORRALD_PID" 2>/dev/null || CORRALD_STATUS=$?
	CORRALD_PID=
}

declare -A WORKER_PID=()
WORKER_STATUS=0

harness_cleanup() {
	local rc=$? p n
	set +e
	harness_stop_corrald 20
	if [ "$rc" -eq 0 ] && [ "$CORRALD_STATUS" -ne 0 ]; then
		echo "FAIL $HARNESS_NAME: corrald exited with status $CORRALD_STATUS on SIGTERM" >&2
		rc=1
	fi
	for n in "${!WORKER_PID[@]}"; do
		stop_worker "$n" 20
		if [ "$rc" -eq 0 ] && [ "$WORKER_STATUS" -ne 0 ]; then
			echo "FAIL $HARNESS_NAME: worker $n exited with status $WORKER_STATUS" >&2
			rc=1
		fi
	done
	if [ "$rc" -eq 0 ] && grep -qE 'Sanitizer|runtime error:' "$T"/corrald.log* "$T"/w*.log* \
		2>/dev/null; then
		echo "FAIL $HARNESS_NAME: sanitizer report in the corrald log" >&2
		rc=1
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		echo "---- $HARNESS_NAME failed (exit $rc); temp dir $T" >&2
		harness_tails
	fi
	for p in $(harness_qemu_pids); do
		kill -KILL "$p" 2>/dev/null
	done
	if [ -n "$REDIS_PID" ]; then
		kill -TERM "$REDIS_PID" 2>/dev/null
		wait "$REDIS_PID" 2>/dev/null
	fi
	if [ "${CORRAL_TEST_KEEP:-0}" = 1 ]; then
		echo "# kept $T" >&2
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap harness_cleanup EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS CMD [ARGS...]: runs CMD every 0.1 s until it succeeds; fails at the deadline.
wait_for() {
	local secs=$1 deadline
	shift
	deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || fail "timed out after ${secs}s waiting for: $*"
		sleep 0.1
	done
}

# rcli ARGS: redis-cli against this test's Redis.
rcli() {
	redis-cli -s "$REDIS_SOCK" "$@"
}

# mp EXPR: the msgpack encoding of a Python literal on stdout (tests/lib/mp.py: no packages,
# and it writes what a strict encoder refuses).
mp() {
	python3 "$SRC_DIR/tests/lib/mp.py" "$1"
}

# submit_job ID PYTHON-DICT [TIMEOUT_MS]: XADDs a v1 job {v, id, timeout_ms (default 120000)}
# updated with the dict, encoded by tests/lib/mp.py, onto the default queue.
submit_job() {
	local q='corral:{q}:jobs'
	python3 "$SRC_DIR/tests/lib/mp.py" "$2" "$1" "${3:-120000}" | rcli -x XADD "$q" '*' job >/dev/null
}

corral() {
	"$CORRAL_BIN" "$@"
}

start_redis() {
	local aof=(--appendonly no)
	[ "${REDIS_AOF:-0}" = 1 ] && aof=(--appendonly yes --appendfsync always)
	redis-server --port 0 --unixsocket "$REDIS_SOCK" --unixsocketperm 700 --save '' \
		"${aof[@]}" --dir "$T" --daemonize no >>"$T/redis.log" 2>&1 &
	REDIS_PID=$!
	wait_for 10 rcli ping
}

corrald_alive() {
	[ -n "$CORRALD_PID" ] && kill -0 "$CORRALD_PID" 2>/dev/null
}

# Warm pool (worker/wpool.h): off unless the test passes --pool-* flags or sets CORRAL_TEST_POOL=1
# (a template build per test would load the 2 cores; some older tests assume slow VM starts).
harness_pool_flags() {
	case " $* " in *" --pool-"* | *" --no-pool "*) return 0 ;; esac
	[ "${CORRAL_TEST_POOL:-0}" = 1 ] || echo --no-pool
}

# start_corrald [EXTRA FLAGS]: starts corrald and waits until it reads the queue.
start_corrald() {
	[ -e "$T/corrald.log" ] && cat "$T/corrald.log" >>"$T/corrald.log.1"
	# shellcheck disable=SC2046
	"$CORRALD_BIN" --images "$IMAGES" --run-dir "$RUN_DIR" --id "t$$" \
		--concurrency "${CORRAL_TEST_CONCURRENCY:-1}" --accel "${CORRAL_TEST_ACCEL:-auto}" \
		--drain-timeout 20 $(harness_pool_flags "$@") "$@" >"$T/corrald.log" 2>&1 &
	CORRALD_PID=$!
	local deadline=$((SECONDS + 90))
	until grep -q 'ev=claim.pending_done' "$T/corrald.log" 2>/dev/null; do
		corrald_alive || fail "corrald exited during start-up"
		[ "$SECONDS" -lt "$deadline" ] || fail "corrald not reading the queue after 90s"
		sleep 0.1
	done
}

harness_start() {
	start_redis
	start_corrald "$@"
}

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
}

# assert_contains WHAT HAYSTACK NEEDLE
assert_contains() {
	case "$2" in
	*"$3"*) ;;
	*) fail "$1: '$3' not found in: $(printf '%s' "$2" | head -c 2000)" ;;
	esac
}

# result_field ID FIELD: one field of `corral result --json` (python3 for the JSON).
result_field() {
	corral result --json "$1" | python3 -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v=v[k]
print(json.dumps(v) if isinstance(v,(dict,list,bool)) or v is None else v)' "$2"
}

# The worker must survive everything a test throws at it.
assert_corrald_alive() {
	corrald_alive || fail "corrald died"
}

# ---- several workers ----

worker_alive() {
	[ -n "${WORKER_PID[$1]:-}" ] && kill -0 "${WORKER_PID[$1]}" 2>/dev/null
}

# start_worker NAME [EXTRA FLAGS]: a corrald with --id NAME, run dir $RUN_DIR/NAME, log
# $T/NAME.log (the previous run's log is appended to $T/NAME.log.old); waits until it reads.
start_worker() {
	local name=$1 deadline
	shift
	[ -e "$T/$name.log" ] && cat "$T/$name.log" >>"$T/$name.log.old"
	mkdir -p "$RUN_DIR/$name"
	"$CORRALD_BIN" --images "$IMAGES" --run-dir "$RUN_DIR/$name" --id "$name" \
		--concurrency "${CORRAL_TEST_CONCURRENCY:-1}" --accel "${CORRAL_TEST_ACCEL:-auto}" \
		--drain-timeout 20 $(harness_pool_flags "$@") "$@" >"$T/$name.log" 2>&1 &
	WORKER_PID[$name]=$!
	deadline=$((SECONDS + 90))
	until grep -q 'ev=claim.pending_done' "$T/$name.log" 2>/dev/null; do
		worker_alive "$name" || fail "worker $name exited during start-up"
		[ "$SECONDS" -lt "$deadline" ] || fail "worker $name not reading after 90s"
		sleep 0.1
	done
}

# QEMU processes of one worker (by its run dir).
worker_qemu_pids() {
	pgrep -f "qemu-system.*$RUN_DIR/$1/" || true
}

# kill_worker NAME: SIGKILL the worker and every VM it started (a host crash).
kill_worker() {
	local p
	[ -n "${WORKER_PID[$1]:-}" ] || return 0
	kill -KILL "${WORKER_PID[$1]}" 2>/dev/null || true
	for p in $(worker_qemu_pids "$1"); do
		kill -KILL "$p" 2>/dev/null || true
	done
	wait "${WORKER_PID[$1]}" 2>/dev/null || true
	unset "WORKER_PID[$1]"
}

# stop_worker NAME [GRACE]: SIGTERM, SIGKILL after GRACE seconds (default 20); WORKER_STATUS
# gets the exit status.
stop_worker() {
	local pid=${WORKER_PID[$1]:-} grace=${2:-20} i
	WORKER_STATUS=0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < grace * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		note "worker $1 did not stop in ${grace}s: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || WORKER_STATUS=$?
	unset "WORKER_PID[$1]"
}

# out_msgs ID: the job's output stream, one decoded message per line.
out_msgs() {
	python3 "$SRC_DIR/tests/lib/redis_msgs.py" "$REDIS_SOCK" out "corral:{q}:out:$1"
}

# dead_entries: the dead-letter stream, one entry per line (field=value, without the job).
dead_entries() {
	python3 "$SRC_DIR/tests/lib/redis_msgs.py" "$REDIS_SOCK" fields 'corral:{q}:dead'
}

# worker_logs: every worker log so far (current and old), for greps across restarts.
worker_logs() {
	cat "$T"/corrald.log* "$T"/w*.log* 2>/dev/null || true
}

# job_vm_pids LOG JOB: the QEMU processes of the VM that JOB's latest run got (from its
# ev=job.vm_ready line in LOG: corrald's pid and the VM id name its run dir vm-<pid>-<id>).
job_vm_pids() {
	local line pid vm
	line=$(grep "ev=job.vm_ready job=$2 " "$1" | tail -1)
	[ -n "$line" ] || return 0
	pid=$(printf '%s\n' "$line" | sed -n 's/.* pid=\([0-9]*\) .*/\1/p')
	vm=$(printf '%s\n' "$line" | sed -n 's/.* vm=\([0-9]*\) .*/\1/p')
	pgrep -f "qemu-system.*/vm-$pid-$vm/" || true
}
