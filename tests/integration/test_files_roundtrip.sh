# Files in, artefacts out, end to end through the CLI: `corral run --put ... --get ...` places a
# text file, a binary file of several 64 KiB chunks, an executable script (mode kept) and a file
# in nested new directories; the command (run as uid 1000) checks owner and modes, reads them and
# writes outputs; the artefacts come back byte-for-byte (a glob into a directory, a single file).
# Then: --artefacts-max cuts an artefact and warns; a put through a symlink (one planted by the
# user's repo, one in the base image) fails the job naming the path; files over the 768 KiB total
# are refused by the CLI with exit 125 and nothing queued; the same job crafted by hand (python3
# msgpack) is dead-lettered by the worker with the decoder's reason.
source "$SRC_DIR/tests/lib/harness.sh"

command -v git >/dev/null || skip "missing git"
/usr/bin/python3 -c 'import msgpack' 2>/dev/null || skip "missing python3-msgpack"

Q='corral:{q}:jobs'
L=$T/local
mkdir -p "$L"
# file:// repos: corral-fetch's jail hides /tmp: the repo lives in /srv (as in test_repo_jobs)
mkdir -p /srv
GF=$(mktemp -d /srv/ct-files.XXXXXX)
chmod 755 "$GF"
trap 'rc=$?; set +e; rm -rf "$GF"; (exit $rc); harness_cleanup' EXIT
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t \
	GIT_COMMITTER_EMAIL=t@example.com GIT_CONFIG_NOSYSTEM=1 HOME=$T

harness_start --repo-allow "file://$GF/*"

# ---- local inputs ----
printf 'hello files\nsecond line\n' >"$L/text.txt"
head -c 200000 /dev/urandom >"$L/data.bin"	# 4 chunks of ≤ 64 KiB each way
printf 'nested\n' >"$L/nested.txt"
cat >"$L/job.sh" <<'SH'
#!/bin/sh
set -e
cd /home/corral
echo "uid=$(id -u)"
stat -c '%n %u:%g %a' in/text.txt /tmp/data/data.bin bin/job.sh deep/a/b/c.txt deep deep/a deep/a/b
sha256sum in/text.txt /tmp/data/data.bin deep/a/b/c.txt
mkdir -p out
tr a-z A-Z <in/text.txt >out/text.upper
cp /tmp/data/data.bin out/data.copy
cat /tmp/data/data.bin /tmp/data/data.bin >/tmp/result.bin
printf 'hidden\n' >out/.hidden
ln -s /etc/passwd out/passwd.link
mkdir out/subdir
SH
chmod 0755 "$L/job.sh"
chmod 0640 "$L/data.bin"

# ---- the round trip ----
set +e
timeout 300 "$CORRAL_BIN" run --id rt1 --timeout 120 \
	--put "$L/text.txt:in/text.txt" --put "$L/data.bin:/tmp/data/data.bin" \
	--put "$L/job.sh:bin/" --put "$L/nested.txt:deep/a/b/c.txt" \
	--get "out/*:$T/got/" --get "/tmp/result.bin:$T/result.bin" \
	-- /home/corral/bin/job.sh >"$T/run.out" 2>"$T/run.err"
rc=$?
set -e
[ "$rc" = 0 ] || fail "round trip: exit $rc: $(cat "$T/run.err") $(cat "$T/run.out")"
out=$(cat "$T/run.out")
assert_contains "runs as the user" "$out" "uid=1000"
assert_contains "text owner/mode" "$out" "in/text.txt 1000:1000 644"
assert_contains "binary owner/mode" "$out" "/tmp/data/data.bin 1000:1000 640"
assert_contains "script mode kept" "$out" "bin/job.sh 1000:1000 755"
assert_contains "nested file" "$out" "deep/a/b/c.txt 1000:1000 644"
assert_contains "new parents 0755 owned by the user" "$out" "deep/a/b 1000:1000 755"
assert_contains "new parents 0755 owned by the user" "$out" "deep 1000:1000 755"
for f in text.txt data.bin nested.txt; do
	sum=$(sha256sum <"$L/$f" | cut -d' ' -f1)
	assert_contains "guest read $f byte-for-byte" "$out" "$sum"
done
cmp "$L/data.bin" "$T/got/data.copy" || fail "binary artefact differs"
tr a-z A-Z <"$L/text.txt" | cmp - "$T/got/text.upper" || fail "text artefact differs"
cat "$L/data.bin" "$L/data.bin" | cmp - "$T/result.bin" || fail "single-file artefact differs"
[ ! -e "$T/got/passwd.link" ] || fail "a symlink came back as an artefact"
[ ! -e "$T/got/subdir" ] || fail "a directory came back as an artefact"
[ ! -e "$T/got/.hidden" ] || fail "'*' matched a dot file"
! grep -q warning "$T/run.err" || fail "unexpected warning: $(cat "$T/run.err")"

# the result record lists the artefacts; --json carries their data
jobid=rt1
corral result "$jobid" >"$T/result.txt"
assert_contains "result lists artefacts" "$(cat "$T/result.txt")" "/home/corral/out/data.copy  200000 bytes"
n=$(corral result --json "$jobid" | /usr/bin/python3 -c '
import base64, json, sys
r = json.load(sys.stdin)
a = {x["path"]: x for x in r["artefacts"]}
assert not r["artefacts_truncated"], r["artefacts_truncated"]
d = base64.b64decode(a["/home/corral/out/data.copy"]["data_b64"])
assert d == open(sys.argv[1], "rb").read(), "json data differs"
print(len(a))' "$L/data.bin")
assert_eq "artefacts in the record (2 in out/, result.bin)" 3 "$n"

# ---- --artefacts-max cuts and warns ----
set +e
timeout 300 "$CORRAL_BIN" run --artefacts-max 1000 --get "/tmp/z.bin:$T/z.bin" \
	-- sh -c 'head -c 5000 /dev/zero >/tmp/z.bin' >/dev/null 2>"$T/cut.err"
rc=$?
set -e
assert_eq "cut run exit" 0 "$rc"
assert_contains "truncation warning" "$(cat "$T/cut.err")" "truncated: saved 1000 of 5000 bytes"
assert_eq "cut artefact size" 1000 "$(stat -c %s "$T/z.bin")"

# ---- a put never goes through a symlink ----
# planted by the user: their repo has `link -> data` (a relative in-checkout link fetch allows)
git init -q -b main "$GF/sym.work"
(
	cd "$GF/sym.work"
	mkdir data && echo d >data/keep && ln -s data link
	git add -A && git commit -q -m sym
)
git clone -q --bare "$GF/sym.work" "$GF/sym.git"
chmod -R a+rX "$GF/sym.git"
set +e
timeout 300 "$CORRAL_BIN" run --id symjob --repo "file://$GF/sym.git" \
	--put "$L/text.txt:repo/link/planted.txt" -- cat repo/data/planted.txt >"$T/sym.out" \
	2>"$T/sym.err"
rc=$?
set -e
[ "$rc" != 0 ] || fail "a put through the repo's symlink succeeded: $(cat "$T/sym.out")"
reason=$(result_field symjob reason)
note "user symlink: exit $rc, reason: $reason"
assert_contains "reason names the symlink" "$reason" "link"
[ "$(result_field symjob stdout_bytes)" = 0 ] || fail "the command ran after a failed put"
# in the base image: /bin -> usr/bin (merged /usr)
set +e
timeout 300 "$CORRAL_BIN" run --id binjob --put "$L/text.txt:/bin/planted" -- true \
	>/dev/null 2>"$T/bin.err"
rc=$?
set -e
[ "$rc" != 0 ] || fail "a put through /bin (a symlink) succeeded"
reason=$(result_field binjob reason)
note "image symlink: exit $rc, reason: $reason"
assert_contains "reason names the path" "$reason" "/bin/planted"
assert_contains "reason says symlink" "$reason" "symlink"

# ---- over the 768 KiB total ----
head -c 500000 /dev/urandom >"$L/big1"
head -c 300000 /dev/urandom >"$L/big2"
before=$(rcli XLEN "$Q")
set +e
"$CORRAL_BIN" run --put "$L/big1:/tmp/big1" --put "$L/big2:/tmp/big2" -- true 2>"$T/big.err"
rc_run=$?
"$CORRAL_BIN" submit --put "$L/big1:/tmp/big1" --put "$L/big2:/tmp/big2" -- true \
	>/dev/null 2>>"$T/big.err"
rc_submit=$?
"$CORRAL_BIN" run --put "$L/missing:/tmp/x" -- true 2>>"$T/big.err"
rc_missing=$?
set -e
assert_eq "run over the cap exits 125" 125 "$rc_run"
assert_eq "submit over the cap exits 125" 125 "$rc_submit"
assert_eq "missing local file exits 125" 125 "$rc_missing"
assert_contains "cap named" "$(cat "$T/big.err")" "786432-byte total (768 KiB)"
assert_contains "missing file named" "$(cat "$T/big.err")" "$L/missing: No such file or directory"
assert_eq "nothing queued" "$before" "$(rcli XLEN "$Q")"

# crafted past the CLI: the worker dead-letters it with libwire's reason
/usr/bin/python3 - "$L/big1" "$L/big2" <<'PY' | rcli -x XADD "$Q" '*' job >/dev/null
import sys, msgpack
files = [{"path": "/tmp/b%d" % i, "mode": 0o644, "data": open(p, "rb").read()}
         for i, p in enumerate(sys.argv[1:])]
sys.stdout.buffer.write(msgpack.packb({"v": 1, "id": "toobig", "argv": ["true"],
                                       "files": files}, use_bin_type=True))
PY
wait_for 120 corral result toobig
assert_eq "crafted oversize: state" dead "$(result_field toobig state)"
assert_contains "crafted oversize: reason" "$(result_field toobig reason)" \
	"files: more than 786432 bytes of data in total (at files[1])"
dead_entries | grep -q toobig || fail "toobig not in the dead-letter stream: $(dead_entries)"

# a normal job still runs afterwards
assert_eq "plain job after all that" ok "$(timeout 300 "$CORRAL_BIN" run -- echo ok)"
assert_corrald_alive
