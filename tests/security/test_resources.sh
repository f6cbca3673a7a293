# Attacks: exhaust resources from a job. Each ends in a clear final state naming the limit it hit
# (result `limit`, issue 6), the VM is gone and the worker runs the next job normally:
#   fork bomb          → limit pids (the exec's cgroup pids.max, 512): it spins at its limit until
#                        the wall clock ends it (timed_out) or it gives up (failed)
#   memory bomb        → failed, limit memory, SIGKILL: the exec's cgroup memory.max (VM memory −
#                        48 MiB) → OOM kill or the agent's thrash kill; the agent (PID 1) survives
#   disk fill          → limit disk: ENOSPC from the VM's writable layer (disk_max, 128 MiB)
#   output flood       → failed, limit output, "output limit N bytes exceeded", truncated=true
#   many open files    → EMFILE at the guest's RLIMIT_NOFILE, then a normal exit, no limit
#   slow job           → timed_out, limit time
source "$SRC_DIR/tests/lib/harness.sh"
harness_start

next_ok() {
	local out
	out=$(corral run -- sh -c 'echo next')
	assert_eq "next job after $1" next "$out"
	assert_corrald_alive
}

# fork bomb: a shell that forks long-lived processes forever (it retries each refused fork), so it
# reaches and keeps hitting its pids limit (under TCG ~20 s to 512)
set +e
corral run --id forkbomb --timeout 60 -- sh -c 'while :; do sleep 1000 & done' >/dev/null 2>"$T/e"
rc=$?
set -e
note "fork bomb: exit $rc, $(result_field forkbomb state): $(result_field forkbomb reason)"
case "$(result_field forkbomb state)" in
timed_out | failed) ;;
*) fail "fork bomb state: $(result_field forkbomb state)" ;;
esac
assert_eq "fork bomb limit" pids "$(result_field forkbomb limit)"
assert_contains "fork bomb reason" "$(result_field forkbomb reason)" "pids limit 512 hit"
next_ok "fork bomb"

# memory bomb: far more than the guest's RAM
set +e
corral run --id membomb --timeout 60 -- python3 -c '
chunks = []
while True:
    chunks.append(bytearray(16 << 20))
' >/dev/null 2>"$T/e"
rc=$?
set -e
note "memory bomb: exit $rc, $(result_field membomb reason)"
assert_eq "memory bomb exit (128+SIGKILL)" 137 "$rc"
assert_eq "memory bomb state" failed "$(result_field membomb state)"
assert_eq "memory bomb limit" memory "$(result_field membomb limit)"
assert_eq "memory bomb reason" "memory limit 208 MiB hit (OOM kill)" "$(result_field membomb reason)"
next_ok "memory bomb"

# disk fill: the writable layer is a tmpfs inside the guest
set +e
out=$(corral run --id diskfill --timeout 60 -- sh -c 'dd if=/dev/zero of=$HOME/fill bs=1M 2>&1; df -k / | tail -1; exit 3')
rc=$?
set -e
note "disk fill: $(echo "$out" | tr '\n' ' ')"
assert_eq "disk fill exit" 3 "$rc"
assert_contains "disk fill" "$out" "No space left on device"
assert_eq "disk fill state" failed "$(result_field diskfill state)"
assert_eq "disk fill limit" disk "$(result_field diskfill limit)"
assert_eq "disk fill reason" "disk limit 128 MiB full" "$(result_field diskfill reason)"
assert_contains "disk fill size" "$out" " 131072 "
next_ok "disk fill"

# output flood
set +e
corral run --id flood --timeout 60 --output-max 100k -- sh -c 'yes corral-flood-line' >"$T/o" 2>"$T/e"
rc=$?
set -e
assert_eq "flood exit" 125 "$rc"
assert_eq "flood bytes" 102400 "$(wc -c <"$T/o")"
assert_eq "flood state" failed "$(result_field flood state)"
assert_eq "flood reason" "output limit 102400 bytes exceeded" "$(result_field flood reason)"
assert_eq "flood truncated" true "$(result_field flood truncated)"
assert_eq "flood limit" output "$(result_field flood limit)"
next_ok "output flood"

# many open files
out=$(corral run --id fds --timeout 60 -- python3 -c '
import errno, os
fds = []
try:
    while True:
        fds.append(os.open("/dev/null", os.O_RDONLY))
except OSError as e:
    print("stopped", errno.errorcode[e.errno], len(fds))
')
note "fds: $out"
assert_contains "fds" "$out" "stopped EMFILE"
assert_eq "fds state" succeeded "$(result_field fds state)"
assert_eq "fds limit" "" "$(result_field fds limit)"
next_ok "many fds"

# the job's processes cannot reach the agent: another uid, and Yama lets a process trace only its
# own descendants (the agent, PID 1, is also hidden by hidepid and ignores signals)
out=$(corral run --id ids -- sh -c 'id -u; cat /proc/sys/kernel/yama/ptrace_scope
kill -0 1 2>/dev/null && echo signalled-pid1 || echo no-signal')
assert_eq "job uid, ptrace_scope, signal to PID 1" "1000
1
no-signal" "$out"

# a slow job: the worker's wall clock (not a guest limit)
set +e
corral run --id slow --timeout 2 -- sleep 30 >/dev/null 2>&1
rc=$?
set -e
assert_eq "slow exit" 124 "$rc"
assert_eq "slow state" timed_out "$(result_field slow state)"
assert_eq "slow limit" time "$(result_field slow limit)"
assert_contains "corral result shows the limit" "$(corral result slow)" "limit:      time"
next_ok "slow job"
