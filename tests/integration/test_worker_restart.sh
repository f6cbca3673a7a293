# A worker SIGKILLed mid-job and restarted under the same consumer name first re-reads its own
# pending entries: the job runs again as attempt 2, the waiting client sees it through to the
# end, and the output stream holds both attempts.
source "$SRC_DIR/tests/lib/harness.sh"
harness_start

corral run --id again -- sh -c 'echo start; sleep 3; echo end' >"$T/o" 2>"$T/e" &
client=$!
started() {
	grep -q 'ev=job.started job=again' "$T/corrald.log"
}
wait_for 90 started
kill -KILL "$CORRALD_PID"
wait "$CORRALD_PID" 2>/dev/null || true
CORRALD_PID=
assert_eq "pending for the dead worker" 1 "$(rcli XPENDING 'corral:{q}:jobs' workers | head -1)"

start_corrald
client_done() {
	! kill -0 "$client"
}
wait_for 120 client_done
set +e
wait "$client"
rc=$?
set -e
assert_eq "client exit code" 0 "$rc"
assert_eq "attempt" 2 "$(result_field again attempt)"
assert_eq "state" succeeded "$(result_field again state)"
assert_contains "client output" "$(cat "$T/o")" end
assert_contains "attempt note" "$(cat "$T/e")" "attempt 2"
assert_eq "nothing pending" 0 "$(rcli XPENDING 'corral:{q}:jobs' workers | head -1)"
