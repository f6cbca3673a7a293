# The QEMU process itself is treated as already compromised: corral-jail must hold it. Checks
# (root only, as in CI; skipped without root):
#  - corral-jail dies with "corral-jail: step NAME: ERRNO: detail" on bad input;
#  - its seccomp allowlist kills a syscall outside the list (unshare) with SIGSYS;
#  - the jailed program has no capabilities, no_new_privs, a VM uid, a root holding only the binds;
#  - a real job's QEMU runs as a VM uid with seccomp, in its own pid/mount/net/ipc/uts
#    namespaces and its own cgroup, and no cgroup of the worker's VMs is left once it stopped.
source "$SRC_DIR/tests/lib/harness.sh"
source "$SRC_DIR/tests/security/lib.sh"
jail_expected || skip "needs root and $BUILD_DIR/bin/corral-jail"
J=$BUILD_DIR/bin/corral-jail

# -- the jailer alone --
set +e
msg=$("$J" --gid 1 -- /bin/true 2>&1); rc=$?
set -e
assert_eq "missing uid exit" 125 "$rc"
assert_contains "missing uid" "$msg" "corral-jail: step args: EINVAL: --uid and --gid are required"
set +e
msg=$("$J" --uid 200001 --gid 200001 --bind-ro /nonexistent-corral -- /usr/bin/true 2>&1); rc=$?
set -e
assert_eq "bad bind exit" 125 "$rc"
assert_contains "bad bind" "$msg" "corral-jail: step binds: ENOENT: stat /nonexistent-corral"
set +e
msg=$("$J" --uid 200001 --gid 200001 --cgroup ../escape -- /usr/bin/true 2>&1); rc=$?
set -e
assert_contains "cgroup name" "$msg" "corral-jail: step cgroup-create: EINVAL"

# Without seccomp (so coreutils can run): what the jailed program sees and holds.
out=$("$J" --uid 200002 --gid 200002 --bind-ro /usr --bind-dev /dev/null --no-seccomp \
	-- /usr/bin/sh -c 'id -u; id -g; ls /; cat /proc/self/status 2>&1 | head -1; hostname' 2>&1)
note "jailed view: $(echo "$out" | tr '\n' ' ')"
assert_eq "uid" 200002 "$(echo "$out" | sed -n 1p)"
assert_eq "gid" 200002 "$(echo "$out" | sed -n 2p)"
assert_eq "root" "bin dev lib lib64 sbin usr" "$(echo "$out" | sed -n '3,8p' | tr '\n' ' ' | sed 's/ $//')"
assert_contains "no /proc" "$out" "No such file or directory"
assert_contains "hostname" "$out" "corral-vm"
# With seccomp: unshare(2) is not in qemu.seccomp, so the process dies of SIGSYS.
set +e
"$J" --uid 200003 --gid 200003 --bind-ro /usr -- /usr/bin/unshare -U /usr/bin/true 2>/dev/null
rc=$?
set -e
assert_eq "seccomp kill (128+SIGSYS)" 159 "$rc"
# The compiled allowlist is the reviewed file.
want=$(grep -v '^#' "$SRC_DIR/vm/jailer/qemu.seccomp" | sed 's/#.*//; s/[[:space:]]*$//; s/  */ /g' | grep -c .)
assert_eq "allowlist entries" "$want" "$("$J" --print-seccomp | wc -l)"

# -- a real job's QEMU --
harness_start
corral run --id held --timeout 60 -- sleep 8 >/dev/null &
job=$!
wait_for 60 have_jailed_qemu
q=$(jailed_qemu_pids | sed -n 1p)
st=/proc/$q/status
note "QEMU $q: $(grep -E '^(Uid|CapEff|CapBnd|NoNewPrivs|Seccomp):' "$st" | tr '\n\t' '  ')"
[ "$(awk '/^Uid:/{print $2}' "$st")" -ge 200000 ] || fail "QEMU uid"
assert_eq "CapEff" 0000000000000000 "$(awk '/^CapEff:/{print $2}' "$st")"
assert_eq "CapBnd" 0000000000000000 "$(awk '/^CapBnd:/{print $2}' "$st")"
assert_eq "NoNewPrivs" 1 "$(awk '/^NoNewPrivs:/{print $2}' "$st")"
assert_eq "Seccomp mode" 2 "$(awk '/^Seccomp:/{print $2}' "$st")"
for ns in pid mnt net ipc uts; do
	[ "$(readlink /proc/$q/ns/$ns)" != "$(readlink /proc/self/ns/$ns)" ] ||
		fail "QEMU shares the host $ns namespace"
done
grep -qE ':/corral/vm-[0-9]+-[0-9]+$' /proc/$q/cgroup ||
	fail "QEMU is not in a corral/vm-* cgroup: $(cat /proc/$q/cgroup)"
# QEMU's root holds no host /etc, /home or run dirs other than its own.
[ ! -e "/proc/$q/root/etc/passwd" ] || fail "QEMU sees /etc/passwd"
[ ! -e "/proc/$q/root/home" ] || fail "QEMU sees /home"
wait $job || fail "the job failed"
out=$(corral run -- sh -c 'echo next')
assert_eq "next job" next "$out"
assert_corrald_alive

# Once corrald has stopped (every VM destroyed, pool ones included), none of its VMs' cgroups
# remains.
pid=$CORRALD_PID
harness_stop_corrald 20
[ "$CORRALD_STATUS" -eq 0 ] || fail "corrald exited with status $CORRALD_STATUS"
cgroups_of() {
	ls -d /sys/fs/cgroup/*/corral/vm-$1-* /sys/fs/cgroup/corral/vm-$1-* 2>/dev/null || true
}
no_cgroups_left() {
	[ -z "$(cgroups_of "$pid")" ]
}
# the jailers remove them after their QEMU is reaped, a moment after corrald exits
for ((i = 0; i < 100; i++)); do no_cgroups_left && break; sleep 0.1; done
no_cgroups_left || fail "cgroups left behind: $(cgroups_of "$pid")"
