# Templates (issue 4, worker side): records in the Redis hash corral:templates (written with
# `corral template create`) decide what a job runs with. The worker serves a warm pool for
# template `big` (2 vCPUs, 512 MiB, template env, 3 s timeout, no warm-up) and nothing else. Checks:
#  - a job on big sees nproc = 2 and MemTotal ~ 512 MiB, gets the template's env with its own
#    value winning per key; its VM and a second job's come warm from the pool (no pool.miss for
#    big, claimed->vm well under a cold boot, warm hand-outs = 2); the registry lists big@1;
#  - big's 3 s timeout applies to a job without one; a job's own timeout wins;
#  - a template the worker does not serve (`wide`: 2 vCPUs, 320 MiB) boots cold with its own
#    size (ev=pool.miss reason=not_served, nproc 2, MemTotal ~ 320 MiB);
#  - an unknown template fails at once with "template 'nope' not found", and the next job runs;
#  - replacing big (version 2: 1 vCPU, 384 MiB) builds a new pool and the next job sees it;
#  - the latency histograms count the finished jobs.
source "$SRC_DIR/tests/lib/harness.sh"

PY=
for p in python3 /usr/bin/python3; do
	"$p" -c 'import msgpack' 2>/dev/null && PY=$p && break
done
[ -n "$PY" ] || skip "no python3 with msgpack"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
Q='corral:{q}:jobs'

# job ID PYTHON-DICT: XADDs a v1 job (no timeout_ms unless the dict has one).
job() {
	"$PY" - "$@" <<'PY' | rcli -x XADD "$Q" '*' job >/dev/null
import ast, msgpack, sys
j = {"v": 1, "id": sys.argv[1]}
j.update(ast.literal_eval(sys.argv[2]))
sys.stdout.buffer.write(msgpack.packb(j))
PY
}
metric() {	# metric NAME{LABELS}: its value from the endpoint
	curl -fsS "http://127.0.0.1:$PORT/metrics" | awk -v n="$1" '$1 == n {print $2}'
}
wait_result() { wait_for "${2:-180}" corral result --json "$1"; }
field() { result_field "$@"; }
log() { cat "$T/corrald.log"; }
memtotal_mib() { echo "$1" | awk '/^MemTotal:/ {print int($2 / 1024)}'; }
PROBE='nproc; grep MemTotal /proc/meminfo; echo "env $GREETING $KEEP"
cg=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)
echo "limits $(cat $cg/memory.max 2>/dev/null || echo none) $(cat $cg/pids.max 2>/dev/null || echo none)"'

start_redis
corral template create big --vcpus 2 --memory 512 --env GREETING=from-template \
	--env KEEP=template --timeout 3 --warmup '' >/dev/null
corral template create wide --vcpus 2 --memory 320 --warmup '' >/dev/null
CORRAL_TEST_CONCURRENCY=2 start_corrald --template big --pool-min 1 --pool-max 1 \
	--metrics-port "$PORT"

big_ready() { [ "$(metric 'corral_pool_ready{template="big"}')" = 1 ]; }
wait_for 300 big_ready
assert_eq "big's pool memory" 512 "$(metric 'corral_template_memory_mib{template="big"}')"

# ---- a job on big: its size, its env, a warm VM ----
job a1 "{'template': 'big', 'argv': ['sh', '-c', '''$PROBE'''], 'env': {'KEEP': 'job'}}"
wait_result a1
assert_eq "a1 state" succeeded "$(field a1 state)"
out=$(corral logs a1)
assert_eq "a1 nproc" 2 "$(echo "$out" | sed -n 1p)"
mt=$(memtotal_mib "$out")
[ "$mt" -ge 440 ] && [ "$mt" -le 512 ] || fail "a1 MemTotal ${mt} MiB, expected ~512"
assert_contains "a1 env (template value, job's wins)" "$out" "env from-template job"
# the exec's limits come from the template: memory - 48 MiB, pids 512 (an agent built before
# limits existed has no per-exec cgroup: then the line says none)
lim=$(echo "$out" | sed -n 's/^limits //p')
if [ "$lim" = "none none" ]; then
	note "the guest agent has no per-exec limits (old image): limits not checked"
else
	assert_eq "a1 limits (memory.max pids.max)" "$(((512 - 48) << 20)) 512" "$lim"
fi
wait_for 120 big_ready
job a2 "{'template': 'big', 'argv': ['true']}"
wait_result a2
assert_eq "a2 state" succeeded "$(field a2 state)"
vm_ms=$(( $(field a2 timings.vm_ms) - $(field a2 timings.claimed_ms) ))
note "a2 claimed->vm ${vm_ms} ms (warm clone)"
[ "$vm_ms" -lt 1000 ] || fail "a2 waited ${vm_ms} ms for its VM: not a warm clone"
log | grep -q 'ev=pool.miss template=big' && fail "a big job missed the pool"
assert_eq "warm hand-outs of big" 2 "$(metric 'corral_image_vm_warm_total{template="big"}')"
reg() { rcli HGET "corral:{q}:worker:t$$" templates; }
has_big1() { [ "$(reg)" = "big@1" ]; }
wait_for 20 has_big1
assert_contains "registry budget" "$(rcli HGET "corral:{q}:worker:t$$" budget)" "mem="

# ---- timeouts: the template's applies when the job has none, the job's wins ----
job to1 "{'template': 'big', 'argv': ['sleep', '30']}"
job to2 "{'template': 'big', 'argv': ['sh', '-c', 'sleep 5; echo slept'], 'timeout_ms': 60000}"
wait_result to1
wait_result to2
assert_eq "to1 state (template timeout 3 s)" timed_out "$(field to1 state)"
run_ms=$(( $(field to1 timings.exited_ms) - $(field to1 timings.started_ms) ))
[ "$run_ms" -ge 2000 ] && [ "$run_ms" -lt 10000 ] || fail "to1 ran ${run_ms} ms, expected ~3000"
assert_eq "to2 state (its own timeout)" succeeded "$(field to2 state)"
assert_contains "to2 output" "$(corral logs to2)" "slept"

# ---- a template this worker does not serve: cold, with its own size ----
job w1 "{'template': 'wide', 'argv': ['sh', '-c', '''$PROBE''']}"
wait_result w1
assert_eq "w1 state" succeeded "$(field w1 state)"
out=$(corral logs w1)
assert_eq "w1 nproc" 2 "$(echo "$out" | sed -n 1p)"
mt=$(memtotal_mib "$out")
[ "$mt" -ge 260 ] && [ "$mt" -le 320 ] || fail "w1 MemTotal ${mt} MiB, expected ~320"
log | grep -q 'ev=pool.miss template=wide reason=not_served' || fail "no not_served miss logged"

# ---- an unknown template fails clearly; the worker goes on ----
job n1 "{'template': 'nope', 'argv': ['echo', 'must not run']}"
job n2 "{'template': 'big', 'argv': ['echo', 'after nope']}"
wait_result n1 60
wait_result n2
assert_eq "n1 state" failed "$(field n1 state)"
assert_eq "n1 reason" "template 'nope' not found" "$(field n1 reason)"
assert_eq "n1 attempt (not retried)" 1 "$(field n1 attempt)"
[ "$(corral logs n1 2>/dev/null)" = "" ] || fail "n1 produced output"
assert_eq "n2 state" succeeded "$(field n2 state)"
assert_eq "n2 output" "after nope" "$(corral logs n2)"

# ---- replacing big: a new pool, the next job sees the new size ----
corral template create big --replace --memory 384 --env GREETING=v2 --warmup '' >/dev/null
assert_eq "big's version in Redis" 2 "$(corral template show big --json |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')"
v2_ready() {
	[ "$(metric 'corral_template_version{template="big"}')" = 2 ] && big_ready
}
wait_for 300 v2_ready	# the cache reloads every 10 s; then the template is rebuilt
log | grep -q 'ev=template.changed template=big version=2' || fail "no template.changed logged"
job b2 "{'template': 'big', 'argv': ['sh', '-c', '''$PROBE''']}"
wait_result b2
out=$(corral logs b2)
assert_eq "b2 nproc" 1 "$(echo "$out" | sed -n 1p)"
mt=$(memtotal_mib "$out")
[ "$mt" -ge 320 ] && [ "$mt" -le 384 ] || fail "b2 MemTotal ${mt} MiB, expected ~384"
assert_contains "b2 env" "$out" "env v2"
has_big2() { [ "$(reg)" = "big@2" ]; }
wait_for 20 has_big2

# ---- latency histograms ----
n=$(metric 'corral_job_latency_seconds_count{phase="total"}')
[ "${n:-0}" -ge 8 ] || fail "latency histogram total count: ${n:-none}"
[ "$(metric 'corral_job_latency_seconds_count{phase="vm"}')" -ge 7 ] || fail "vm phase count"
assert_corrald_alive
note "ok: a1 MemTotal=$(memtotal_mib "$(corral logs a1)") MiB, warm claimed->vm ${vm_ms} ms"
