# Attack: reach the host or the outside from a job. A job has no NIC at all, and a job whose
# template has no network permission (here: the default) has no path out even through the guest's
# egress proxy (test_egress.sh covers the allowed path): connects to the QEMU user-net gateway
# 10.0.2.2, the cloud metadata address 169.254.169.254, a TCP listener on the host's loopback
# (standing in for Redis and the worker's ports) and a public address all fail, DNS fails, and the
# listener never sees a connection. QEMU itself runs in an empty network namespace when jailed.
source "$SRC_DIR/tests/lib/harness.sh"
source "$SRC_DIR/tests/security/lib.sh"
harness_start

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$port" "$T/hits" <<'PY' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
while True:
    c, a = s.accept(); open(sys.argv[2], "a").write("hit %s\n" % (a,)); c.close()
PY
listener=$!
trap 'rc=$?; set +e; kill $listener 2>/dev/null; (exit $rc); harness_cleanup' EXIT

out=$(corral run --timeout 60 -- python3 -c '
import socket, sys
targets = [("10.0.2.2", 80), ("10.0.2.3", 53), ("169.254.169.254", 80), ("127.0.0.1", int(sys.argv[1])),
           ("192.168.0.1", 22), ("1.1.1.1", 443)]
for h, p in targets:
    s = socket.socket(); s.settimeout(3)
    try:
        s.connect((h, p)); print("CONNECTED", h, p)
    except OSError as e:
        print("blocked", h, p, e.errno)
try:
    socket.getaddrinfo("example.com", 80); print("DNS-RESOLVED")
except OSError as e:
    print("dns-failed")
import os
print("ifaces", " ".join(sorted(os.listdir("/sys/class/net"))))
' "$port")
note "guest says: $(echo "$out" | tr '\n' ';')"
case $out in *CONNECTED*|*DNS-RESOLVED*) fail "the guest reached the network: $out" ;; esac
assert_eq "blocked count" 6 "$(echo "$out" | grep -c '^blocked')"
assert_contains "dns" "$out" "dns-failed"
assert_contains "interfaces" "$out" "ifaces lo"
case $out in *eth*|*ens*|*enp*) fail "the guest has a NIC: $out" ;; esac
[ ! -s "$T/hits" ] || fail "the host listener was reached: $(cat "$T/hits")"

# Jailed QEMU (corrald runs as root with corral-jail beside it): its network namespace is not
# the host's and holds only a loopback device.
if jail_expected; then
	corral run --timeout 60 -- sleep 8 >/dev/null &
	job=$!
	wait_for 60 have_jailed_qemu
	qpid=$(jailed_qemu_pids | sed -n 1p)
	[ "$(readlink /proc/$qpid/ns/net)" != "$(readlink /proc/self/ns/net)" ] ||
		fail "QEMU shares the host network namespace"
	devs=$(nsenter -t "$qpid" -n cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' ' | tr '\n' ' ')
	assert_eq "QEMU's net namespace devices" "lo " "$devs"
	wait $job || fail "the sleeping job failed"
fi
out=$(corral run -- sh -c 'echo next')
assert_eq "next job" next "$out"
assert_corrald_alive
