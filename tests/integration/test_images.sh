# Images: jobs pick their root filesystem by name (job key `image`). The worker serves a warm
# pool for python-data only (--image python-data), so python-data jobs get warm clones,
# while base (no image given) and build are booted cold.
# Checks: a pandas computation on python-data prints the expected numbers from a warm clone
# (ev=pool.miss absent for python-data, per-image metrics with template="python-data"); a C
# program compiled with gcc and a pytest file run on build; the images really differ (no
# pandas in base, no gcc in python-data); an unknown image fails at once with "image 'nope' not
# available on this worker", and a malformed name never runs; a normal job still runs
# afterwards. Prints the in-guest `import pandas` time (warm clone vs cold boot).
source "$SRC_DIR/tests/lib/harness.sh"

for f in python-data.ext4 build.ext4; do
	[ -e "$IMAGES/$f" ] || skip "missing guest image $IMAGES/$f (run images/build --out $IMAGES)"
done

Q='corral:{q}:jobs'
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
harness_start --image python-data --pool-min 1 --pool-max 1 --metrics-port "$PORT"

metric() {	# metric NAME{LABELS}: its value from the endpoint
	curl -fsS "http://127.0.0.1:$PORT/metrics" | awk -v n="$1" '$1 == n {print $2}'
}

submit() { submit_job "$1" "$2" 240000; }

# wait_result ID: waits (TCG, pandas, gcc: generous) until the job has a result.
wait_result() {
	wait_for 400 corral result --json "$1"
}
field() { result_field "$@"; }

# The python-data template boots, imports pandas and is saved; then one clone is ready.
pd_ready() { [ "$(metric 'corral_pool_ready{template="python-data"}')" = 1 ]; }
wait_for 400 pd_ready
[ "$(metric 'corral_pool_template_ready{template="python-data"}')" = 1 ] ||
	fail "python-data template not ready"

# ---- python-data: pandas in a warm clone ----
PANDAS='import time
t = time.perf_counter()
import pandas as pd
ms = (time.perf_counter() - t) * 1000
df = pd.DataFrame({"g": ["a", "b", "a", "b"], "x": [1, 2, 3, 4], "y": [10.0, 20.0, 30.0, 40.0]})
s = df.groupby("g").agg({"x": "sum", "y": "mean"})
print("pandas", pd.__version__.split(".")[0], s.loc["a", "x"], s.loc["b", "y"], int((df.x * df.y).sum()))
print("import_ms %d" % ms)'
submit pd "{'image': 'python-data', 'argv': ['python3', '-c', '''$PANDAS''']}"
wait_result pd
assert_eq "python-data: state" succeeded "$(field pd state)"
out=$(corral logs pd)
assert_eq "python-data: pandas result" "pandas 1 4 30.0 300" "$(echo "$out" | head -1)"
warm_ms=$(echo "$out" | awk '/^import_ms/ {print $2}')
grep -q 'ev=pool.miss template=python-data' "$T/corrald.log" &&
	fail "the python-data job waited for a cold boot"
[ "$(metric 'corral_image_vm_warm_total{template="python-data"}')" = 1 ] ||
	fail "python-data warm hand-outs: $(metric 'corral_image_vm_warm_total{template="python-data"}')"

# ---- build: gcc and pytest (cold boot: build has no pool here) ----
BUILD='set -e
cd /tmp
cat >hello.c <<EOF
#include <stdio.h>
int main(void) { long s = 0; for (int i = 1; i <= 100; i++) s += i; printf("gcc says %ld\\n", s); return 0; }
EOF
gcc -O2 -Wall -o hello hello.c
./hello
cat >test_tiny.py <<EOF
def add(a, b):
    return a + b
def test_add():
    assert add(2, 40) == 42
def test_str():
    assert "corral".upper() == "CORRAL"
EOF
python3 -m pytest -q -p no:cacheprovider test_tiny.py 2>&1 | tail -1'
submit bd "{'image': 'build', 'argv': ['sh', '-c', '''$BUILD''']}"
wait_result bd
out=$(corral logs bd)
assert_eq "build: state" succeeded "$(field bd state)"
assert_contains "build: gcc output" "$out" "gcc says 5050"
assert_contains "build: pytest" "$out" "2 passed"

# ---- the images differ: base (default) has no pandas, python-data has no gcc ----
submit nopd "{'argv': ['python3', '-c', 'import pandas']}"
submit nogcc "{'image': 'python-data', 'argv': ['sh', '-c', 'command -v gcc || echo no-gcc']}"
wait_result nopd
wait_result nogcc
assert_eq "base: state" failed "$(field nopd state)"
assert_eq "base: exit" 1 "$(field nopd exit_code)"
assert_contains "base: error" "$(corral logs nopd 2>&1)" "No module named 'pandas'"
assert_eq "python-data without gcc: output" "no-gcc" "$(corral logs nogcc)"

# ---- unknown and malformed images ----
submit nope "{'image': 'nope', 'argv': ['echo', 'must not run']}"
submit badname "{'image': '../base', 'argv': ['echo', 'must not run']}"
wait_result nope
wait_result badname
st=$(field nope state)
[ "$st" = failed ] || [ "$st" = dead ] || fail "unknown image: state $st"
assert_contains "unknown image: reason" "$(field nope reason)" "image 'nope' not available on this worker"
assert_eq "unknown image: attempts" 1 "$(field nope attempt)"
[ -z "$(corral logs nope 2>/dev/null)" ] || fail "unknown image: the command ran"
st=$(field badname state)
[ "$st" = failed ] || [ "$st" = dead ] || fail "malformed image name: state $st"
[ -z "$(corral logs badname 2>/dev/null)" ] || fail "malformed image name: the command ran"

# ---- the worker still serves ----
assert_corrald_alive
assert_eq "afterwards" "still here" "$(corral run -- echo still here)"

# ---- cold pandas for comparison: a python-data VM booted cold ----
harness_stop_corrald
start_corrald --no-pool
submit pdcold "{'image': 'python-data', 'argv': ['python3', '-c', '''$PANDAS''']}"
wait_result pdcold
assert_eq "python-data cold: state" succeeded "$(field pdcold state)"
out=$(corral logs pdcold)
assert_eq "python-data cold: pandas result" "pandas 1 4 30.0 300" "$(echo "$out" | head -1)"
cold_ms=$(echo "$out" | awk '/^import_ms/ {print $2}')
note "ok: import pandas warm clone ${warm_ms} ms, cold boot ${cold_ms} ms"
