#!/usr/bin/env bash
# vm/host against real QEMU and the real guest images, through corral-vm:
#  1. exit code and stdout of a python3 command (exits 3, prints 42);
#  2. output is live: `echo a; sleep 2; echo b` delivers a ~2 s before b;
#  3. a command that cannot start exits 127, one killed by SIGTERM exits 143; a SIGINT to
#     corral-vm reaches the command in the guest (vm_signal);
#  4. a hung boot (QEMU SIGSTOPped before READY) is killed by the watchdog and retried;
#  5. a boot that never gets READY fails after every attempt, with the console tail as reason;
#  6. SIGKILL of the VM's owner takes QEMU with it; the next start sweeps the stale dir;
#  7. a hostile agent (oversize/undecodable frames, wrong exec ids, hangups) and a dying QEMU
#     fail the VM with a precise reason, never a crash (a scripted stand-in for QEMU);
#  8. --accel auto picks an accelerator with a real probe boot and logs why;
# and after every case: no QEMU process and no vm-* directory is left behind.
# Env: BUILD_DIR, SRC_DIR (set by ctest). Exit 77 when the images are missing.
set -uo pipefail

BUILD_DIR=${BUILD_DIR:-$(pwd)}
SRC_DIR=${SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CVM=$BUILD_DIR/bin/corral-vm
IMAGES=$BUILD_DIR/images
FAKE=$SRC_DIR/tests/integration/vmhost/fake_qemu.py

for f in vmlinux initramfs.cpio.gz base.ext4; do
	if [ ! -e "$IMAGES/$f" ]; then
		echo "SKIP: $IMAGES/$f missing (build with images/build --out $IMAGES)"
		exit 77
	fi
done
[ -x "$CVM" ] || { echo "SKIP: $CVM not built"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: no qemu-system-x86_64"; exit 77; }

T=$(mktemp -d /tmp/cvt.XXXXXX)	# short: socket paths must fit in 107 bytes
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
# Waits up to $2 s for background pid $1, SIGKILLs it after that; its exit status is in $rc.
wait_deadline() {
	local pid=$1 i
	for i in $(seq 1 $(($2 * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null && fail "pid $pid still running after $2 s"
	wait "$pid"
	rc=$?
}
pass() { echo "ok: $*"; }

# corral-vm with the common flags; $T/out and $T/err hold its stdout and stderr.
cvm() {
	timeout 180 "$CVM" --images "$IMAGES" --run-dir "$RUN" --accel tcg "$@" >"$T/out" 2>"$T/err"
}

# Nothing may outlive a corral-vm run: no QEMU using our run dir, no vm-* dir.
check_clean() {
	local what=$1 i
	for i in $(seq 1 30); do
		pgrep -f -- "$RUN/" >/dev/null || break
		sleep 0.1
	done
	if pgrep -f -- "$RUN/" >/dev/null; then
		fail "$what: QEMU left running: $(pgrep -a -f -- "$RUN/" | cut -c1-120)"
	fi
	if [ -n "$(ls -A "$RUN")" ]; then
		fail "$what: left in run dir: $(ls -A "$RUN")"
	fi
}

# 1. exit code and output
cvm -- python3 -c 'import sys; print(6*7); sys.exit(3)'
rc=$?
if [ $rc -eq 3 ] && [ "$(cat "$T/out")" = 42 ] && grep -q 'ev=vm.run .*boot_ms=[0-9]* .*exec_ms=[0-9]* exit=3' "$T/err"; then
	pass "python3 exits 3 and prints 42"
else
	fail "python3: rc=$rc out=$(head -c 200 "$T/out") err=$(tail -3 "$T/err")"
fi
check_clean "python3"

# 2. live output: timestamp each line as it arrives on the pipe
timeout 180 "$CVM" --images "$IMAGES" --run-dir "$RUN" --accel tcg -- sh -c 'echo a; sleep 2; echo b' 2>"$T/err" |
	while IFS= read -r line; do echo "$(date +%s%N) $line"; done >"$T/live"
ta=$(awk '$2 == "a" { print $1 }' "$T/live")
tb=$(awk '$2 == "b" { print $1 }' "$T/live")
if [ -n "$ta" ] && [ -n "$tb" ] && [ $(((tb - ta) / 1000000)) -ge 1500 ]; then
	pass "output is live: b came $(((tb - ta) / 1000000)) ms after a"
else
	fail "live output: $(cat "$T/live") $(tail -2 "$T/err")"
fi
check_clean "live output"

# 3. exec failure and signals
cvm -- /no/such/program
rc=$?
[ $rc -eq 127 ] && grep -q 'ev=tool.cannot_run.*ENOENT' "$T/err" && pass "missing program exits 127" ||
	fail "missing program: rc=$rc $(tail -2 "$T/err")"
cvm -- sh -c 'echo bye >&2; kill -TERM $$'
rc=$?
[ $rc -eq 143 ] && grep -q '^bye$' "$T/err" && pass "SIGTERMed command exits 143, stderr streamed" ||
	fail "signal: rc=$rc $(tail -2 "$T/err")"
check_clean "exec failure"

# 3b. vm_signal: corral-vm forwards its first SIGINT to the command's process group in the guest
: >"$T/out"; : >"$T/err"	# emptied here: the background redirection truncates them only later
"$CVM" --images "$IMAGES" --run-dir "$RUN" --accel tcg -- sleep 60 >"$T/out" 2>"$T/err" &
cvm_pid=$!
for i in $(seq 1 600); do
	grep -q 'ev=vm.ready' "$T/err" && break
	sleep 0.1
done
sleep 0.5	# let the EXEC frame reach the guest
t0=$(date +%s%N)
kill -INT "$cvm_pid"
wait_deadline "$cvm_pid" 30
ms=$((($(date +%s%N) - t0) / 1000000))
if [ $rc -eq 130 ] && grep -q 'ev=vm.run .*exit=-1 signal=2' "$T/err" && [ $ms -lt 5000 ]; then
	pass "SIGINT forwarded into the guest: sleep killed in $ms ms, exit 130"
else
	fail "signal forwarding: rc=$rc ms=$ms $(tail -2 "$T/err" | cut -c1-200)"
fi
check_clean "signal forwarding"

# 4. a hung boot: SIGSTOP QEMU before the agent is READY; the watchdog kills it and retries
# (the default 15 s per attempt: with parallel tests on 2 cores a healthy boot can take 10 s)
: >"$T/out"; : >"$T/err"	# emptied here: the background redirection truncates them only later
"$CVM" --images "$IMAGES" --run-dir "$RUN" --accel tcg -- echo survived >"$T/out" 2>"$T/err" &
cvm_pid=$!
qpid=
for i in $(seq 1 100); do
	qpid=$(pgrep -P "$cvm_pid" -f qemu-system 2>/dev/null | head -1)
	[ -n "$qpid" ] && break
	sleep 0.05
done
[ -n "$qpid" ] && kill -STOP "$qpid"
wait_deadline "$cvm_pid" 180
if [ -n "$qpid" ] && [ $rc -eq 0 ] && [ "$(cat "$T/out")" = survived ] &&
	grep -q 'ev=vm.boot_hung vm=1 attempt=1 of=3 ms=15[0-9][0-9][0-9] ' "$T/err" &&
	grep -q 'ev=vm.ready vm=1 .*attempts=[23]' "$T/err"; then
	pass "hung boot killed after 15 s and retried"
else
	fail "hung boot: qpid=$qpid rc=$rc $(grep -E 'boot_|ready|failed' "$T/err" | cut -c1-200)"
fi
if kill -0 "$qpid" 2>/dev/null; then fail "stopped QEMU $qpid still exists"; fi
check_clean "hung boot"

# 5. every attempt hangs (the kernel panics and waits forever): failure with the console tail
t0=$(date +%s)
cvm --boot-timeout 12000 --boot-attempts 2 --append "rdinit=/no/such/init panic=0" -- true
rc=$?
secs=$(($(date +%s) - t0))
if [ $rc -eq 125 ] && [ "$(grep -c 'ev=vm.boot_hung' "$T/err")" -eq 2 ] &&
	grep -q 'vm failed: ETIMEDOUT: boot failed after 2 attempts.*console tail:.*Kernel panic' "$T/err" &&
	[ $secs -lt 60 ]; then
	pass "boot that never gets READY fails after 2 attempts in ${secs} s, console tail in reason"
else
	fail "never ready: rc=$rc secs=$secs $(tail -3 "$T/err" | cut -c1-300)"
fi
check_clean "never ready"

# 6. SIGKILL of corral-vm: QEMU dies with it (PDEATHSIG); the stale dir is swept next time
: >"$T/out"; : >"$T/err"	# emptied here: the background redirection truncates them only later
"$CVM" --images "$IMAGES" --run-dir "$RUN" --accel tcg -- sleep 60 >"$T/out" 2>"$T/err" &
cvm_pid=$!
for i in $(seq 1 600); do
	grep -q 'ev=vm.ready' "$T/err" && break
	sleep 0.1
done
grep -q 'ev=vm.ready' "$T/err" || fail "owner kill: VM never became ready: $(tail -2 "$T/err")"
kill -KILL "$cvm_pid"
wait "$cvm_pid" 2>/dev/null
gone=no
for i in $(seq 1 50); do
	pgrep -f -- "$RUN/" >/dev/null || { gone=yes; break; }
	sleep 0.1
done
[ $gone = yes ] && pass "QEMU died with its killed owner" || fail "QEMU survived its owner"
[ -d "$RUN/vm-$cvm_pid-1" ] || fail "expected the dead owner's dir vm-$cvm_pid-1"
cvm -- true
grep -q "ev=vm.stale_dir_removed dir=$RUN/vm-$cvm_pid-1" "$T/err" && pass "stale dir swept" ||
	fail "stale dir not swept: $(ls -A "$RUN")"
check_clean "owner kill"

# 7. hostile agent / broken QEMU, played by a script in QEMU's place
hostile() {
	local sc=$1 want=$2 rc
	cvm --qemu "$FAKE" --boot-attempts 1 --boot-timeout 5000 --append "fake=$sc" -- true
	rc=$?
	if [ $rc -eq 125 ] && grep -q -- "vm failed: $want" "$T/err"; then
		pass "fake guest '$sc': $want"
	else
		fail "fake guest '$sc': rc=$rc, wanted '$want': $(grep -E 'failed|vm.run' "$T/err" | cut -c1-300)"
	fi
	check_clean "fake $sc"
}
cvm --qemu "$FAKE" --boot-attempts 1 --append fake=ready -- true
[ $? -eq 7 ] && pass "fake guest 'ready': scripted exit 7 comes through" || fail "fake ready: $(tail -2 "$T/err")"
hostile oversize 'EMSGSIZE: boot failed after 1 attempt, last: agent frame of 4294967280 bytes, over WIRE_FRAME_MAX'
hostile garbage 'EBADMSG: .*undecodable agent frame (4 bytes)'
hostile early-output 'EPROTO: .*STARTED frame before READY'
hostile wrong-id 'EPROTO: STARTED frame for exec id 99, which is not running'
hostile hangup 'EPIPE: agent hung up (EOF)'
hostile die 'ECHILD: qemu exit status 3'

# 8. --accel auto decides once, loudly: KVM only if a real guest boots under it within 5 s
timeout 180 "$CVM" --images "$IMAGES" --run-dir "$RUN" --accel auto -- echo auto >"$T/out" 2>"$T/err"
rc=$?
accel=$(grep -o 'ev=vm.accel accel=[a-z]*' "$T/err" | head -1 | cut -d= -f3)
if [ $rc -eq 0 ] && [ "$(cat "$T/out")" = auto ] && grep -q "ev=vm.run .*accel=$accel" "$T/err"; then
	if [ "$accel" = tcg ] && [ -r /dev/kvm ] && ! grep -q 'lvl=warn .*ev=vm.accel accel=tcg reason=' "$T/err"; then
		fail "accel auto: fell back to tcg without a warning: $(grep vm.accel "$T/err")"
	else
		pass "accel auto chose $accel: $(grep -o 'ev=vm.accel .*' "$T/err" | head -1)"
	fi
else
	fail "accel auto: rc=$rc accel=$accel $(tail -3 "$T/err" | cut -c1-200)"
fi
check_clean "accel auto"

if [ $fails -ne 0 ]; then
	echo "test_vm_runtime: $fails failure(s)"
	exit 1
fi
echo "test_vm_runtime: all passed"
