"""tests/lib/mp.py EXPR [ID TIMEOUT_MS]: writes the msgpack encoding of a Python literal to stdout.

A tiny msgpack encoder (bool, int >= 0, bytes, str, list, dict) so the tests need no Python
package and can also write what a strict encoder would refuse. EXPR is evaluated with `big` =
70000 'y's (for oversize fields). With ID and TIMEOUT_MS, EXPR is a dict merged into a v1 job
{"v": 1, "id": ID, "timeout_ms": TIMEOUT_MS} (what harness.sh's submit_job sends).
"""
import struct
import sys


def enc(o):
    if isinstance(o, bool):
        return b"\xc3" if o else b"\xc2"
    if isinstance(o, int):
        return bytes([o]) if 0 <= o < 128 else b"\xcf" + struct.pack(">Q", o)
    if isinstance(o, bytes):
        return b"\xc6" + struct.pack(">I", len(o)) + o
    if isinstance(o, str):
        b = o.encode()
        if len(b) < 32:
            return bytes([0xa0 | len(b)]) + b
        return b"\xdb" + struct.pack(">I", len(b)) + b
    if isinstance(o, list):
        return b"\xdd" + struct.pack(">I", len(o)) + b"".join(enc(x) for x in o)
    if isinstance(o, dict):
        return b"\xdf" + struct.pack(">I", len(o)) + b"".join(enc(k) + enc(v) for k, v in o.items())
    raise TypeError(o)


obj = eval(sys.argv[1], {"big": "y" * 70000})
if len(sys.argv) > 3:
    job = {"v": 1, "id": sys.argv[2], "timeout_ms": int(sys.argv[3])}
    job.update(obj)
    obj = job
sys.stdout.buffer.write(enc(obj))
