# With --concurrency 2 a worker runs two jobs at once (each in its own VM) and claims the third
# only when a slot is free; all three finish.
CORRAL_TEST_CONCURRENCY=2
source "$SRC_DIR/tests/lib/harness.sh"
harness_start

ids=
for i in 1 2 3; do
	ids="$ids $(corral submit --id "c$i" -- sh -c "sleep 3; echo done$i")"
done
for id in $ids; do
	wait_for 120 corral result "$id"
done
for i in 1 2 3; do
	assert_eq "c$i" "done$i" "$(corral logs --no-follow "c$i")"
done
# c1 and c2 overlapped; c3 was claimed only after one of them ended
python3 - "$BUILD_DIR/bin/corral" <<'PY' || fail "jobs did not run 2 at a time"
import json, subprocess, sys
t = {}
for i in (1, 2, 3):
    r = json.loads(subprocess.run([sys.argv[1], "result", "--json", "c%d" % i],
                                  capture_output=True, check=True).stdout)
    t[i] = (r["timings"]["started_ms"], r["timings"]["exited_ms"], r["timings"]["claimed_ms"])
print(t, file=sys.stderr)
# both held a slot at once (claim times, so a slow boot of one VM cannot make this flaky)
assert t[1][2] < t[2][1] and t[2][2] < t[1][1], "c1 and c2 did not overlap"
assert t[3][2] >= min(t[1][1], t[2][1]), "c3 claimed before a slot was free"
PY
