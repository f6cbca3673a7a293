#!/usr/bin/env bash
# corral-fetch and worker/repo.c (through corral-repo-drive) without corrald: repos made with
# git in a temp dir under /srv (the jail hides /tmp, /run, /home and /root, where a checkout and
# its build dir may live), one served by a real `git daemon`
# on 127.0.0.1. Checks the URL policy (allow patterns, loopback/private refusal, credentials in
# URLs), fetch by branch/tag/commit over file:// and git://, missing refs, every size cap,
# hostile symlinks, submodules, incremental fetches (times printed), LRU eviction, timeouts,
# the jail (selftest: /etc/shadow and a root-only file of the run dir unreadable), the PUT frame
# stream (decoded by python3-msgpack and compared with git), and repo.c's shared flights, commit
# fast path and cancel. Needs root (the jail), git, python3-msgpack.
set -uo pipefail

BUILD_DIR=${BUILD_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/build}
SRC_DIR=${SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
FETCH=$BUILD_DIR/bin/corral-fetch
DRIVE=$BUILD_DIR/bin/corral-repo-drive
PY=/usr/bin/python3

skip() { echo "SKIP: $*"; exit 77; }
[ -x "$FETCH" ] && [ -x "$DRIVE" ] || skip "corral-fetch / corral-repo-drive not built"
[ "$(id -u)" = 0 ] || skip "needs root (the helper's jail)"
command -v git >/dev/null || skip "git not installed"
$PY -c 'import msgpack' 2>/dev/null || skip "python3-msgpack not installed"

mkdir -p /srv
T=$(mktemp -d /srv/ct-repo-fetch.XXXXXX)
chmod 755 "$T"
DAEMON_PID=
HANG_PID=
cleanup() {
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null || true
	[ -n "$HANG_PID" ] && kill "$HANG_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

FAILS=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
G() { git -c user.email=t@corral -c user.name=t -c init.defaultBranch=main -c protocol.file.allow=always "$@"; }

# ---- repositories ----
SRV=$T/srv
mkdir -p "$SRV"
mk_src() {
	local d=$SRV/src.git w=$T/w-src
	G init -q "$w"
	cd "$w"
	echo hello > a.txt
	mkdir -p dir/deep
	printf '#!/bin/sh\necho hi\n' > dir/run.sh
	chmod +x dir/run.sh
	echo deep > dir/deep/x.txt
	ln -s a.txt link
	ln -s ../a.txt dir/up
	head -c 200000 /dev/urandom > blob.bin	# > WIRE_CHUNK_MAX: chunked with append
	: > empty
	G add -A && G commit -qm one
	G tag v1
	G tag -a v1a -m annotated
	G checkout -qb feature && echo feat > f.txt && G add f.txt && G commit -qm feat
	G checkout -q main
	cd - >/dev/null
	G clone -q --bare "$w" "$d"
}
mk_src

mk_evil() {	# $1 name, then "link target" pairs
	local name=$1 w=$T/w-$1
	shift
	G init -q "$w"
	cd "$w"
	echo x > plain
	while [ $# -gt 1 ]; do mkdir -p "$(dirname "$1")"; ln -s "$2" "$1"; shift 2; done
	G add -A && G commit -qm evil
	cd - >/dev/null
	G clone -q --bare "$w" "$SRV/$name.git"
}
mk_evil evil evil /etc/passwd
mk_evil climb d/up ../../outside
mk_evil chain d/up .. d/x up/../..	# lexically inside, escapes through d/up

G init -q "$T/w-big"
(cd "$T/w-big" && head -c 3000000 /dev/urandom > big.bin && for i in 1 2 3 4 5; do echo $i > f$i; done &&
	G add -A && G commit -qm big)
G clone -q --bare "$T/w-big" "$SRV/big.git"

G init -q "$T/w-sub"
(cd "$T/w-sub" && echo x > x && G add x && G commit -qm x &&
	G update-index --add --cacheinfo 160000,"$(G rev-parse HEAD)",sub && G commit -qm sub)
G clone -q --bare "$T/w-sub" "$SRV/sub.git"

# history for the incremental test: 400 commits, 20 MB of incompressible data (fast-import)
$PY - "$T/hist.fi" <<'EOF'
import os, sys
with open(sys.argv[1], "wb") as f:
    for i in range(400):
        data = os.urandom(50000)
        f.write(b"commit refs/heads/main\ncommitter t <t@c> %d +0000\ndata 2\nc\n" % (1700000000 + i))
        f.write(b"M 644 inline f%d.bin\ndata %d\n" % (i % 50, len(data)) + data + b"\n")
EOF
G init -q --bare "$SRV/hist.git"
G -C "$SRV/hist.git" fast-import --quiet < "$T/hist.fi"

# ---- git daemon on a free port ----
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
git daemon --export-all --base-path="$SRV" --listen=127.0.0.1 --port="$PORT" --reuseaddr "$SRV" \
	>"$T/daemon.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 100); do
	git ls-remote "git://127.0.0.1:$PORT/src.git" >/dev/null 2>&1 && break
	sleep 0.1
done
git ls-remote "git://127.0.0.1:$PORT/src.git" >/dev/null || { echo "git daemon did not start"; exit 1; }
GURL=git://127.0.0.1:$PORT
GALLOW="git://127.0.0.1:$PORT/*"
FALLOW="file://$SRV/*"

CACHE=$T/cache
RUN=$T/run
mkdir -p "$RUN"
LAST=
# run <expected exit> <args...>: runs corral-fetch, stdout to $T/out.bin, keeps stderr's last line
run() {
	local want=$1 rc=0
	shift
	"$FETCH" "$@" >"$T/out.bin" 2>"$T/err.txt" 3>&- || rc=$?
	LAST=$(tail -n 1 "$T/err.txt")
	if [ "$rc" != "$want" ]; then
		fail "corral-fetch $* -> exit $rc, want $want: $LAST"
		return 1
	fi
	return 0
}
summary_field() { $PY -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$LAST" "$1"; }

rev() { git --git-dir="$SRV/$1.git" rev-parse "$2^{commit}"; }

# ---- fetch + export over file:// and git:// by branch, tag, annotated tag, commit ----
for url in "file://$SRV/src.git" "$GURL/src.git"; do
	allow=$FALLOW; [[ $url == git:* ]] && allow=$GALLOW
	if run 0 fetch --cache "$CACHE" --url "$url" --allow "$allow"; then
		pass "fetch $url ($(summary_field ms) ms)" || fail "(see above) $LAST"
	fi
	for ref in main HEAD feature v1 v1a refs/tags/v1a refs/heads/feature "$(rev src v1)"; do
		want=$(rev src "$ref")
		if run 0 export --cache "$CACHE" --url "$url" --allow "$allow" --ref "$ref" &&
			[ "$(summary_field commit)" = "$want" ]; then
			pass "export $url ref=$ref -> ${want:0:12}" || fail "(see above) $LAST"
		else
			fail "export $url ref=$ref: $LAST"
		fi
	done
done

# ---- the frame stream decodes and equals git's tree ----
run 0 export --cache "$CACHE" --url "$GURL/src.git" --allow "$GALLOW" --ref main --subdir work/src
if $PY - "$T/out.bin" "$T/w-src" <<'EOF'
import msgpack, os, struct, sys
data = open(sys.argv[1], "rb").read(); src = sys.argv[2]
base = "/home/corral/work/src"
i, files, dirs, links = 0, {}, set(), {}
while i < len(data):
    n = struct.unpack(">I", data[i:i + 4])[0]
    m = msgpack.unpackb(data[i + 4:i + 4 + n], raw=False); i += 4 + n
    assert m["t"] == "put" and m["v"] == 1 and m["uid"] == 1000 and m["gid"] == 1000, m
    p = m["path"]
    assert p == base or p.startswith(base + "/"), p
    rel = p[len(base) + 1:]
    if m["kind"] == "dir":
        assert m["mode"] == 0o755; dirs.add(rel)
    elif m["kind"] == "symlink":
        links[rel] = m["target"]
    else:
        assert len(m.get("data", b"")) <= 65536
        if m["append"]:
            assert rel in files; files[rel][1] += m["data"]
        else:
            assert rel not in files; files[rel] = [m["mode"], m.get("data", b"")]
assert i == len(data)
want_files = {}
for root, ds, fs in os.walk(src):
    ds[:] = [d for d in ds if d != ".git"]
    for f in fs:
        full = os.path.join(root, f); rel = os.path.relpath(full, src)
        if os.path.islink(full):
            assert links[rel] == os.readlink(full), rel
        else:
            mode = 0o755 if os.stat(full).st_mode & 0o100 else 0o644
            assert files[rel][0] == mode, (rel, oct(files[rel][0]))
            assert files[rel][1] == open(full, "rb").read(), rel
            want_files[rel] = 1
assert set(files) == set(want_files), (set(files) ^ set(want_files))
assert {"", "dir", "dir/deep"} == dirs, dirs
print("frames ok: %d files, %d dirs, %d symlinks, %d bytes of stream" % (len(files), len(dirs), len(links), len(data)))
EOF
then pass "PUT stream decodes and matches the tree (blob.bin chunked)"; else fail "PUT stream check"; fi

# ---- policy ----
run 3 fetch --cache "$CACHE" --url "$GURL/src.git" && [[ $LAST == "repo: git URL"*"not allowed"* ]] &&
	pass "git:// refused without an allow pattern: $LAST" || fail "(see above) $LAST"
run 3 fetch --cache "$CACHE" --url "file://$SRV/src.git" && pass "file:// refused without a pattern" || fail "(see above) $LAST"
run 3 fetch --cache "$CACHE" --url "$SRV/src.git" --allow "$GALLOW" && pass "local path refused" || fail "(see above) $LAST"
run 3 fetch --cache "$CACHE" --url "git://127.0.0.1:1/x" --allow "$GALLOW" && pass "pattern is over the whole URL" || fail "(see above) $LAST"
run 3 fetch --cache "$CACHE" --url "https://127.0.0.1:$PORT/src.git" && [[ $LAST == *loopback* ]] &&
	pass "https to loopback refused: $LAST" || fail "(see above) $LAST"
run 3 fetch --cache "$CACHE" --url "https://localhost:$PORT/src.git" && [[ $LAST == *"resolves to a loopback"* ]] &&
	pass "https to a name resolving to loopback refused: $LAST" || fail "(see above) $LAST"
run 3 fetch --cache "$CACHE" --url "https://169.254.169.254/latest" && [[ $LAST == *link-local* ]] &&
	pass "metadata address refused" || fail "(see above) $LAST"
run 3 fetch --cache "$CACHE" --url "https://10.1.2.3/r" && pass "private address refused" || fail "(see above) $LAST"
run 3 fetch --cache "$CACHE" --url "https://u:p@github.com/r" && [[ $LAST == *credentials* ]] &&
	pass "credentials in URL refused" || fail "(see above) $LAST"
[[ $(cat "$T/err.txt") != *"u:p"* ]] || fail "URL credentials echoed"
run 2 export --cache "$CACHE" --url "$GURL/src.git" --allow "$GALLOW" --ref main --subdir ../x &&
	pass "subdir with .. refused" || fail "(see above) $LAST"

# ---- missing ref, missing repo ----
run 4 export --cache "$CACHE" --url "$GURL/src.git" --allow "$GALLOW" --ref nope &&
	[[ $LAST == "repo: ref 'nope' not found in $GURL/src.git" ]] && pass "missing ref: $LAST" || fail "(see above) $LAST"
run 4 export --cache "$CACHE" --url "$GURL/src.git" --allow "$GALLOW" --ref 0123456789012345678901234567890123456789 &&
	pass "missing commit" || fail "(see above) $LAST"
run 8 fetch --cache "$CACHE" --url "$GURL/nothere.git" --allow "$GALLOW" && pass "missing repo: $LAST" || fail "(see above) $LAST"

# ---- caps ----
run 0 fetch --cache "$CACHE" --url "$GURL/big.git" --allow "$GALLOW"
run 5 export --cache "$CACHE" --url "$GURL/big.git" --allow "$GALLOW" --ref main --max-bytes 1000000 &&
	[[ $LAST == "repo: checkout over 1000000 bytes"* ]] && pass "--max-bytes: $LAST" || fail "(see above) $LAST"
run 5 export --cache "$CACHE" --url "$GURL/big.git" --allow "$GALLOW" --ref main --max-file 1048576 &&
	[[ $LAST == "repo: file 'big.bin' is 3000000 bytes"* ]] && pass "--max-file: $LAST" || fail "(see above) $LAST"
run 5 export --cache "$CACHE" --url "$GURL/big.git" --allow "$GALLOW" --ref main --max-files 3 &&
	pass "--max-files: $LAST" || fail "(see above) $LAST"
run 5 fetch --cache "$T/cache2" --url "$GURL/big.git" --allow "$GALLOW" --repo-max 1048576 &&
	[[ $LAST == "repo: repository over 1 MiB" ]] && pass "fetch cap: $LAST" || fail "(see above) $LAST"
[ -z "$(ls "$T/cache2" | grep -v '\.lock$' || true)" ] && pass "an aborted first fetch leaves no mirror" ||
	fail "aborted fetch left: $(ls "$T/cache2")"

# ---- hostile symlinks, submodules ----
for r in evil climb chain; do
	run 0 fetch --cache "$CACHE" --url "$GURL/$r.git" --allow "$GALLOW"
	run 6 export --cache "$CACHE" --url "$GURL/$r.git" --allow "$GALLOW" --ref main && pass "$r: $LAST" || fail "(see above) $LAST"
done
run 6 export --cache "$CACHE" --url "$GURL/evil.git" --allow "$GALLOW" --ref main
[[ $LAST == "repo: symlink 'evil' points outside the checkout (/etc/passwd)" ]] || fail "message: $LAST"
run 0 fetch --cache "$CACHE" --url "$GURL/sub.git" --allow "$GALLOW"
run 0 export --cache "$CACHE" --url "$GURL/sub.git" --allow "$GALLOW" --ref main &&
	[ "$(summary_field skipped)" = 1 ] && [[ $LAST == *'"skipped_paths":["sub"]'* ]] && pass "submodule skipped: $LAST" || fail "(see above) $LAST"

# ---- incremental fetch (times printed) ----
t0=$(date +%s%N)
run 0 fetch --cache "$CACHE" --url "$GURL/hist.git" --allow "$GALLOW"
t1=$(date +%s%N)
[ "$(summary_field existed)" = False ] || fail "first fetch: mirror existed"
first_bytes=$(summary_field received_bytes)
G clone -q "$SRV/hist.git" "$T/w-hist"
(cd "$T/w-hist" && echo more > new.txt && G add new.txt && G commit -qm more &&
	G push -q "$SRV/hist.git" main)
t2=$(date +%s%N)
run 0 fetch --cache "$CACHE" --url "$GURL/hist.git" --allow "$GALLOW"
t3=$(date +%s%N)
first=$(((t1 - t0) / 1000000)); second=$(((t3 - t2) / 1000000))
second_bytes=$(summary_field received_bytes)
echo "fetch times: first ${first} ms ($first_bytes bytes received, 400 commits), second ${second} ms ($second_bytes bytes received, 1 new commit)"
[ "$(summary_field existed)" = True ] && [ "$second" -lt "$first" ] && [ $((second_bytes * 100)) -lt "$first_bytes" ] &&
	pass "second fetch incremental and faster" || fail "incremental: first $first ms, second $second ms, $LAST"
run 0 export --cache "$CACHE" --url "$GURL/hist.git" --allow "$GALLOW" --ref main &&
	[ "$(summary_field commit)" = "$(rev hist main)" ] && pass "mirror has the new commit" || fail "(see above) $LAST"

# ---- two concurrent fetches of one URL serialize on the lock ----
"$FETCH" fetch --cache "$CACHE" --url "$GURL/hist.git" --allow "$GALLOW" 2>/dev/null & p1=$!
"$FETCH" fetch --cache "$CACHE" --url "$GURL/hist.git" --allow "$GALLOW" 2>/dev/null & p2=$!
wait $p1 && wait $p2 && pass "concurrent fetches of one URL both succeed" || fail "concurrent fetches"

# ---- timeout: a server that accepts and never answers ----
HPORT=$(free_port)
$PY -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
c=[]
while True: c.append(s.accept())' "$HPORT" &
HANG_PID=$!
sleep 0.3
t0=$(date +%s%N)
run 11 fetch --cache "$CACHE" --url "git://127.0.0.1:$HPORT/x.git" --allow "git://127.0.0.1:$HPORT/*" --timeout-ms 1000 &&
	pass "timeout -> exit 11 after $((($(date +%s%N) - t0) / 1000000)) ms: $LAST" || fail "(see above) $LAST"

# ---- credentials: malformed refused, never echoed ----
rc=0; printf 'nocolon' | "$FETCH" fetch --cache "$CACHE" --url "$GURL/src.git" --allow "$GALLOW" --cred-fd 3 3<&0 \
	2>"$T/err.txt" || rc=$?
[ "$rc" = 7 ] && pass "malformed credentials -> exit 7" || fail "malformed credentials: exit $rc"
rc=0; printf 'user:s3cr3t-value' | "$FETCH" fetch --cache "$CACHE" --url "$GURL/nothere.git" --allow "$GALLOW" \
	--cred-fd 3 3<&0 2>"$T/err.txt" >/dev/null || rc=$?
! grep -q s3cr3t "$T/err.txt" && pass "secret not in the helper's output (exit $rc)" || fail "secret echoed"

# ---- LRU eviction ----
C3=$T/cache3
run 0 fetch --cache "$C3" --url "$GURL/big.git" --allow "$GALLOW"
sleep 1.1	# stamps have 1 s resolution
run 0 fetch --cache "$C3" --url "$GURL/src.git" --allow "$GALLOW" --cache-max 1 &&
	[ "$(summary_field evicted)" = 1 ] && [ "$(ls -d "$C3"/*.git | wc -l)" = 1 ] &&
	pass "LRU eviction removed the older mirror, kept the current" || fail "eviction: $LAST; $(ls "$C3")"
run 0 export --cache "$C3" --url "$GURL/src.git" --allow "$GALLOW" --ref main || fail "current mirror usable"

# ---- the jail ----
echo secret > "$RUN/root-only"; chmod 600 "$RUN/root-only"
echo public > "$RUN/public"; chmod 644 "$RUN/public"
run 0 selftest --cache "$CACHE" --url "$GURL/x" --allow "$GALLOW" --hide "$RUN" \
	--probe /etc/shadow --probe "$RUN/root-only" --probe "$RUN/public" --probe /root/.bashrc &&
	pass "jail: /etc/shadow, run-dir files, /root unreadable; / read-only; ptrace/unshare/mount/bpf/keyctl denied; pid 1" || fail "(see above) $LAST"
# control: the probe does see a readable file when it is not hidden
run 6 selftest --cache "$CACHE" --url "$GURL/x" --allow "$GALLOW" --probe "$RUN/public" &&
	pass "selftest control: an unhidden world-readable file is reported" || fail "(see above) $LAST"
[ "$(stat -c %u "$CACHE")" = 199999 ] && pass "cache dir owned by the fetch uid" || fail "cache owner"

# ---- worker/repo.c: shared flights, commit fast path, cancel, policy, timeout ----
DC=$T/dcache
drive() { "$DRIVE" --cache "$DC" --run-dir "$RUN" --allow "$GALLOW" "$@" >"$T/drive.out" 2>"$T/drive.log"; }
drive "$GURL/src.git" main "$GURL/src.git" feature "$GURL/src.git" v1 "$GURL/src.git" nope
cat "$T/drive.out"
[ "$(grep -c 'ev=repo.fetch_started' "$T/drive.log")" = 1 ] && pass "repo.c: 4 requests, one network fetch" ||
	fail "repo.c flights: $(grep -c ev=repo.fetch_started "$T/drive.log")"
[ "$(grep -c 'err=0 .*mirror_hit=0.*pos=0' "$T/drive.out")" = 3 ] && pass "repo.c: 3 checkouts, fd rewound" ||
	fail "repo.c checkouts"
grep -q "done 3 err=-5 transient=0 .*why=\"repo: ref 'nope' not found" "$T/drive.out" && pass "repo.c: missing ref permanent" || fail "(see above) $LAST"
grep -q "done 1 .*commit=$(rev src feature)" "$T/drive.out" && pass "repo.c: feature commit" || fail "(see above) $LAST"
drive "$GURL/src.git" "$(rev src v1)" "$GURL/src.git" main
[ "$(grep -c 'ev=repo.fetch_started' "$T/drive.log")" = 1 ] &&
	grep -q "done 0 err=0 .*mirror_hit=1" "$T/drive.out" && grep -q "done 1 err=0 .*mirror_hit=1" "$T/drive.out" &&
	pass "repo.c: commit from the mirror, branch incremental (mirror_hit)" || { cat "$T/drive.out"; fail "mirror_hit"; } || fail "(see above) $LAST"
drive "$GURL/src.git" "$(rev src v1)"
! grep -q 'ev=repo.fetch_started' "$T/drive.log" && pass "repo.c: known commit skips the network" || fail "commit fast path"
drive --cancel 0 "$GURL/hist.git" main "$GURL/src.git" main
[ "$(wc -l < "$T/drive.out")" = 1 ] && grep -q "^done 1 err=0" "$T/drive.out" && pass "repo.c: cancelled op gets no callback" ||
	fail "cancel: $(cat "$T/drive.out")"
drive "https://127.0.0.1/x" main "http://example.com/x" main
[ "$(grep -c 'err=-1 transient=0' "$T/drive.out")" = 2 ] && ! grep -q fetch_started "$T/drive.log" &&
	pass "repo.c: policy refusals before spawning" || fail "repo.c policy: $(cat "$T/drive.out")"
"$DRIVE" --cache "$DC" --run-dir "$RUN" --allow "git://127.0.0.1:$HPORT/*" --timeout-ms 1000 \
	"git://127.0.0.1:$HPORT/x.git" main >"$T/drive.out" 2>"$T/drive.log"
grep -q 'transient=1 .*timed out' "$T/drive.out" && pass "repo.c: timeout is transient: $(cat "$T/drive.out")" ||
	fail "repo.c timeout: $(cat "$T/drive.out")"
# credentials: only the entry of the URL's host, only for https, never in any output
echo "fileuser:filesecret9" > "$T/cred.txt"; chmod 600 "$T/cred.txt"
for c in "8.8.8.8=u:topsecret1 1" "other.example=u:topsecret1 0" "8.8.8.8=@$T/cred.txt 1"; do
	set -- $c
	"$DRIVE" --cache "$DC" --run-dir "$RUN" --timeout-ms 1500 --cred "$1" "https://8.8.8.8/x.git" main \
		>"$T/drive.out" 2>"$T/drive.log"
	# the fetch itself fails (no route, refused, timeout or a certificate for another name)
	grep -q "ev=repo.fetch_started .*cred=$2" "$T/drive.log" && grep -q 'err=-' "$T/drive.out" &&
		! grep -q -e topsecret1 -e filesecret9 "$T/drive.out" "$T/drive.log" &&
		pass "repo.c: credential ${1%%=*} -> cred=$2, not echoed: $(cut -c1-90 "$T/drive.out")" ||
		fail "repo.c credentials $1: $(cat "$T/drive.out" "$T/drive.log")"
done
"$DRIVE" --cache "$DC" --run-dir "$RUN" --allow "$GALLOW" --cred "127.0.0.1=u:topsecret1" "$GURL/src.git" main \
	>"$T/drive.out" 2>"$T/drive.log"
grep -q "ev=repo.fetch_started .*cred=0" "$T/drive.log" && grep -q "err=0" "$T/drive.out" &&
	pass "repo.c: no credential over git://" || fail "git:// credential: $(cat "$T/drive.log")"
[ -z "$(ls -A "$RUN" | grep -v -e root-only -e public || true)" ] && pass "no export temp files left in the run dir" ||
	fail "run dir: $(ls -A "$RUN")"

if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS check(s) failed"
	exit 1
fi
echo "all repo fetch checks passed"
