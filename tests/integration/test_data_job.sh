# Files in, artefacts out, images: a pandas job in the python-data image gets an input CSV and
# its script put into the VM, writes a summary CSV and a few part files, and the CLI brings them
# back (`--put`, `--get` with a path and with a glob) with exactly the expected content. Then:
# an artefact over artefacts_max comes back cut (truncated flags, the rest dropped); a job that
# times out still has its artefacts collected (state timed_out); a put the agent refuses fails
# the job with a "files: ..." reason; an image the worker does not have fails with a clear reason.
source "$SRC_DIR/tests/lib/harness.sh"

[ -e "$IMAGES/python-data.ext4" ] || skip "missing $IMAGES/python-data.ext4 (images/build --out $IMAGES)"
harness_start

W=$T/work
mkdir -p "$W"
cd "$W"

# ---- input and the script ----
python3 - <<'PY'
import random
random.seed(7)
cities = ["oslo", "lima", "pune", "kyiv"]
with open("data.csv", "w") as f:
    f.write("city,temp\n")
    for i in range(2000):
        f.write("%s,%.1f\n" % (cities[i % 4], random.uniform(-10, 35)))
PY
cat >script.py <<'PY'
import os
import pandas as pd
df = pd.read_csv("data.csv")
g = df.groupby("city")["temp"].agg(["count", "mean", "max"]).sort_index()
with open("summary.csv", "w") as f:
    f.write("city,count,mean,max\n")
    for city, row in g.iterrows():
        f.write("%s,%d,%.3f,%.1f\n" % (city, row["count"], row["mean"], row["max"]))
os.makedirs("parts", exist_ok=True)
for city, part in df.groupby("city"):
    part.to_csv("parts/%s.csv" % city, index=False, float_format="%.1f")
print("rows", len(df))
PY
# the same numbers without pandas (the host has no pandas)
python3 - <<'PY' >expected.csv
import csv, collections
rows = collections.defaultdict(list)
for r in csv.DictReader(open("data.csv")):
    rows[r["city"]].append(float(r["temp"]))
print("city,count,mean,max")
for city in sorted(rows):
    v = rows[city]
    print("%s,%d,%.3f,%.1f" % (city, len(v), sum(v) / len(v), max(v)))
PY

# ---- the data job, through the CLI ----
set +e
out=$(corral run --id data1 --timeout 600 --image python-data \
	--put data.csv:/home/corral/data.csv --put script.py:/home/corral/script.py \
	--get /home/corral/summary.csv:out.csv --get '/home/corral/parts/*.csv:parts/' \
	-- python3 script.py 2>"$T/data1.err")
rc=$?
set -e
assert_eq "data job exit ($(cat "$T/data1.err"))" 0 "$rc"
assert_eq "data job stdout" "rows 2000" "$out"
[ -f out.csv ] || fail "summary artefact not saved: $(ls -la)"
cmp -s out.csv expected.csv || fail "summary differs: $(diff out.csv expected.csv | head)"
for c in kyiv lima oslo pune; do
	[ -f "parts/$c.csv" ] || fail "glob artefact parts/$c.csv missing: $(ls parts 2>&1)"
	assert_eq "parts/$c.csv rows" 501 "$(wc -l <"parts/$c.csv")"
done
assert_eq "data job: state" succeeded "$(result_field data1 state)"
assert_eq "data job: artefacts" 5 "$(corral result --json data1 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["artefacts"]))')"
assert_eq "data job: not truncated" false "$(result_field data1 artefacts_truncated)"
assert_eq "data job: no commit" "" "$(result_field data1 commit)"
[ "$(result_field data1 timings.files_ms)" -gt 0 ] || fail "files_ms not set"
[ "$(result_field data1 timings.collect_ms)" -gt 0 ] || fail "collect_ms not set"
note "data job: files_ms $(result_field data1 timings.files_ms) collect_ms $(result_field data1 timings.collect_ms) run_ms $(($(result_field data1 timings.exited_ms) - $(result_field data1 timings.started_ms)))"

# ---- an artefact over artefacts_max: cut at the limit, flagged ----
set +e
corral run --id big1 --timeout 120 --artefacts-max 1M --get /home/corral/big.bin:big.bin \
	--get /home/corral/after.txt:after.txt \
	-- sh -c 'head -c 3145728 /dev/zero >big.bin; echo after >after.txt' >/dev/null 2>"$T/big1.err"
rc=$?
set -e
assert_eq "oversize artefact: job exit" 0 "$rc"
corral result --json big1 >"$T/big1.json"
python3 - "$T/big1.json" <<'PY' || fail "oversize artefact: $(head -c 600 "$T/big1.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["state"] == "succeeded", r["state"]
assert r["artefacts_truncated"] is True
a = {x["path"]: x for x in r["artefacts"]}
big = a["/home/corral/big.bin"]
assert big["size"] == 3145728 and big["truncated"] is True and big["len"] == 1048576, big["len"]
after = a.get("/home/corral/after.txt")
assert after is None or (after["len"] == 0 and after["truncated"] is True), after
PY
assert_contains "CLI warns about the cut" "$(cat "$T/big1.err")" "truncated"

# ---- a multi-MiB artefact survives the result record (Redis SET of ~12 MiB) byte for byte ----
set +e
sum=$(corral run --id rand1 --timeout 180 --artefacts-max 32M --get /home/corral/rand.bin:rand.bin \
	-- sh -c 'head -c 12582912 /dev/urandom >rand.bin && sha256sum rand.bin' 2>"$T/rand1.err")
rc=$?
set -e
assert_eq "12 MiB artefact: exit ($(cat "$T/rand1.err"))" 0 "$rc"
assert_eq "12 MiB artefact: size" 12582912 "$(stat -c %s rand.bin)"
assert_eq "12 MiB artefact: sha256" "${sum%% *}" "$(sha256sum rand.bin | cut -d' ' -f1)"
assert_eq "12 MiB artefact: not truncated" false "$(result_field rand1 artefacts_truncated)"
note "12 MiB artefact: collect_ms $(result_field rand1 timings.collect_ms), result record $(rcli STRLEN 'corral:{q}:result:rand1') bytes"

# ---- timed out: the process is killed, its artefacts are still collected ----
set +e
corral run --id slow1 --timeout 3 --get /home/corral/partial.txt:partial.txt \
	-- sh -c 'echo partial >partial.txt; sleep 100' >/dev/null 2>&1
rc=$?
set -e
assert_eq "timeout exit" 124 "$rc"
assert_eq "timeout: state" timed_out "$(result_field slow1 state)"
assert_eq "timeout: artefact" partial "$(cat partial.txt 2>/dev/null)"

# ---- a put the agent refuses (the file exists, puts never overwrite) ----
set +e
corral run --id badput --put data.csv:/etc/hostname -- true >/dev/null 2>"$T/badput.err"
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "refused put: exit 0"
reason=$(result_field badput reason)
note "refused put: $reason"
case "$reason" in "files: "*/etc/hostname*) ;; *) fail "refused put: reason '$reason'" ;; esac
assert_eq "refused put: state" failed "$(result_field badput state)"
assert_eq "refused put: attempt" 1 "$(result_field badput attempt)"

# ---- an image this worker does not have ----
set +e
corral run --id noimg --image nosuch -- true >/dev/null 2>"$T/noimg.err"
rc=$?
set -e
assert_eq "missing image: exit" 125 "$rc"
assert_eq "missing image: reason" "image 'nosuch' not available on this worker" \
	"$(result_field noimg reason)"
assert_eq "missing image: state" failed "$(result_field noimg state)"

assert_eq "normal job afterwards" ok "$(corral run -- echo ok)"
assert_corrald_alive
