# A burst of 50 jobs against a pool of min 2: all finish, the pool grows (claims found it empty),
# then shrinks back to min once its VMs sit idle.
CORRAL_TEST_CONCURRENCY=2
source "$SRC_DIR/tests/lib/harness.sh"
PORT=$((20000 + ($$ + 13) % 20000))
metric() {
	curl -fsS "http://127.0.0.1:$PORT/metrics" | awk -v n="$1" '$1 ~ "^"n"({|$)" {print $2}'
}
ready2() { [ "$(metric corral_pool_ready)" -ge 2 ]; }

harness_start --pool-min 2 --pool-max 5 --pool-idle-ms 3000 --pool-warmup "" --metrics-port "$PORT"
wait_for 180 ready2
ids=()
for i in $(seq 1 50); do
	ids+=("$(corral submit --id "b$i" -- echo "hi$i")")
done
for i in $(seq 1 50); do
	wait_for 300 corral result "b$i"
	assert_eq "b$i" "hi$i" "$(corral logs --no-follow "b$i")"
done
grows=$(metric corral_pool_grows_total)
[ "$grows" -ge 1 ] || fail "the pool did not grow (grows=$grows)"
warm=$(metric corral_vm_warm_total)
[ "$warm" -ge 10 ] || fail "only $warm of 50 jobs got a warm VM"
shrunk() { [ "$(metric corral_pool_shrinks_total)" -ge 1 ] && [ "$(metric corral_pool_target)" = 2 ]; }
wait_for 120 shrunk
note "ok: grows=$grows warm=$warm cold=$(metric corral_vm_cold_total) target=$(metric corral_pool_target)"
