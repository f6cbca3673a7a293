# Budget (issue 4): two workers on one queue. `small` has --mem-budget 300 (one 256 MiB VM) and
# --concurrency 4 and a warm pool (min 1, max 2); `big` has the default budget and
# --concurrency 2, no pool. A burst of 10 jobs (1.5 s each) must all succeed, and at no sampled
# moment (every 50 ms, from /proc: live QEMU processes under small's run dir, by VM dir) may
# small run more than one VM — its pool VM included — while it holds no more than one job at a
# time (result timings on small: it claims only what its
# budget can start: a job is claimed after the previous one's VM is gone, i.e. claimed..exited
# never overlap). Both workers ran jobs; small's registry record and metrics show its budget.
# Then queue lag (XINFO GROUPS) grows a pool of min 0 on a worker of concurrency 1.
source "$SRC_DIR/tests/lib/harness.sh"

PY=
for p in python3 /usr/bin/python3; do
	"$p" -c 'import msgpack' 2>/dev/null && PY=$p && break
done
[ -n "$PY" ] || skip "no python3 with msgpack"
Q='corral:{q}:jobs'
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
N=10

job() {	# job ID [SECONDS]: a 1.5 s (or SECONDS) job on the default template
	"$PY" - "$1" "${2:-1.5}" <<'PY' | rcli -x XADD "$Q" '*' job >/dev/null
import msgpack, sys
sys.stdout.buffer.write(msgpack.packb({"v": 1, "id": sys.argv[1], "timeout_ms": 60000,
	"argv": ["sh", "-c", "sleep %s; echo done" % sys.argv[2]]}))
PY
}
metric() {
	curl -fsS "http://127.0.0.1:$PORT/metrics" | awk -v n="$1" '$1 == n {print $2}'
}

start_redis
CORRAL_TEST_CONCURRENCY=4 start_worker small --mem-budget 300 --pool-min 1 --pool-max 2 \
	--metrics-port "$PORT"
pool_ready() { [ "$(metric 'corral_pool_ready{template="default"}')" = 1 ]; }
wait_for 300 pool_ready
CORRAL_TEST_CONCURRENCY=2 start_worker big --no-pool
assert_eq "small's budget" 300 "$(metric 'corral_budget_memory_mib{kind="total"}')"

# the sampler: the most VMs small ever had at once (QEMU processes, by vm dir)
"$PY" - "$RUN_DIR/small/" "$T/sampler.stop" >"$T/sampler.out" 2>"$T/sampler.err" <<'PY' &
import os, re, sys, time
root, stop = sys.argv[1], sys.argv[2]
most, samples = 0, 0
while not os.path.exists(stop):
    vms, procs = set(), []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                st = f.read().rsplit(")", 1)[1].split()
            # a VM being torn down (SIGKILLed by vm_destroy, memory going away) is not a
            # running one: zombie, PF_EXITING, or SIGKILL pending
            if st[0] in "ZX" or int(st[6]) & 0x4:
                continue
            with open(f"/proc/{pid}/status") as f:
                if any(l.startswith(("ShdPnd:", "SigPnd:")) and int(l.split()[1], 16) & 0x100
                       for l in f):
                    continue
            with open(f"/proc/{pid}/comm") as f:	# QEMU itself, not its jail wrapper
                if not f.read().startswith("qemu-system"):
                    continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "qemu-system" in cmd and root in cmd:
            m = re.search(re.escape(root) + r"vm-\d+-\d+", cmd)
            if m:
                vms.add(m.group(0))
                procs.append(f"{pid} {st[0]} flags={st[6]} {m.group(0)} {cmd[:60]}")
    if len(vms) > most and len(vms) > 1:
        print(time.strftime("%H:%M:%S"), *procs, sep="\n  ", file=sys.stderr)
    most = max(most, len(vms))
    samples += 1
    time.sleep(0.05)
print(most, samples)
PY
SAMPLER=$!

for i in $(seq 1 $N); do job "b$i"; done
for i in $(seq 1 $N); do wait_for 300 corral result --json "b$i"; done
touch "$T/sampler.stop"
wait "$SAMPLER"
read -r most samples <"$T/sampler.out"
note "small: at most $most VM(s) at once over $samples samples"
[ "$samples" -ge 20 ] || fail "the sampler took only $samples samples"
[ "$most" -ge 1 ] || fail "the sampler never saw small's VMs (pattern broken?)"
[ "$most" -le 1 ] || fail "small ran $most VMs at once with a 300 MiB budget: $(cat "$T/sampler.err")"

# every job succeeded; who ran what; small's jobs never overlapped
"$PY" - "$N" "$CORRAL_BIN" >"$T/runs" <<'PY' || fail "results: $(cat "$T/runs")"
import json, subprocess, sys
rows = []
for i in range(1, int(sys.argv[1]) + 1):
    r = json.loads(subprocess.check_output([sys.argv[2], "result", "--json", f"b{i}"]))
    if r["state"] != "succeeded":
        print(f"b{i} {r['state']} {r.get('reason')}")
        sys.exit(1)
    rows.append((r["worker"], r["timings"]["claimed_ms"], r["timings"]["exited_ms"]))
small = sorted((a, b) for w, a, b in rows if w == "small")
over = sum(1 for x, y in zip(small, small[1:]) if y[0] < x[1])
print(len(small), len(rows) - len(small), over)
PY
read -r n_small n_big overlaps <"$T/runs"
note "small ran $n_small jobs, big $n_big"
[ "$n_small" -ge 1 ] || fail "small ran no job"
[ "$n_big" -ge 1 ] || fail "big ran no job"
[ "$overlaps" = 0 ] || fail "small held $overlaps overlapping jobs"
assert_contains "small's registry budget" "$(rcli HGET 'corral:{q}:worker:small' budget)" "/300 "
grep -q 'ev=budget.set mem_mib=300 ' "$T/small.log" || fail "small did not log its budget"
worker_alive small || fail "small died"
worker_alive big || fail "big died"

# ---- queue lag grows a pool: one worker, concurrency 1, pool min 0; four 3 s jobs queued, so
# the group's lag (XINFO GROUPS, read every registry period) is > 0 and the pool grows for it ----
stop_worker small
stop_worker big
start_worker lag --pool-min 0 --pool-max 3 --pool-warmup ''
for i in 1 2 3 4; do job "l$i" 3; done
wait_for 60 grep -q 'ev=pool.grow pool=default target=[0-9]* by=[0-9]* why=lag' "$T/lag.log"
for i in 1 2 3 4; do wait_for 120 corral result --json "l$i"; done
for i in 1 2 3 4; do assert_eq "l$i state" succeeded "$(result_field "l$i" state)"; done
note "lag: $(grep -o 'ev=pool.grow .*why=lag' "$T/lag.log" | head -1)"

