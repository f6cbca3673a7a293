#!/usr/bin/env python3
"""Test helper: reads a Corral output stream (or the dead-letter stream) straight from Redis over
its unix socket (RESP, no client library) and prints one line per entry, decoding the msgpack
messages with a minimal decoder (maps, arrays, str, bin, ints, bool, nil).

  redis_msgs.py SOCK out KEY     -> "attempt=N seq=S kind=event state=X worker=W reason=R"
                                    or "attempt=N seq=S kind=out fd=F len=L"
  redis_msgs.py SOCK fields KEY  -> "field=value ..." per entry (values as text, job omitted)
"""
import socket
import struct
import sys


def resp_cmd(sock, *args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)


class Reader:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def _fill(self, n):
        while len(self.buf) < n:
            d = self.sock.recv(1 << 16)
            if not d:
                raise EOFError
            self.buf += d

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill(len(self.buf) + 1)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-"):
            return rest
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            self._fill(n + 2)
            v, self.buf = self.buf[:n], self.buf[n + 2:]
            return v
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise ValueError(line)


def mp_decode(b, i=0):
    c = b[i]
    i += 1
    if c <= 0x7F:
        return c, i
    if 0x80 <= c <= 0x8F or c in (0xDE, 0xDF):
        if c <= 0x8F:
            n = c & 0x0F
        elif c == 0xDE:
            n = struct.unpack(">H", b[i:i + 2])[0]; i += 2
        else:
            n = struct.unpack(">I", b[i:i + 4])[0]; i += 4
        m = {}
        for _ in range(n):
            k, i = mp_decode(b, i)
            v, i = mp_decode(b, i)
            m[k] = v
        return m, i
    if 0x90 <= c <= 0x9F or c in (0xDC, 0xDD):
        if c <= 0x9F:
            n = c & 0x0F
        elif c == 0xDC:
            n = struct.unpack(">H", b[i:i + 2])[0]; i += 2
        else:
            n = struct.unpack(">I", b[i:i + 4])[0]; i += 4
        a = []
        for _ in range(n):
            v, i = mp_decode(b, i)
            a.append(v)
        return a, i
    if 0xA0 <= c <= 0xBF:
        n = c & 0x1F
        return b[i:i + n].decode("utf-8", "replace"), i + n
    if c == 0xC0:
        return None, i
    if c in (0xC2, 0xC3):
        return c == 0xC3, i
    if c in (0xC4, 0xC5, 0xC6, 0xD9, 0xDA, 0xDB):
        w = {0xC4: 1, 0xC5: 2, 0xC6: 4, 0xD9: 1, 0xDA: 2, 0xDB: 4}[c]
        n = int.from_bytes(b[i:i + w], "big"); i += w
        v = b[i:i + n]
        return (v if c in (0xC4, 0xC5, 0xC6) else v.decode("utf-8", "replace")), i + n
    if c in (0xCC, 0xCD, 0xCE, 0xCF):
        w = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}[c]
        return int.from_bytes(b[i:i + w], "big"), i + w
    if c in (0xD0, 0xD1, 0xD2, 0xD3):
        w = {0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8}[c]
        return int.from_bytes(b[i:i + w], "big", signed=True), i + w
    if c >= 0xE0:
        return c - 256, i
    raise ValueError("msgpack type 0x%02x" % c)


def main():
    sock_path, mode, key = sys.argv[1], sys.argv[2], sys.argv[3]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    r = Reader(s)
    resp_cmd(s, "XRANGE", key, "-", "+")
    for eid, fields in r.read() or []:
        f = dict(zip(fields[::2], fields[1::2]))
        if mode == "out":
            m, _ = mp_decode(f[b"m"])
            if m.get("t") == "event":
                print("attempt=%s seq=%s kind=event state=%s worker=%s reason=%s" % (
                    m.get("attempt"), m.get("seq"), m.get("state"), m.get("worker", ""),
                    (m.get("reason") or "").replace(" ", "_")))
            else:
                print("attempt=%s seq=%s kind=out fd=%s len=%d" % (
                    m.get("attempt"), m.get("seq"), m.get("fd"), len(m.get("data") or b"")))
        else:
            print(" ".join("%s=%s" % (k.decode(), v.decode("utf-8", "replace").replace(" ", "_"))
                           for k, v in f.items() if k != b"job"))


if __name__ == "__main__":
    main()
