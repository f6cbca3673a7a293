# corral run: stdout of a Python program in a microVM, its exit code, and a result record whose
# JSON is valid and whose timings are in order.
source "$SRC_DIR/tests/lib/harness.sh"
harness_start

set +e
out=$(corral run --id exit3 -- python3 -c 'import sys; print(6*7); sys.exit(3)' 2>"$T/err")
rc=$?
set -e
assert_eq "stdout" "42" "$out"
assert_eq "exit code" 3 "$rc"
assert_eq "stderr of a plain non-zero exit" "" "$(cat "$T/err")"

corral result --json exit3 >"$T/result.json"
python3 -m json.tool "$T/result.json" >/dev/null || fail "result --json is not JSON: $(cat "$T/result.json")"
assert_eq "state" failed "$(result_field exit3 state)"
assert_eq "exit_code" 3 "$(result_field exit3 exit_code)"
assert_eq "stdout_bytes" 3 "$(result_field exit3 stdout_bytes)"
assert_eq "truncated" false "$(result_field exit3 truncated)"
assert_eq "attempt" 1 "$(result_field exit3 attempt)"
assert_eq "worker" "t$$" "$(result_field exit3 worker)"
python3 - "$T/result.json" <<'PY' || fail "timings out of order: $(cat "$T/result.json")"
import json, sys
t = json.load(open(sys.argv[1]))["timings"]
order = ["queued_ms", "claimed_ms", "vm_ms", "started_ms", "first_output_ms", "exited_ms",
         "written_ms"]
vals = [t[k] for k in order]
assert all(v > 0 for v in vals), vals
assert vals == sorted(vals), vals
PY

# the text form, and success → 0
corral result exit3 | grep -q '^state: *failed' || fail "corral result text"
out=$(corral run -- sh -c 'echo ok')
assert_eq "second job" ok "$out"
set +e
corral result no-such-job >/dev/null 2>&1
rc=$?
set -e
assert_eq "result of an unknown job" 1 "$rc"
assert_corrald_alive
