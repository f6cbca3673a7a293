# ctest: run_serial
# Redis killed (SIGKILL) and restarted with AOF (appendfsync always) in the middle of a run of
# N jobs (CORRAL_CHAOS_REDIS_JOBS, default 10) on two workers: no job is lost, every job ends
# with exactly one result (output produced during the outage may be missing: best effort), the workers reconnect every connection with backoff (no busy loop,
# no log flood), re-subscribe, and the jobs that were running during the outage keep running
# and deliver their results after the reconnect without a re-run.
source "$SRC_DIR/tests/lib/harness.sh"
N=${CORRAL_CHAOS_REDIS_JOBS:-10}
export REDIS_AOF=1
start_redis
for w in w1 w2; do
	start_worker "$w" --lease 10 --no-pool
done
for ((i = 0; i < N; i++)); do
	corral submit --id "c$i" -- sh -c "sleep 3; echo job-$i" >/dev/null
done
# jobs running right now: started, not finished
inflight() {
	comm -23 <(cat "$T"/w*.log | sed -n 's/.*ev=job.started job=\(c[0-9]*\) .*/\1/p' | sort -u) \
		<(cat "$T"/w*.log | sed -n 's/.*ev=job.finished job=\(c[0-9]*\) .*/\1/p' | sort -u)
}
some_done_some_running() {
	[ "$(rcli --scan --pattern 'corral:{q}:result:c*' | wc -l)" -ge 1 ] && [ -n "$(inflight)" ]
}
wait_for 180 some_done_some_running
inflight=$(inflight)
kill -KILL "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null || true
sleep 3
start_redis
results() {
	[ "$(rcli --scan --pattern 'corral:{q}:result:c*' | wc -l)" -ge "$N" ]
}
wait_for $((120 + N * 10)) results
# output written while Redis was away is lost (best effort); the in-flight jobs' results are not
summary=$(python3 "$SRC_DIR/tests/lib/chaos_check.py" "$REDIS_SOCK" "$N" "$(echo $inflight | tr ' ' ,)") ||
	fail "check after the restart: $summary"
note "$summary in-flight during the outage: $(echo $inflight)"
for j in $inflight; do
	assert_eq "job $j, running during the outage, not re-run" 1 "$(result_field "$j" attempt)"
done
for w in w1 w2; do
	worker_alive "$w" || fail "$w died"
	for c in blocking commands subscriber; do
		[ "$(grep -c "ev=redis.up conn=$c" "$T/$w.log")" -ge 2 ] || fail "$w: $c did not reconnect"
	done
	n=$(grep -c 'ev=redis.connect_failed' "$T/$w.log" || true)
	[ "$n" -le 9 ] || fail "$w: $n connect_failed lines for a 3 s outage (log flood)"
done
assert_eq "queue empty" 0 "$(rcli XLEN 'corral:{q}:jobs')"
assert_eq "nothing pending" 0 "$(rcli XPENDING 'corral:{q}:jobs' workers | head -1)"
assert_eq "after the restart" ok "$(corral run -- sh -c 'echo ok')"
