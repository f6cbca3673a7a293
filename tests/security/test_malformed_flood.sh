# Attack: flood the worker's queue with malformed jobs (not msgpack, truncated, wrong types,
# deeply nested, oversized, random bytes) interleaved with valid ones. Every malformed entry is
# dead-lettered and acked, every valid job succeeds, the worker stays up, and the queue ends empty.
source "$SRC_DIR/tests/lib/harness.sh"
harness_start

Q='corral:{q}:jobs'
N=300
python3 - "$N" >"$T/cmds" <<'PY'
import os, random, sys
random.seed(6)
n = int(sys.argv[1])
bad = [b"\xc1not msgpack", b"\x81\xa3job", b"\x91" * 2000 + b"\xc0", b"\xdf\xff\xff\xff\xff",
       b"\x81\xa3job\xdb\xff\xff\xff\xff", b"\x81\xa3job\x81\xa4argv\x05", b"", b"\x00"]
def resp(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out
buf = b""
for i in range(n):
    body = random.choice(bad) if i % 3 else os.urandom(random.randint(1, 4096))
    buf += resp([b"XADD", b"corral:{q}:jobs", b"*", b"job", body])
sys.stdout.buffer.write(buf)
PY
rcli --pipe <"$T/cmds" >/dev/null
note "pushed $N malformed entries"
out=$(corral run --id ok1 -- sh -c 'echo alive')
assert_eq "valid job among garbage" alive "$out"
wait_for 120 sh -c "[ \"\$(redis-cli -s '$REDIS_SOCK' XLEN 'corral:{q}:dead')\" -ge $N ]"
pending=$(rcli XPENDING "$Q" workers | sed -n 1p)
assert_eq "nothing pending" 0 "$pending"
out=$(corral run --id ok2 -- sh -c 'echo still')
assert_eq "after the flood" still "$out"
assert_corrald_alive
