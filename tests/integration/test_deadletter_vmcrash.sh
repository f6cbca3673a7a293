# A job whose VM crashes every time (the test SIGKILLs its QEMU as soon as the job runs: a real
# VM crash, nothing mocked) is retried with backoff as a new attempt each time, and after
# max_attempts deliveries it is dead-lettered, atomically with its ack: result `dead` with the
# reason, one dead-letter entry with the delivery count, a final event, and no further run.
source "$SRC_DIR/tests/lib/harness.sh"
start_redis
start_worker w1 --lease 3

corral submit --id crashy --attempts 3 -- sh -c 'echo up; sleep 60' >/dev/null
crashes=0
deadline=$((SECONDS + 240))
while ! corral result crashy >/dev/null 2>&1; do
	[ "$SECONDS" -lt "$deadline" ] || fail "no result after 240s ($crashes crashes)"
	n=$(grep -c 'ev=job.started job=crashy' "$T/w1.log" || true)
	if [ "$n" -gt "$crashes" ]; then
		for p in $(job_vm_pids "$T/w1.log" crashy); do
			kill -KILL "$p" 2>/dev/null || true
		done
		crashes=$n
		note "crashed the VM of run $n"
	fi
	sleep 0.2
done
assert_eq "state" dead "$(result_field crashy state)"
assert_contains "reason" "$(result_field crashy reason)" "max attempts 3 reached: vm:"
assert_eq "runs" 3 "$(grep -c 'ev=job.started job=crashy' "$T/w1.log")"
assert_eq "retries" 2 "$(grep -c 'ev=job.retry job=crashy' "$T/w1.log")"
dead=$(dead_entries)
assert_eq "dead-letter entries" 1 "$(printf '%s\n' "$dead" | grep -c 'id=crashy')"
assert_contains "dead-letter deliveries" "$dead" "deliveries=3"
assert_contains "dead-letter reason" "$dead" "reason=max_attempts_3_reached"
msgs=$(out_msgs crashy)
for a in 1 2 3; do
	printf '%s\n' "$msgs" | grep -q "^attempt=$a seq=0 kind=event state=claimed" ||
		fail "attempt $a not in the output stream: $msgs"
done
assert_eq "final events" 1 "$(printf '%s\n' "$msgs" | grep -c 'state=dead')"
assert_eq "queue empty" 0 "$(rcli XLEN 'corral:{q}:jobs')"
assert_eq "nothing pending" 0 "$(rcli XPENDING 'corral:{q}:jobs' workers | head -1)"
sleep 5		# past lease + backoff: it must not run once more
assert_eq "runs after the dead letter" 3 "$(grep -c 'ev=job.started job=crashy' "$T/w1.log")"
worker_alive w1 || fail "w1 died"
