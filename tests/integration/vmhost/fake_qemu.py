#!/usr/bin/python3
"""A stand-in for qemu-system-x86_64 that plays a hostile or broken guest agent.

corral-vm --qemu fake_qemu.py --append fake=SCENARIO runs it with QEMU's real argv; it serves
the agent and QMP sockets named there and behaves as SCENARIO says (see SCENARIOS). It exists to
test that vm/host survives bad frames with a precise reason; it is not a mock of the guest's
normal behaviour (the real guest is tested with real QEMU)."""
import os
import select
import socket
import struct
import sys
import time


def mp_str(s):
    b = s.encode()
    assert len(b) < 32
    return bytes([0xA0 | len(b)]) + b


def mp_uint(n):
    if n < 128:
        return bytes([n])
    return b"\xce" + struct.pack(">I", n)


def frame(pairs):
    body = bytes([0x80 | len(pairs)])
    for k, v in pairs:
        body += mp_str(k) + (mp_str(v) if isinstance(v, str) else mp_uint(v))
    return struct.pack(">I", len(body)) + body


READY = frame([("v", 1), ("t", "ready"), ("version", "fake")])


def chardev_path(argv, ident):
    for i, a in enumerate(argv):
        if a == "-chardev" and ("id=%s," % ident) in argv[i + 1]:
            val = argv[i + 1].replace(",,", "\0")
            for part in val.split(","):
                if part.startswith("path="):
                    return part[5:].replace("\0", ",")
    raise SystemExit("no chardev " + ident)


def scenario(argv):
    app = argv[argv.index("-append") + 1]
    for word in app.split():
        if word.startswith("fake="):
            return word[5:]
    return "ready"


def listen(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    return s


def serve_qmp(conn):
    buf = b""
    while True:
        r, _, _ = select.select([conn], [], [], 0.05)
        if not r:
            return buf
        data = conn.recv(4096)
        if not data:
            return buf
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            ident = line.split(b'"id":')[-1].strip(b"}\r ")
            conn.sendall(b'{"return": {}, "id": ' + ident + b"}\r\n")


def read_frame(conn):
    hdr = b""
    while len(hdr) < 4:
        d = conn.recv(4 - len(hdr))
        if not d:
            return None
        hdr += d
    (n,) = struct.unpack(">I", hdr)
    body = b""
    while len(body) < n:
        d = conn.recv(n - len(body))
        if not d:
            return None
        body += d
    return body


def main():
    argv = sys.argv
    sc = scenario(argv)
    agent = listen(chardev_path(argv, "agent"))
    qmp = listen(chardev_path(argv, "qmp"))
    qconn, _ = qmp.accept()
    qconn.sendall(b'{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, '
                  b'"capabilities": []}}\r\n')
    aconn, _ = agent.accept()
    serve_qmp(qconn)
    if sc == "oversize":
        aconn.sendall(struct.pack(">I", 0xFFFFFFF0))
    elif sc == "garbage":
        aconn.sendall(struct.pack(">I", 4) + b"\xc1\xc1\xc1\xc1")
    elif sc == "early-output":
        aconn.sendall(frame([("v", 1), ("t", "started"), ("id", 1), ("pid", 5)]))
    else:
        aconn.sendall(READY)
        read_frame(aconn)                          # INIT
        read_frame(aconn)                          # EXEC id 1
        if sc == "wrong-id":
            aconn.sendall(frame([("v", 1), ("t", "started"), ("id", 99), ("pid", 5)]))
        elif sc == "hangup":
            aconn.close()
        elif sc == "die":
            os._exit(3)
        elif sc == "ready":
            aconn.sendall(frame([("v", 1), ("t", "started"), ("id", 1), ("pid", 5)]))
            aconn.sendall(frame([("v", 1), ("t", "exit"), ("id", 1), ("exit_code", 7)]))
    while True:
        serve_qmp(qconn)
        time.sleep(0.1)


main()
