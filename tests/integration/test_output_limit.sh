# A job printing more than --output-max ends failed with truncated=true; the client got exactly
# output_max bytes, and the reason names the limit.
source "$SRC_DIR/tests/lib/harness.sh"
harness_start

set +e
corral run --id big --output-max 1000 -- python3 -c 'import sys; sys.stdout.write("x" * 5000)' \
	>"$T/o" 2>"$T/e"
rc=$?
set -e
assert_eq "exit code" 125 "$rc"
assert_contains "stderr" "$(cat "$T/e")" "output limit 1000 bytes exceeded"
assert_eq "bytes received" 1000 "$(wc -c <"$T/o")"
assert_eq "state" failed "$(result_field big state)"
assert_eq "truncated" true "$(result_field big truncated)"
assert_eq "reason" "output limit 1000 bytes exceeded" "$(result_field big reason)"

# at the limit is fine
out=$(corral run --output-max 6 -- sh -c 'printf 12345; echo')
assert_eq "at the limit" 12345 "$out"
assert_corrald_alive
