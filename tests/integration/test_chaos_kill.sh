# ctest: run_serial
# Chaos: N jobs (CORRAL_CHAOS_JOBS, default 30; the full run is 200), three workers with
# a 3 s lease, one of them SIGKILLed together with its VMs every CORRAL_CHAOS_KILL_EVERY seconds
# (default 6) and restarted a second later under the same id. Every job must reach exactly one
# terminal result (succeeded), none may be lost, every re-run must be visible in the job's output
# stream as a new attempt, and no older attempt may write after a newer one was claimed
# (tests/lib/chaos_check.py). Prints the numbers (jobs, kills, re-runs, wall time).
source "$SRC_DIR/tests/lib/harness.sh"
N=${CORRAL_CHAOS_JOBS:-30}
EVERY=${CORRAL_CHAOS_KILL_EVERY:-6}
start_redis
# cold boots only: three warm pools would triple the VMs on two shared cores
for w in w1 w2 w3; do
	start_worker "$w" --lease 3 --no-pool
done
t0=$SECONDS
for ((i = 0; i < N; i++)); do
	corral submit --id "c$i" --attempts 20 -- sh -c "echo job-$i" >/dev/null
done

results() {
	local n
	n=$(rcli --scan --pattern 'corral:{q}:result:c*' | wc -l)
	[ "$n" -ge "$N" ]
}
kills=0
victims=(w1 w2 w3)
deadline=$((SECONDS + ${CORRAL_CHAOS_DEADLINE:-$((60 + N * 4))}))
next_kill=$((SECONDS + EVERY))
until results; do
	[ "$SECONDS" -lt "$deadline" ] ||
		fail "only $(rcli --scan --pattern 'corral:{q}:result:c*' | wc -l) of $N results"
	if [ "$SECONDS" -ge "$next_kill" ]; then
		v=${victims[$((kills % 3))]}
		kill_worker "$v"
		kills=$((kills + 1))
		note "kill $kills: $v at $((SECONDS - t0)) s, $(rcli --scan --pattern 'corral:{q}:result:c*' | wc -l) results so far"
		sleep 1
		start_worker "$v" --lease 3 --no-pool
		next_kill=$((SECONDS + EVERY))
	fi
	sleep 0.5
done
wall=$((SECONDS - t0))
summary=$(python3 "$SRC_DIR/tests/lib/chaos_check.py" "$REDIS_SOCK" "$N") ||
	fail "chaos check: $summary"
note "$summary kills=$kills wall_s=$wall takeovers=$(worker_logs | grep -c 'ev=reaper.takeover') rereads=$(worker_logs | grep -c 'ev=reaper.reread')"
assert_eq "queue empty" 0 "$(rcli XLEN 'corral:{q}:jobs')"
assert_eq "nothing pending" 0 "$(rcli XPENDING 'corral:{q}:jobs' workers | head -1)"
[ "$kills" -ge 1 ] || fail "no worker was killed: the run was too short to mean anything"
