# Idempotency keys, the worker registry and the queue view. A resubmission with the same
# idempotency key returns the first job's id and adds no entry; after the key's TTL a new job is
# queued. `corral workers` lists the live worker with its capacity, accelerator and pool state
# (`off`: the harness passes --no-pool); its record expires once the worker is gone. `corral
# queue` shows depth, pending, lag and dead letters. Consumers that died with nothing pending are
# pruned; one with a pending entry never is.
source "$SRC_DIR/tests/lib/harness.sh"
start_redis
rcli XGROUP CREATE 'corral:{q}:jobs' workers 0 MKSTREAM >/dev/null

# idempotency (no worker yet: the entries stay queued)
a=$(corral submit --idempotency-key order-42 --idempotency-ttl 3 -- echo one)
b=$(corral submit --idempotency-key order-42 -- echo two 2>/dev/null)
assert_eq "same key, same id" "$a" "$b"
assert_eq "one entry" 1 "$(rcli XLEN 'corral:{q}:jobs')"
c=$(corral submit --idempotency-key order-43 -- echo three)
[ "$c" != "$a" ] || fail "another key gave the same id"
assert_eq "two entries" 2 "$(rcli XLEN 'corral:{q}:jobs')"
sleep 3.5
d=$(corral submit --idempotency-key order-42 -- echo four)
[ "$d" != "$a" ] || fail "key still held after its TTL"
assert_eq "three entries" 3 "$(rcli XLEN 'corral:{q}:jobs')"
q=$(corral queue)
assert_contains "queue depth" "$q" "depth      3"
assert_contains "queue lag" "$q" "lag        3"
assert_contains "queue dead" "$q" "dead       0"

# a dead consumer with a pending entry, and one without
rcli XREADGROUP GROUP workers ghost-busy COUNT 1 STREAMS 'corral:{q}:jobs' '>' >/dev/null
rcli XGROUP CREATECONSUMER 'corral:{q}:jobs' workers ghost-idle >/dev/null
sleep 1.2
q=$(corral queue)
assert_contains "pending" "$q" "pending    1"
assert_contains "lag" "$q" "lag        2"

start_worker w1 --lease 3 --prune-idle 1
consumers() {
	rcli XINFO CONSUMERS 'corral:{q}:jobs' workers | grep -A1 '^name$' | grep -v '^name$\|^--$' || true
}
idle_pruned() {
	! consumers | grep -q ghost-idle
}
wait_for 10 idle_pruned
# ghost-busy's entry is taken over only after the 3 s lease: it is still pending now
assert_contains "the busy ghost stays" "$(consumers)" ghost-busy
wait_for 60 corral result "$a"
wait_for 60 corral result "$c"
wait_for 60 corral result "$d"
w=$(corral workers)
assert_contains "workers list" "$w" "w1"
assert_contains "live count" "$w" "1 live worker"
acc=$(rcli HGET 'corral:{q}:worker:w1' accel)
case "$acc" in kvm | tcg) ;; *) fail "registry accel field: '$acc'" ;; esac
case "${CORRAL_TEST_ACCEL:-auto}" in kvm | tcg) assert_eq "registry accel" "$CORRAL_TEST_ACCEL" "$acc" ;; esac
assert_contains "workers accel" "$w" "accel=$acc"
echo "$w" | grep -Eq '^w1 .* off$' || fail "workers: pool state not 'off' (--no-pool) in: $w"
assert_contains "workers templates" "$w" "templates=default@0"
echo "$w" | grep -Eq 'budget=mem=[0-9]+/[0-9]+ cpu=[0-9]+/[0-9]+' || fail "workers: no budget in: $w"
grep -q 'ev=reaper.takeover .*prev=ghost-busy' "$T/w1.log" || fail "no takeover from ghost-busy"
q=$(corral queue)
assert_contains "pending" "$q" "pending    0"
assert_contains "workers" "$q" "workers    1"
# `corral run` with a used key follows the first job instead of submitting
assert_eq "run with a used key" three "$(corral run --idempotency-key order-43 -- echo other 2>/dev/null)"
assert_eq "no entry added by run" 0 "$(rcli XLEN 'corral:{q}:jobs')"
stop_worker w1
assert_eq "worker exit status" 0 "$WORKER_STATUS"
gone() {
	! corral workers | grep -q '^w1 '
}
wait_for 20 gone
