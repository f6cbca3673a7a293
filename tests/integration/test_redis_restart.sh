# Redis restarts under an idle and under a busy worker: corrald reconnects with backoff,
# re-creates the consumer group and its scripts (the restarted server has neither), and runs
# jobs again; `corral run` in flight over the restart still ends with the job's exit code.
source "$SRC_DIR/tests/lib/harness.sh"
harness_start

restart_redis() {
	kill -KILL "$REDIS_PID"
	wait "$REDIS_PID" 2>/dev/null || true
	sleep "${1:-0}"
	start_redis
}

assert_eq "before" one "$(corral run -- sh -c 'echo one')"
restart_redis 1
wait_for 30 grep -q 'ev=claim.group_created' "$T/corrald.log"
reconnected() {
	[ "$(grep -c 'ev=redis.up conn=blocking' "$T/corrald.log")" -ge 2 ]
}
wait_for 30 reconnected
assert_eq "after an idle restart" two "$(corral run -- sh -c 'echo two')"

# An emptied script cache (failover, SCRIPT FLUSH): EVALSHA answers NOSCRIPT, EVAL takes over.
rcli SCRIPT FLUSH >/dev/null
assert_eq "after SCRIPT FLUSH" flushed "$(corral run -- sh -c 'echo flushed')"
grep -q 'ev=script.noscript script=result' "$T/corrald.log" || fail "NOSCRIPT path not taken"

# Restart while a job runs: the new server has no scripts, no group and no entry. The job's
# result is still recorded (the entry was lost, the run was not), and the client, which lost its
# subscription, re-subscribes, replays and ends with the job's exit code.
corral run --id busy -- sh -c 'sleep 4; echo three; exit 5' >"$T/o" 2>"$T/e" &
client=$!
started() {
	grep -q 'ev=job.started job=busy' "$T/corrald.log"
}
wait_for 90 started
restart_redis 0
client_done() {
	! kill -0 "$client"
}
wait_for 60 client_done
set +e
wait "$client"
rc=$?
set -e
assert_eq "client exit code over a restart" 5 "$rc"
assert_contains "client output over a restart" "$(cat "$T/o")" three
assert_eq "result after a restart" 5 "$(result_field busy exit_code)"
assert_corrald_alive
assert_eq "after a busy restart" four "$(corral run -- sh -c 'echo four')"
