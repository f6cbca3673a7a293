# Attacks: exhaust resources from a job. Each ends in a clear final state, the VM is gone and the
# worker runs the next job normally:
#   fork bomb          → timed_out (the bomb only fills its own VM; the wall-clock limit ends it)
#   memory bomb        → failed, killed by SIGKILL (the guest kernel's OOM killer; the agent, PID 1,
#                        is never chosen), not the host's memory
#   disk fill          → failed with ENOSPC from the VM's tmpfs writable layer (bounded by guest RAM)
#   output flood       → failed, "output limit N bytes exceeded", truncated=true
#   many open files    → EMFILE at the guest's RLIMIT_NOFILE, then a normal exit
source "$SRC_DIR/tests/lib/harness.sh"
harness_start

next_ok() {
	local out
	out=$(corral run -- sh -c 'echo next')
	assert_eq "next job after $1" next "$out"
	assert_corrald_alive
}

# fork bomb (a shell one: functions that fork themselves, backgrounded)
set +e
corral run --id forkbomb --timeout 8 -- sh -c 'b() { b | b & }; b' >/dev/null 2>"$T/e"
rc=$?
set -e
assert_eq "fork bomb exit" 124 "$rc"
assert_eq "fork bomb state" timed_out "$(result_field forkbomb state)"
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
next_ok "many fds"
