#!/usr/bin/env bash
# Per-exec limits inside the guest (issue 6; schemas/agent-frame.md LIMITS) with exact values,
# through corral-vm (vm_exec_req mem_max/pids_max/disk_max → EXEC → agent cgroup → EXIT limit):
#  1. just under every limit nothing is reported (no false positive): 100 MiB allocated with
#     mem_max 200 MiB, 100 processes with pids_max 512, 50 MiB written with disk_max 256 MiB;
#     the process runs in its own cgroup /corral/exec-*, the writable layer is 256 MiB, Yama
#     ptrace_scope is 1, the job's oom_score_adj is 0 (not the agent's -1000: an unkillable job
#     at the VM's memory panics the guest);
#  2. a memory bomb with mem_max 100 MiB is killed (SIGKILL) and reported as "memory";
#  3. 100 background processes with pids_max 64: forks are refused, reported as "pids";
#  4. dd into a 32 MiB writable layer: ENOSPC, reported as "disk".
# Each over-limit exec still gets its EXIT: the agent survived its job at the limit.
# Env: BUILD_DIR, SRC_DIR (set by ctest). Exit 77 when the images are missing.
set -uo pipefail

BUILD_DIR=${BUILD_DIR:-$(pwd)}
SRC_DIR=${SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CVM=$BUILD_DIR/bin/corral-vm
IMAGES=$BUILD_DIR/images

for f in vmlinux initramfs.cpio.gz base.ext4; do
	if [ ! -e "$IMAGES/$f" ]; then
		echo "SKIP: $IMAGES/$f missing (build with images/build --out $IMAGES)"
		exit 77
	fi
done
[ -x "$CVM" ] || { echo "SKIP: $CVM not built"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: no qemu-system-x86_64"; exit 77; }

T=$(mktemp -d /tmp/clt.XXXXXX)	# short: socket paths must fit in 107 bytes
RUN=$T/run
mkdir -p "$RUN"
fails=0
cleanup() {
	local p
	for p in $(pgrep -f -- "$RUN/"); do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
pass() { echo "ok: $*"; }
cvm() {
	timeout 240 "$CVM" --images "$IMAGES" --run-dir "$RUN" --accel tcg "$@" >"$T/out" 2>"$T/err"
}
# The ev=vm.run line's field $1.
run_field() { grep 'ev=vm.run' "$T/err" | tail -1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }
show() { echo "--- stdout"; tail -20 "$T/out"; echo "--- stderr"; tail -5 "$T/err"; }

# 1. just under every limit
cvm --mem-max 200 --pids-max 512 --disk-max 256 -- sh -c '
cat /proc/self/cgroup
python3 -c "b = bytearray(100 << 20); b[-1] = 1; print(\"alloc\", len(b) >> 20)"
i=0; pids=; while [ $i -lt 100 ]; do sleep 60 & pids="$pids $!"; i=$((i + 1)); done
echo procs $(wc -l < /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)/cgroup.procs)
kill $pids; wait
dd if=/dev/zero of=$HOME/fill bs=1M count=50 2>/dev/null && echo wrote 50
df -k / | tail -1
echo ptrace_scope $(cat /proc/sys/kernel/yama/ptrace_scope)
echo oom_score_adj $(cat /proc/self/oom_score_adj)
'
rc=$?
out=$(cat "$T/out")
if [ $rc -eq 0 ] && [ "$(run_field limit)" = none ] && grep -q '^0::/corral/exec-' "$T/out" &&
	grep -q '^alloc 100$' "$T/out" && grep -q '^wrote 50$' "$T/out" &&
	grep -Eq '^procs (10[0-9])$' "$T/out" && grep -q '^ptrace_scope 1$' "$T/out" &&
	grep -q '^oom_score_adj 0$' "$T/out" &&
	grep -Eq '^overlay +262144 ' "$T/out"; then
	pass "under every limit: exit 0, limit none, own cgroup, 256 MiB layer"
else
	fail "under the limits: rc=$rc limit=$(run_field limit)"
	show
fi

# 2. memory bomb
cvm --mem-max 100 -- python3 -c '
chunks = []
while True:
    chunks.append(bytearray(16 << 20))
'
rc=$?
if [ $rc -eq 137 ] && [ "$(run_field limit)" = memory ]; then
	pass "memory bomb: SIGKILL, limit memory ($(run_field exec_ms) ms)"
else
	fail "memory bomb: rc=$rc limit=$(run_field limit)"
	show
fi

# 3. more processes than pids_max (each sleep's stdio elsewhere: EXIT comes when sh ends)
cvm --pids-max 64 -- sh -c '
i=0; while [ $i -lt 100 ]; do sleep 30 </dev/null >/dev/null 2>&1 & i=$((i + 1)); done
echo started all'
rc=$?
if [ "$(run_field limit)" = pids ] && ! grep -q 'started all' "$T/out"; then
	pass "pids: forks refused at 64, limit pids (exit $rc)"
else
	fail "pids: rc=$rc limit=$(run_field limit)"
	show
fi

# 4. disk fill
cvm --disk-max 32 -- sh -c 'dd if=/dev/zero of=$HOME/fill bs=1M 2>&1; exit 3'
rc=$?
if [ $rc -eq 3 ] && [ "$(run_field limit)" = disk ] && grep -q 'No space left' "$T/out"; then
	pass "disk fill: ENOSPC at 32 MiB, limit disk"
else
	fail "disk fill: rc=$rc limit=$(run_field limit)"
	show
fi

[ -z "$(ls -A "$RUN")" ] || fail "left in run dir: $(ls -A "$RUN")"
[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all limit cases passed"
