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
no_qemu() {	# the jailer takes QEMU down asynchronously
	[ -z "$(harness_qemu_pids)" ]
}
wait_for 5 no_qemu

start_corrald
wait_for 90 corral result "$later"
assert_eq "queued job run by the next worker" second "$(corral logs --no-follow "$later")"

# Drain timeout: a job that outlives it is abandoned (VM destroyed, no result) and handed back
# without counting the delivery (entry pending, idle past the lease, delivery count unchanged),
# corrald still exits 0, and the next start runs the job again as attempt 2.
harness_stop_corrald
start_corrald --drain-timeout 2
id=$(corral submit --id outlives -- sh -c 'sleep 8; echo made-it')
wait_for 90 grep -q 'ev=job.started job=outlives' "$T/corrald.log"
t0=$SECONDS
kill -TERM "$CORRALD_PID"
set +e
wait "$CORRALD_PID"
rc=$?
set -e
CORRALD_PID=
assert_eq "corrald exit code after the drain timeout" 0 "$rc"
[ $((SECONDS - t0)) -le 10 ] || fail "drain timeout of 2 s took $((SECONDS - t0)) s"
grep -q 'ev=job.abandoned job=outlives' "$T/corrald.log" || fail "job not abandoned"
grep -q 'ev=job.handed_back job=outlives .*retry=0 outcome=ok' "$T/corrald.log" ||
	fail "job not handed back"
wait_for 5 no_qemu
assert_eq "abandoned entry still pending" 1 "$(rcli XPENDING 'corral:{q}:jobs' workers | head -1)"
# RETRYCOUNT deliveries - 1: the interrupted delivery does not count; the next read is 1 again
assert_eq "hand-back did not count a delivery" 0 \
	"$(rcli XPENDING 'corral:{q}:jobs' workers - + 1 | sed -n 4p)"
set +e
corral result outlives >/dev/null 2>&1
rc=$?
set -e
assert_eq "no result for the abandoned job" 1 "$rc"
start_corrald
wait_for 90 corral result outlives
assert_eq "abandoned job re-run" 2 "$(result_field outlives attempt)"
assert_contains "re-run output" "$(corral logs --no-follow outlives)" made-it
