# Warm pool: with --pool-min 2 the worker keeps two warm clones; jobs take them (no cold boot,
# ev=pool.miss absent), the pool refills to 2, every clone has its own randomness (kernel uuid,
# Python os.urandom) and a wall clock within 1 s of the host's, and the metrics endpoint shows
# the pool and the accelerator.
source "$SRC_DIR/tests/lib/harness.sh"
PORT=$((20000 + $$ % 20000))
harness_start --pool-min 2 --pool-max 2 --metrics-port "$PORT"

metric() {	# metric NAME: its value from the endpoint
	curl -fsS "http://127.0.0.1:$PORT/metrics" | awk -v n="$1" '$1 ~ "^"n"({|$)" {print $2}'
}
ready2() { [ "$(metric corral_pool_ready)" = 2 ]; }
wait_for 120 ready2
# (the whole body first: grep -q leaving early would fail curl's write under pipefail)
metrics=$(curl -fsS "http://127.0.0.1:$PORT/metrics")
grep -q '^corral_accel_info{accel="tcg"} 1$' <<<"$metrics" ||
	grep -q '^corral_accel_info{accel="kvm"} 1$' <<<"$metrics" ||
	fail "no accelerator in the metrics"

probe='cat /proc/sys/kernel/random/uuid; python3 -c "import os; print(os.urandom(16).hex())"; date +%s.%N'
outs=()
for i in 1 2 3 4; do
	before=$(date +%s.%N)
	outs+=("$(corral run -- sh -c "$probe")")
	after=$(date +%s.%N)
	guest=$(echo "${outs[-1]}" | sed -n 3p)
	# the guest read its clock between the host's two readings (1 s of slack each side)
	python3 -c "import sys; b,g,a=map(float,sys.argv[1:]); sys.exit(0 if b-1 <= g <= a+1 else 1)" \
		"$before" "$guest" "$after" || fail "job $i: guest clock $guest, host $before..$after"
	wait_for 60 ready2	# refilled before the next job
done
printf '%s\n' "${outs[@]}" | sed -n '1~3p;2~3p' >"$T/rand"
[ "$(wc -l <"$T/rand")" = 8 ] || fail "probe output: $(cat "$T/rand")"
[ "$(sort -u "$T/rand" | wc -l)" = 8 ] || fail "clones shared randomness: $(cat "$T/rand")"

grep -q 'ev=pool.miss' "$T/corrald.log" && fail "a job waited for a cold boot"
[ "$(metric corral_vm_warm_total)" = 4 ] || fail "warm hand-outs: $(metric corral_vm_warm_total)"
clones=$(metric corral_pool_clones_total)
[ "$clones" -ge 6 ] || fail "clones: $clones (2 + 4 refills expected)"
grep -q 'ev=vm.ready .*restored=1' "$T/corrald.log" || fail "no restored VM"
note "ok: clones=$clones"
