# A job over its wall-clock limit ends timed_out within seconds (exit 124), its VM is gone, and
# the worker runs the next job normally.
source "$SRC_DIR/tests/lib/harness.sh"
harness_start

t0=$SECONDS
set +e
corral run --id slow --timeout 2 -- sleep 30 >"$T/o" 2>"$T/e"
rc=$?
set -e
took=$((SECONDS - t0))
assert_eq "exit code" 124 "$rc"
assert_contains "stderr" "$(cat "$T/e")" "timed_out: timeout 2000 ms"
[ "$took" -lt 60 ] || fail "timeout took ${took}s (boot included)"
assert_eq "state" timed_out "$(result_field slow state)"
assert_eq "reason" "timeout 2000 ms" "$(result_field slow reason)"
started=$(result_field slow timings.started_ms)
written=$(result_field slow timings.written_ms)
note "process start to result: $((written - started)) ms"
[ $((written - started)) -ge 1500 ] && [ $((written - started)) -lt 5000 ] ||
	fail "timeout of 2 s ended the job $((written - started)) ms after it started"
# the result is written after the VM is destroyed: no QEMU of this test may remain
pids=$(harness_qemu_pids)
[ -z "$pids" ] || fail "QEMU still running after the timeout: $pids"

out=$(corral run -- sh -c 'echo next')
assert_eq "next job" next "$out"
assert_corrald_alive
