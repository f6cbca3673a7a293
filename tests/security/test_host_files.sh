# Attack: read host files from a job. The guest has no host filesystem at all: its root is the
# read-only image plus a tmpfs; the host's /etc/shadow, the worker's run dir (sockets, logs,
# other VMs), the images and the Redis socket do not exist there. Inside the guest, uid 1000
# cannot read the guest's own /etc/shadow, the root disk or the agent's port either.
source "$SRC_DIR/tests/lib/harness.sh"
harness_start

host_shadow=$(sha256sum /etc/shadow | cut -c1-64)
out=$(corral run -- sh -c '
	id -u
	cat /etc/shadow >/dev/null 2>&1 && echo shadow-readable || echo shadow-denied
	for p in "$1" "$2" "$3" "$4" /work /root/.cache; do
		[ -e "$p" ] && echo "visible $p" || true
	done
	head -c1 /dev/vda >/dev/null 2>&1 && echo disk-readable || echo disk-denied
	sha256sum /etc/shadow 2>/dev/null || true
' sh "$RUN_DIR" "$IMAGES/base.ext4" "$REDIS_SOCK" "$T")
note "guest says: $(echo "$out" | tr '\n' ' ')"
assert_eq "uid" 1000 "$(echo "$out" | sed -n 1p)"
assert_contains "guest shadow" "$out" "shadow-denied"
assert_contains "guest disk" "$out" "disk-denied"
case $out in *visible*) fail "host path visible in the guest: $out" ;; esac
case $out in *"$host_shadow"*) fail "the host's /etc/shadow was read" ;; esac

# The guest's processes table shows no host process and not the agent's details.
out=$(corral run -- sh -c 'ls /proc | grep -c "^[0-9]"; cat /proc/1/cmdline 2>&1 | head -c 40; echo')
note "guest /proc: $(echo "$out" | tr '\n' ' ')"
[ "$(echo "$out" | sed -n 1p)" -lt 20 ] || fail "guest sees many processes: $out"

out=$(corral run -- sh -c 'echo next')
assert_eq "next job" next "$out"
assert_corrald_alive
