# Attacks on the guest agent and the guest kernel from a job (uid 1000): none is permitted, and
# the job ends normally:
#   kill -9 1 (the agent), ptrace-attach to PID 1   → EPERM
#   write to the agent's virtio port /dev/vport*    → EACCES (0600 root)
#   sysrq (crash or reboot the guest kernel)        → EACCES on /proc/sysrq-trigger
#   a process that ignores SIGTERM and double-forks away from its process group, past the
#   timeout                                         → timed_out; the next job's fresh VM shows no
#                                                     trace of the escaped daemon
source "$SRC_DIR/tests/lib/harness.sh"
harness_start

out=$(corral run --id poke --timeout 60 -- sh -c '
	kill -9 1 2>/dev/null && echo KILLED-PID1 || echo kill-denied
	for p in /dev/vport*; do
		echo garbage >"$p" 2>/dev/null && echo "PORT-WRITABLE $p" || echo port-denied
		head -c1 "$p" >/dev/null 2>&1 && echo "PORT-READABLE $p" || echo port-read-denied
	done
	echo c >/proc/sysrq-trigger 2>/dev/null && echo SYSRQ || echo sysrq-denied
	python3 -c "
import ctypes, ctypes.util
libc = ctypes.CDLL(ctypes.util.find_library(\"c\"), use_errno=True)
r = libc.ptrace(16, 1, 0, 0)   # PTRACE_ATTACH
print(\"PTRACED-PID1\" if r == 0 else \"ptrace-denied\", ctypes.get_errno())
"
	echo still-here')
note "guest says: $(echo "$out" | tr '\n' ' ')"
for bad in KILLED-PID1 PORT-WRITABLE PORT-READABLE SYSRQ PTRACED-PID1; do
	case $out in *"$bad"*) fail "attack succeeded: $bad ($out)" ;; esac
done
assert_contains "kill" "$out" "kill-denied"
assert_contains "port" "$out" "port-denied"
assert_contains "sysrq" "$out" "sysrq-denied"
assert_contains "ptrace" "$out" "ptrace-denied"
assert_contains "end" "$out" "still-here"
assert_eq "state" succeeded "$(result_field poke state)"

# ignore SIGTERM, escape the process group, outlive the timeout
set +e
corral run --id stubborn --timeout 3 -- sh -c '
	trap "" TERM HUP INT
	setsid sh -c "trap \"\" TERM; sleep 300" </dev/null >/dev/null 2>&1 &
	sleep 300' >/dev/null 2>&1
rc=$?
set -e
assert_eq "stubborn exit" 124 "$rc"
assert_eq "stubborn state" timed_out "$(result_field stubborn state)"
# The next job gets a fresh VM: the escaped daemon of the last one is nowhere (same uid, so
# hidepid would not hide it).
out=$(corral run -- sh -c 'ps -eo args | grep -c "^sleep 300" || true; echo next')
assert_eq "next job" "0 next" "$(echo $out)"
assert_corrald_alive
