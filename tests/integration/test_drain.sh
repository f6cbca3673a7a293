# SIGTERM while a job runs: corrald stops claiming, lets the job finish (its result is written),
# and exits 0; a job queued meanwhile is left for the next worker, which runs it.
source "$SRC_DIR/tests/lib/harness.sh"
harness_start

id=$(corral submit -- sh -c 'sleep 4; echo finished')
running() {
	grep -q "ev=job.started job=$id" "$T/corrald.log"
}
wait_for 90 running
later=$(corral submit -- sh -c 'echo second')
kill -TERM "$CORRALD_PID"
set +e
wait "$CORRALD_PID"
rc=$?
set -e
CORRALD_PID=
assert_eq "corrald exit code" 0 "$rc"
assert_eq "drained job" succeeded "$(result_field "$id" state)"
assert_eq "drained output" finished "$(corral logs --no-follow "$id")"
set +e
corral result "$later" >/dev/null 2>&1
rc=$?
set -e
assert_eq "queued job not run by the draining worker" 1 "$rc"
[ -z "$(harness_qemu_pids)" ] || fail "QEMU left after corrald exited"

start_corrald
wait_for 90 corral result "$later"
assert_eq "queued job run by the next worker" second "$(corral logs --no-follow "$later")"
