"""agentwire: the host side of the agent frame protocol for the images/ scripts and tests.

Frames are a 4-byte big-endian length and a msgpack map (schemas/c/wire.h, wire_frame.c).
This is test tooling: it trusts nothing it reads but does not try to be fast.
"""
import socket
import struct
import time

import msgpack

FRAME_MAX = 1024 * 1024 + 4096


def encode(t, **fields):
    m = {"v": 1, "t": t}
    m.update(fields)
    payload = msgpack.packb(m, use_bin_type=True)
    return struct.pack(">I", len(payload)) + payload


class Conn:
    """One agent connection over a stream socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def send(self, t, **fields):
        self.sock.sendall(encode(t, **fields))

    def send_raw(self, data):
        self.sock.sendall(data)

    def recv(self, timeout):
        """Next frame as a dict, or None at the deadline. Raises EOFError on close."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 4:
                (n,) = struct.unpack(">I", self.buf[:4])
                if n > FRAME_MAX:
                    raise ValueError("frame length %d over limit" % n)
                if len(self.buf) >= 4 + n:
                    payload = bytes(self.buf[4:4 + n])
                    del self.buf[:4 + n]
                    return msgpack.unpackb(payload, raw=False)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                return None
            if not chunk:
                raise EOFError("agent closed the connection")
            self.buf += chunk

    def run(self, id, argv, timeout=60, uid=1000, gid=1000, on_frame=None, **extra):
        """Runs argv; returns (frames, stdout bytes, stderr bytes, exit frame or error frame)."""
        self.send("exec", id=id, argv=argv, uid=uid, gid=gid, **extra)
        out = {1: bytearray(), 2: bytearray()}
        frames = []
        deadline = time.monotonic() + timeout
        while True:
            f = self.recv(max(0.0, deadline - time.monotonic()))
            if f is None:
                raise TimeoutError("exec %d: no exit within %s s" % (id, timeout))
            if f.get("id") != id:
                frames.append(f)
                continue
            if on_frame:
                on_frame(f)
            if f["t"] == "output":
                out[f["fd"]] += f["data"]
            else:
                frames.append(f)
            if f["t"] in ("exit", "error"):
                return frames, bytes(out[1]), bytes(out[2]), f
