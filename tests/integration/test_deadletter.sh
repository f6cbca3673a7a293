# Malformed jobs pushed with raw redis-cli (not msgpack, wrong types, missing argv, oversized
# field, no `job` field) are each dead-lettered with a reason naming the problem, acked and
# removed from the queue; those with a readable id get a `dead` result. corrald survives and
# runs a normal job afterwards.
source "$SRC_DIR/tests/lib/harness.sh"
harness_start

Q='corral:{q}:jobs'
DEAD='corral:{q}:dead'


push() {	# the job bytes come on stdin
	rcli -x XADD "$Q" '*' job >/dev/null
}

printf '\xc1this is not msgpack' | push	# 0xc1 is never valid msgpack
mp '{"v": 1, "id": "wrongtype", "argv": "ls -l"}' | push
mp '{"v": 1, "id": "noargv"}' | push
mp '{"v": 1, "id": "oversized", "argv": ["echo", big]}' | push
rcli XADD "$Q" '*' notjob 1 >/dev/null

dead_count() {
	[ "$(rcli XLEN "$DEAD")" -ge "$1" ]
}
wait_for 60 dead_count 5

reasons=$(rcli XRANGE "$DEAD" - + | awk 'prev=="reason"{print} {prev=$0}')
note "dead reasons: $(echo "$reasons" | tr '\n' '|')"
assert_contains "not msgpack" "$reasons" "not msgpack"
assert_contains "wrong type" "$reasons" "argv: expected array, got string"
assert_contains "missing argv" "$reasons" "argv: missing"
assert_contains "oversized" "$reasons" "argv[1]: 70000 bytes, longer than"
assert_contains "no job field" "$reasons" "no 'job' field"
ids=$(rcli XRANGE "$DEAD" - + | awk 'prev=="id"{print} {prev=$0}' | tr '\n' ' ')
assert_contains "dead ids" "$ids" "wrongtype noargv oversized"
deliveries=$(rcli XRANGE "$DEAD" - + | awk 'prev=="deliveries"{print} {prev=$0}' | sort -u)
assert_eq "deliveries" 1 "$deliveries"
# the raw bytes are kept
assert_contains "raw job kept" "$(rcli XRANGE "$DEAD" - + COUNT 1)" "this is not msgpack"

for id in wrongtype noargv oversized; do
	assert_eq "$id state" dead "$(result_field "$id" state)"
done
assert_contains "dead reason in result" "$(result_field noargv reason)" "argv: missing"

# acked and deleted: nothing pending, nothing left in the queue
assert_eq "pending" 0 "$(rcli XPENDING "$Q" workers | head -1)"
out=$(corral run -- sh -c 'echo still-works')
assert_eq "normal job after dead letters" still-works "$out"
assert_eq "queue length" 0 "$(rcli XLEN "$Q")"
assert_corrald_alive
