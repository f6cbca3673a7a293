# A corrupted template snapshot: the clones fail to restore, each falls back to a cold boot
# (ev=pool.clone_failed fallback=boot, counted in the metrics), jobs still run, and after
# repeated failures the snapshot is invalidated and rebuilt.
source "$SRC_DIR/tests/lib/harness.sh"
PORT=$((20000 + ($$ + 7) % 20000))
metric() {
	curl -fsS "http://127.0.0.1:$PORT/metrics" | awk -v n="$1" '$1 ~ "^"n"({|$)" {print $2}'
}
ready1() { [ "$(metric corral_pool_ready)" -ge 1 ]; }

harness_start --pool-min 1 --pool-max 1 --metrics-port "$PORT"
wait_for 180 ready1
harness_stop_corrald
state=$(ls "$RUN_DIR"/snap/default-*/state)
[ -f "$state" ] || fail "no snapshot state file"
size=$(stat -c %s "$state")
head -c "$size" /dev/urandom >"$state"	# same size, garbage

start_corrald --pool-min 1 --pool-max 1 --metrics-port "$PORT"
wait_for 60 grep -q "ev=template.reused" "$T/corrald.log"
wait_for 120 grep -q 'ev=pool.clone_failed .*fallback=boot' "$T/corrald.log"
assert_eq "job output" "hi" "$(corral run -- echo hi)"
fb() { [ "$(metric corral_pool_clone_fallbacks_total)" -ge 1 ]; }
wait_for 60 fb
# two failed restores in a row: the snapshot is rebuilt, and clones restore again. Jobs take the
# pool's (cold-booted) VMs so that it clones again.
for i in 1 2 3 4 5; do
	grep -q 'ev=template.invalidated' "$T/corrald.log" && break
	wait_for 120 ready1
	assert_eq "job $i output" "hi" "$(corral run -- echo hi)"
	sleep 2
done
wait_for 180 grep -q 'ev=template.invalidated' "$T/corrald.log"
wait_for 180 grep -q 'ev=template.built' "$T/corrald.log"
restored() { grep -q 'ev=vm.ready .*restored=1' "$T/corrald.log"; }
# The pool (max 1) may still hold a cold-booted VM from before the rebuild: jobs take it, so the
# refill clones from the new snapshot.
deadline=$((SECONDS + 180))
until restored; do
	[ "$SECONDS" -lt "$deadline" ] || fail "no clone restored from the rebuilt snapshot in 180 s"
	assert_eq "job output while waiting for a restored clone" "hi" "$(corral run -- echo hi)"
	sleep 2
done
assert_eq "job output after the rebuild" "hi" "$(corral run -- echo hi)"
note "ok: fallbacks=$(metric corral_pool_clone_fallbacks_total)"
