# Output is streamed as produced: `echo a; sleep 2; echo b` shows a about 2 s before b at the
# client, and stdout and stderr arrive on the client's stdout and stderr separately.
source "$SRC_DIR/tests/lib/harness.sh"
harness_start

# Timestamp each line when it reaches us.
corral run -- sh -c 'echo a; sleep 2; echo b' | python3 -u -c '
import sys, time
while True:
    line = sys.stdin.readline()
    if not line:
        break
    print("%.3f %s" % (time.monotonic(), line.strip()))
' >"$T/stamped"
note "$(tr '\n' ' ' <"$T/stamped")"
assert_eq "lines" "a b" "$(awk '{print $2}' "$T/stamped" | tr '\n' ' ' | sed 's/ $//')"
gap=$(awk 'NR==1{a=$1} NR==2{b=$1} END{printf "%.3f", b-a}' "$T/stamped")
python3 -c "import sys; sys.exit(0 if float('$gap') >= 1.5 else 1)" ||
	fail "a and b arrived ${gap}s apart: output is not streamed"

corral run -- sh -c 'echo to-out; echo to-err >&2; echo more-out' >"$T/o" 2>"$T/e"
assert_eq "stdout" "$(printf 'to-out\nmore-out')" "$(cat "$T/o")"
assert_eq "stderr" "to-err" "$(cat "$T/e")"
assert_corrald_alive
