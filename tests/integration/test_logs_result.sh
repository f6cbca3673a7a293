# corral submit + logs + result: replay after the fact (stdout and stderr apart), follow a
# running job to its end, --no-follow, and `result --json` is valid JSON.
source "$SRC_DIR/tests/lib/harness.sh"
harness_start

id=$(corral submit -- sh -c 'echo one; echo two >&2; echo three')
[ -n "$id" ] || fail "submit printed no id"
wait_for 60 corral result "$id"
corral logs "$id" >"$T/o" 2>"$T/e"
assert_eq "replayed stdout" "$(printf 'one\nthree')" "$(cat "$T/o")"
assert_eq "replayed stderr" "two" "$(cat "$T/e")"
corral logs --no-follow "$id" >"$T/o2" 2>/dev/null
assert_eq "no-follow replay" "$(printf 'one\nthree')" "$(cat "$T/o2")"
corral result --json "$id" | python3 -m json.tool >/dev/null || fail "result --json is not JSON"
assert_eq "state" succeeded "$(result_field "$id" state)"

# follow a job that has not produced its output yet
id=$(corral submit -- sh -c 'sleep 3; echo late')
out=$(timeout 90 "$CORRAL_BIN" logs "$id")
assert_eq "followed output" late "$out"
corral result "$id" >/dev/null || fail "result after logs returned"

set +e
corral logs --no-follow never-submitted >/dev/null 2>&1
rc=$?
set -e
assert_eq "logs --no-follow of an unknown job" 1 "$rc"
assert_corrald_alive
