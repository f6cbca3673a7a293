# A warm-pool clone's QEMU is assumed compromised: it must not be able to change the template RAM
# that every later clone of the template starts from (vm/THREAT-MODEL.md, boundary 6 against
# attacker A++). Root only, as in CI (corrald jails QEMU). Checks:
#  - the clone's guest RAM is a private (copy-on-write) mapping of the template's sealed memfd,
#    and no fd or mapping of QEMU names the template's RAM file;
#  - through that very fd (QEMU's, opened read-write as root): write, a shared writable mmap,
#    punching holes, truncating and adding seals all fail with EPERM; a private mapping can be
#    written without changing the file;
#  - the jail's /proc holds only the process subset (no /proc/sys, /proc/meminfo, no host pids);
#  - a job that writes 96 MiB of guest RAM in a clone leaves the template's RAM byte-identical
#    (hash of corrald's own memfd before and after), and the next clone still runs jobs.
# A jailer given an unsealed memfd refuses it (test_jail.sh covers the jailer's other refusals).
source "$SRC_DIR/tests/lib/harness.sh"
source "$SRC_DIR/tests/security/lib.sh"
jail_expected || skip "needs root and $BUILD_DIR/bin/corral-jail"

# -- the jailer alone: an unsealed memfd is refused, before anything is mounted --
set +e
msg=$(python3 - "$BUILD_DIR/bin/corral-jail" <<'PY' 2>&1
import os, subprocess, sys
fd = os.memfd_create("unsealed", os.MFD_ALLOW_SEALING)
os.write(fd, b"ram" * 100)
os.dup2(fd, 7)
r = subprocess.run([sys.argv[1], "--uid", "200011", "--gid", "200011", "--mem-fd", "7", "--",
                    "/usr/bin/true"], pass_fds=[7], capture_output=True, text=True)
print(r.returncode, r.stderr.strip())
PY
)
set -e
assert_contains "unsealed memfd refused" "$msg" \
	"125 corral-jail: step mem-fd: EPERM: --mem-fd 7 lacks seals (has 0x0"

# -- a real pool --
harness_start --pool-min 1 --pool-max 1
wait_for 240 grep -q 'ev=template.sealed' "$T/corrald.log"
clone_ready() { grep -q 'ev=vm.ready .*restored=1' "$T/corrald.log" && have_jailed_qemu; }
wait_for 120 clone_ready
q=$(jailed_qemu_pids | sed -n 1p)
note "clone QEMU $q; $(grep -o 'ev=template.sealed.*' "$T/corrald.log" | head -1)"
snapmem=$(grep -o 'ev=template.built .*dir=[^ ]*' "$T/corrald.log" | sed 's/.*dir=//')/mem
[ -n "$snapmem" ] || snapmem=$(grep -o 'ev=template.reused .*dir=[^ ]*' "$T/corrald.log" | sed 's/.*dir=//')/mem

maps=$(cat "/proc/$q/maps")
ram=$(grep 'memfd:corral-tpl-' <<<"$maps" || true)
[ -n "$ram" ] || fail "the clone's RAM is not the template memfd: $(head -c 2000 <<<"$maps")"
note "RAM mapping: $(head -1 <<<"$ram")"
awk '{print $2}' <<<"$ram" | grep -v '^...p$' && fail "a shared mapping of the template RAM: $ram"
grep -qF "$snapmem" <<<"$maps" && fail "QEMU maps the template RAM file $snapmem"
fdlinks=$(for f in /proc/$q/fd/*; do readlink "$f"; done)
grep -qF "$snapmem" <<<"$fdlinks" && fail "QEMU holds the template RAM file $snapmem"
memfd=
for f in /proc/$q/fd/*; do
	case $(readlink "$f") in /memfd:corral-tpl-*) memfd=$f; break ;; esac
done
[ -n "$memfd" ] || fail "no template memfd among QEMU's fds: $fdlinks"

# What a compromised QEMU could try with its fd (the seals are on the file: root gets no more).
out=$(python3 - "$memfd" <<'PY'
import ctypes, errno, fcntl, mmap, os, sys
F_ADD_SEALS, F_GET_SEALS = 1033, 1034
fd = os.open(sys.argv[1], os.O_RDWR)
print("seals", fcntl.fcntl(fd, F_GET_SEALS))
before = os.pread(fd, 4096, 0)
libc = ctypes.CDLL(None, use_errno=True)
def attempt(name, fn):
    try:
        fn()
        print(name, "ALLOWED")
    except OSError as e:
        print(name, errno.errorcode[e.errno])
def punch():
    if libc.fallocate(fd, 3, ctypes.c_long(0), ctypes.c_long(4096)) < 0:	# PUNCH_HOLE|KEEP_SIZE
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
attempt("pwrite", lambda: os.pwrite(fd, b"\xcc" * 16, 0))
attempt("mmap-shared-rw", lambda: mmap.mmap(fd, 4096, mmap.MAP_SHARED,
                                            mmap.PROT_READ | mmap.PROT_WRITE))
attempt("punch-hole", punch)
attempt("ftruncate", lambda: os.ftruncate(fd, 4096))
attempt("add-seals", lambda: fcntl.fcntl(fd, F_ADD_SEALS, 0x10))
m = mmap.mmap(fd, 4096, mmap.MAP_PRIVATE, mmap.PROT_READ | mmap.PROT_WRITE)
m[0:16] = b"\xcc" * 16
print("private-write", "ok" if os.pread(fd, 4096, 0) == before else "LEAKED")
PY
)
note "$(tr '\n' ' ' <<<"$out")"
assert_contains "seals" "$out" "seals 15"
for a in pwrite mmap-shared-rw punch-hole ftruncate add-seals; do
	assert_contains "$a" "$out" "$a EPERM"
done
assert_contains "private write" "$out" "private-write ok"

# The jail's /proc: QEMU's pid namespace only, no global files.
procs=$(ls "/proc/$q/root/proc" | tr '\n' ' ')
note "jailed /proc: $procs"
assert_eq "jailed /proc" "1 self thread-self " "$procs"
[ ! -e "/proc/$q/root/proc/sys" ] || fail "/proc/sys visible in the jail"
[ ! -e "/proc/$q/root/proc/meminfo" ] || fail "/proc/meminfo visible in the jail"

# corrald's own memfd: the template RAM every clone starts from, hashed around a RAM-heavy job.
tfd=
for f in /proc/$CORRALD_PID/fd/*; do
	case $(readlink "$f") in /memfd:corral-tpl-*) tfd=$f; break ;; esac
done
[ -n "$tfd" ] || fail "corrald holds no template memfd"
h0=$(sha256sum <"$tfd" | cut -d' ' -f1)
out=$(corral run --timeout 120 -- python3 -c \
	'b = bytearray(96 << 20)
for i in range(0, len(b), 4096): b[i] = 0xcc
print("wrote", sum(b[::4096]) // 0xcc)')
assert_eq "RAM-heavy job" "wrote 24576" "$out"
h1=$(sha256sum <"$tfd" | cut -d' ' -f1)
assert_eq "template RAM unchanged" "$h0" "$h1"
wait_for 120 have_jailed_qemu
out=$(corral run -- sh -c 'echo next')
assert_eq "next job" next "$out"
assert_corrald_alive
