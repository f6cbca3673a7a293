# Cancel: `corral cancel ID` sets a durable flag and notifies the workers. A running job has its
# VM stopped within 2 s and ends `cancelled`; a queued job (the only slot is busy) is never
# started and ends `cancelled` when a worker reaches it; cancelling a finished job says so.
source "$SRC_DIR/tests/lib/harness.sh"
harness_start --lease 5

corral submit --id busy -- sh -c 'echo started; sleep 60' >/dev/null
wait_for 120 grep -q 'ev=job.started job=busy' "$T/corrald.log"
[ -n "$(job_vm_pids "$T/corrald.log" busy)" ] || fail "cannot find the job's VM"
corral submit --id queued -- sh -c 'echo must-not-run' >/dev/null
sleep 0.5
assert_eq "queued job waits" "" "$(rcli GET 'corral:{q}:result:queued')"
corral cancel queued >/dev/null
t0=$(date +%s%3N)
corral cancel busy >/dev/null
vm_gone() {
	[ -z "$(job_vm_pids "$T/corrald.log" busy)" ]
}
wait_for 5 vm_gone
gone_ms=$(($(date +%s%3N) - t0))
wait_for 30 corral result busy
# the worker's own clock: from the cancel command to the VM stopped (same host clock)
line=$(grep 'ev=job.cancel job=busy' "$T/corrald.log")
ts=$(printf '%s\n' "$line" | sed -n 's/^ts=\([^ ]*\) .*/\1/p')
acted_ms=$(($(date -d "$ts" +%s%3N) - t0))
note "cancel: worker stopped the VM ${acted_ms} ms after the command; VM process gone (polled) after ${gone_ms} ms"
[ "$acted_ms" -le 2000 ] || fail "cancel acted after ${acted_ms} ms (limit 2000)"
assert_eq "running job state" cancelled "$(result_field busy state)"
wait_for 120 corral result queued
assert_eq "queued job state" cancelled "$(result_field queued state)"
assert_contains "queued job reason" "$(result_field queued reason)" "before start"
! grep -q 'ev=job.started job=queued' "$T/corrald.log" || fail "the cancelled queued job started"
assert_eq "nothing pending" 0 "$(rcli XPENDING 'corral:{q}:jobs' workers | head -1)"
set +e
corral cancel busy >/dev/null 2>"$T/e"
rc=$?
set -e
assert_eq "cancel of a finished job" 1 "$rc"
assert_contains "message" "$(cat "$T/e")" "already finished"
assert_corrald_alive
assert_eq "a job after the cancels" ok "$(corral run -- sh -c 'echo ok')"
