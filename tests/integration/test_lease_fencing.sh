# Leases and fencing: a worker SIGSTOPped past its lease (its VM keeps running) loses the job to
# a second worker's reaper, which runs it again as attempt 2. Resumed, the first worker finds
# its lease gone: its late output, result and ack are refused and it drops the attempt; the
# final result is the new owner's and the output stream holds nothing of attempt 1 written
# after the takeover. A job that runs longer than several leases on a live worker is never taken.
source "$SRC_DIR/tests/lib/harness.sh"
start_redis
start_worker w1 --lease 3

# 1. long job on a live worker: renewals keep it (3 s lease, ~10 s run)
corral submit --id long -- sh -c 'sleep 10; echo long-done' >/dev/null
wait_for 120 corral result long
assert_eq "long job state" succeeded "$(result_field long state)"
# never taken while its worker lives: a re-run only follows an infrastructure retry (a boot that
# failed on an overloaded host), never a lost lease
! grep -q 'ev=job.lease_lost job=long' "$T/w1.log" || fail "the long job lost its lease"
assert_eq "long job re-runs" "$(grep -c 'ev=job.retry job=long' "$T/w1.log" || true)" \
	"$(($(result_field long attempt) - 1))"
start_worker w2 --lease 3	# started late on purpose: w1 had nobody to lose the job to

# 2. fencing: w1 paused past its lease
stop_worker w2 20	# w1 alone claims the next job
corral submit --id fenced -- sh -c 'echo first; sleep 6; echo second' >/dev/null
wait_for 90 grep -q 'ev=job.started job=fenced' "$T/w1.log"
kill -STOP "${WORKER_PID[w1]}"
before=$(out_msgs fenced | grep -c '^attempt=1 ' || true)
start_worker w2 --lease 3
wait_for 60 grep -q 'ev=reaper.takeover' "$T/w2.log"
wait_for 90 grep -q 'ev=job.started job=fenced' "$T/w2.log"
sleep 7		# the paused worker's VM has finished meanwhile: its exit waits in the socket
kill -CONT "${WORKER_PID[w1]}"
wait_for 90 corral result fenced
wait_for 30 grep -qE 'ev=job.lease_lost job=fenced|ev=job.final_skipped job=fenced' "$T/w1.log"
assert_eq "final result's worker" w2 "$(result_field fenced worker)"
assert_eq "final result's attempt" 2 "$(result_field fenced attempt)"
assert_eq "state" succeeded "$(result_field fenced state)"
after=$(out_msgs fenced | grep -c '^attempt=1 ' || true)
assert_eq "attempt 1 messages after the takeover" "$before" "$after"
msgs=$(out_msgs fenced)
case "$msgs" in
*'attempt=2 seq=0 kind=event state=claimed worker=w2 reason=takeover_from_w1'*) ;;
*) fail "takeover not recorded as attempt 2: $msgs" ;;
esac
[ "$(printf '%s\n' "$msgs" | grep -cE 'state=(succeeded|failed|timed_out|cancelled|dead)')" = 1 ] ||
	fail "not exactly one final event: $msgs"
! grep -q 'ev=job.written job=fenced' "$T/w1.log" || fail "w1 wrote a result after losing its lease"
assert_eq "nothing pending" 0 "$(rcli XPENDING 'corral:{q}:jobs' workers | head -1)"
worker_alive w1 || fail "w1 died"
