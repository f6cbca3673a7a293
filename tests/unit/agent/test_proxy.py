#!/usr/bin/python3
"""unit.agent_proxy: the guest agent's egress proxy (vm/agent/proxy.c) driven on the host.

Runs `corral-agent --fd N` (test mode) with CORRAL_AGENT_PROXY_PORT set, plays the host side of
the net_* frames over a socketpair (Debian's python3-msgpack) and a client on the proxy port:
  - an absolute-URI request becomes net_open {kind: http}, the host name lower-cased, and the
    host's net_close EPERM before net_ok becomes a 403 carrying the message (EHOSTUNREACH: 502);
  - CONNECT becomes net_open {kind: connect}; net_ok gives "200 Connection established", bytes
    the client sent early follow as net_data; host net_data reaches the client; the 256 KiB
    window holds until the host acks; a client close sends net_close;
  - host net_close after data: the client gets the data, then EOF;
  - net_data for an unknown id is answered with net_close; an origin-form request or an IPv6
    literal gets 400 without any frame; the agent exits 0 at EOF.
Usage: test_proxy.py PATH-TO-corral-agent
"""
import os
import socket
import struct
import subprocess
import sys

import msgpack

WINDOW = 256 * 1024
agent_path = sys.argv[1]
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
PORT = probe.getsockname()[1]
probe.close()

host, guest = socket.socketpair()
env = dict(os.environ, CORRAL_AGENT_PROXY_PORT=str(PORT), CORRAL_LOG_LEVEL="warn")
agent = subprocess.Popen([agent_path, "--fd", str(guest.fileno())], pass_fds=[guest.fileno()],
                         env=env, stderr=subprocess.DEVNULL)
guest.close()
inbuf = b""


def fail(msg):
    print("FAIL", msg)
    agent.kill()
    sys.exit(1)


def check(what, cond):
    if not cond:
        fail(what)
    print("ok", what)


def send(**f):
    f["v"] = 1
    x = msgpack.packb(f, use_bin_type=True)
    host.sendall(struct.pack(">I", len(x)) + x)


def recv(timeout=5.0):
    global inbuf
    host.settimeout(timeout)
    while True:
        if len(inbuf) >= 4:
            n = struct.unpack(">I", inbuf[:4])[0]
            if len(inbuf) >= 4 + n:
                f = msgpack.unpackb(inbuf[4:4 + n], raw=False)
                inbuf = inbuf[4 + n:]
                return f
        d = host.recv(1 << 16)
        if not d:
            fail("agent closed the channel")
        inbuf += d


def quiet(timeout=0.5):
    try:
        f = recv(timeout)
        return f
    except socket.timeout:
        return None


def client(data):
    c = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    c.sendall(data)
    return c


def read_all(c):
    out = b""
    c.settimeout(5)
    while True:
        d = c.recv(65536)
        if not d:
            return out
        out += d


check("ready first", recv()["t"] == "ready")
for _ in range(50):         # the proxy listens once the loop runs
    try:
        socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
        break
    except OSError:
        import time
        time.sleep(0.1)
else:
    fail("proxy not listening")
check("a probe connection makes no frame", quiet() is None)

c = client(b"GET http://Example.ORG:8080/x HTTP/1.1\r\nHost: example.org:8080\r\n\r\n")
f = recv()
check("absolute URI -> net_open http", f["t"] == "net_open" and f["kind"] == "http" and
      f["host"] == "example.org" and f["port"] == 8080)
send(t="net_close", id=f["id"], err=1, message="domain 'example.org' not allowed")
r = read_all(c)
check("refusal -> 403 with the message", r.startswith(b"HTTP/1.1 403 Forbidden\r\n") and
      r.endswith(b"\r\n\r\ndomain 'example.org' not allowed\n"))

c = client(b"GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n")
f = recv()
check("default port 80", f["port"] == 80)
send(t="net_close", id=f["id"], err=113, message="cannot connect")
check("other errors -> 502", read_all(c).startswith(b"HTTP/1.1 502 Bad Gateway\r\n"))

c = client(b"CONNECT pypi.org:443 HTTP/1.1\r\nHost: pypi.org:443\r\n\r\nEARLY")
f = recv()
sid = f["id"]
check("CONNECT -> net_open connect", f["t"] == "net_open" and f["kind"] == "connect" and
      f["host"] == "pypi.org" and f["port"] == 443)
check("nothing before net_ok", quiet() is None)
send(t="net_ok", id=sid)
c.settimeout(5)
check("200 Connection established", c.recv(4096) == b"HTTP/1.1 200 Connection established\r\n\r\n")
f = recv()
check("early bytes follow net_ok", f["t"] == "net_data" and f["data"] == b"EARLY")
send(t="net_data", id=sid, data=b"hello from host")
check("host data reaches the client", c.recv(4096) == b"hello from host")
f = recv()
check("written host bytes are acked", f["t"] == "net_ack" and f["bytes"] == 15)
c.sendall(b"x" * 400000)
got = 0
while got < WINDOW - 5:
    f = recv()
    if f["t"] != "net_data":
        fail("a %s frame while the window was open" % f["t"])
    got += len(f["data"])
check("window of 256 KiB (with the early 5 bytes)", got == WINDOW - 5)
check("nothing beyond the window", quiet() is None)
send(t="net_ack", id=sid, bytes=WINDOW)
f = recv()
check("an ack reopens the window", f["t"] == "net_data")
c.close()
while True:
    f = recv()
    if f["t"] != "net_data":
        break
check("client close -> net_close", f == {"v": 1, "t": "net_close", "id": sid})

c = client(b"CONNECT b.test:443 HTTP/1.1\r\n\r\n")
sid = recv()["id"]
send(t="net_ok", id=sid)
send(t="net_data", id=sid, data=b"last words")
send(t="net_close", id=sid)
r = read_all(c)
check("host close: data first, then EOF", r.endswith(b"\r\n\r\nlast words"))

send(t="net_data", id=987654, data=b"?")
f = recv()
while f["t"] == "net_ack":     # of the stream before
    f = recv()
check("net_data for an unknown id -> net_close", f["t"] == "net_close" and f["id"] == 987654)

c = client(b"GET /local HTTP/1.1\r\nHost: x\r\n\r\n")
check("origin-form request -> 400", read_all(c).startswith(b"HTTP/1.1 400 Bad Request\r\n"))
c = client(b"CONNECT [::1]:443 HTTP/1.1\r\n\r\n")
check("IPv6 literal -> 400", read_all(c).startswith(b"HTTP/1.1 400 Bad Request\r\n"))
check("and no frame for them", quiet() is None)

host.close()
try:
    agent.wait(10)
except subprocess.TimeoutExpired:
    fail("agent did not exit at EOF")
check("agent exits 0 at EOF", agent.returncode == 0)
