# Attack: get out of the VM through the egress proxy (issue 6). A job's only way out is the guest
# agent's HTTP proxy on 127.0.0.1:3128, carried over the agent channel to corrald's egress proxy,
# which enforces the job's template. Local servers stand in for the internet: an HTTP/1.1
# keep-alive server and a TLS server on the host's 127.0.0.1, reached through names given by
# --egress-resolve, with --egress-allow-addr 127.0.0.1/32 (loopback is refused otherwise).
#   template `web` allows web.corral.test:H and tls.corral.test:S:
#     plain HTTP via http_proxy → 200; HTTPS via CONNECT (python urllib, SNI) → 200
#     a name not in the allowlist → 403 with the reason (HTTP and CONNECT)
#     CONNECT with a TLS SNI naming another host, or no SNI → refused, the server sees nothing
#     a keep-alive stream whose second request carries Host: another domain → closed, never sent
#     66 clients at once → 64 streams, the others 503
#     more than --egress-max-bytes through the proxy → the job's streams are cut
#   template `default` (network none): no proxy variables, the proxy answers 403 "network
#     disabled", direct connects to 10.0.2.2, 169.254.169.254, the host's ports all fail
#   corrald without --egress-allow-addr: the allowed name → 403 (loopback address refused)
source "$SRC_DIR/tests/lib/harness.sh"
source "$SRC_DIR/tests/security/lib.sh"
command -v openssl >/dev/null || skip "missing openssl"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
H=$(free_port)
S=$(free_port)
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
	-subj /CN=tls.corral.test -addext subjectAltName=DNS:tls.corral.test 2>/dev/null
# The servers log every request (HTTP: "path host") and every TLS SNI seen.
python3 - "$H" "$S" "$T" <<'PY' &
import http.server, socket, ssl, sys, threading
H, S, T = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def log(name, line):
    with open(f"{T}/{name}", "a") as f:
        f.write(line + "\n")
class Web(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        log("web.log", f"{self.path} {self.headers.get('Host')}")
        body = (b"x" * (8 << 20)) if self.path == "/big" else b"hello from web\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
    def handle(self):
        try:
            super().handle()
        except OSError:
            pass    # the proxy cut /big at the byte cap
web = http.server.ThreadingHTTPServer(("127.0.0.1", H), Web)
threading.Thread(target=web.serve_forever, daemon=True).start()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(f"{T}/cert.pem", f"{T}/key.pem")
def sni(sock, name, c):
    log("tls.log", f"sni {name}")
ctx.sni_callback = sni
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", S)); ls.listen(16)
def serve(c):
    try:
        t = ctx.wrap_socket(c, server_side=True)
        t.recv(4096)
        t.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\ntls-ok\n")
        t.close()
    except Exception as e:
        log("tls.log", f"error {type(e).__name__}")
while True:
    c, _ = ls.accept()
    log("tls.log", "accept")
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
servers=$!
trap 'rc=$?; set +e; kill $servers 2>/dev/null; (exit $rc); harness_cleanup' EXIT
wait_for 20 python3 -c "import socket; socket.create_connection(('127.0.0.1', $H)); socket.create_connection(('127.0.0.1', $S))"

EGRESS_NAMES=(--egress-resolve web.corral.test=127.0.0.1 --egress-resolve tls.corral.test=127.0.0.1
	--egress-resolve other.corral.test=127.0.0.1 --egress-resolve evil.corral.test=127.0.0.1)
harness_start "${EGRESS_NAMES[@]}" --egress-allow-addr 127.0.0.1/32 --egress-allow-addr ::1/128 \
	--egress-max-bytes 4M
# localhost is not in --egress-resolve: it goes through the resolver threads (/etc/hosts)
corral template create web --allow "web.corral.test:$H" --allow "tls.corral.test:$S" \
	--allow "localhost:$H" >/dev/null

# ---- template web: allowed, refused, SNI and Host tricks, byte cap ----
GUEST_WEB='
import os, socket, ssl, sys, urllib.request, urllib.error
H, S = int(sys.argv[1]), int(sys.argv[2])
print("env", os.environ.get("https_proxy"), os.environ.get("NO_PROXY"))
ctx = ssl._create_unverified_context()   # the test certificate; SNI is still sent
def show(tag, f):
    try:
        print(tag, f())
    except urllib.error.HTTPError as e:
        print(tag, "HTTP", e.code, e.read().decode().strip())
    except Exception as e:
        print(tag, "ERR", type(e).__name__, str(e)[:200].replace("\n", " "))
get = lambda url, **kw: urllib.request.urlopen(url, timeout=60, **kw).read().decode().strip()
show("http", lambda: get(f"http://web.corral.test:{H}/hello.txt"))
show("https", lambda: get(f"https://tls.corral.test:{S}/x", context=ctx))
show("other", lambda: get(f"http://other.corral.test:{H}/"))
show("other-tls", lambda: get(f"https://other.corral.test:{S}/", context=ctx))
def tunnel(target):
    s = socket.create_connection(("127.0.0.1", 3128), timeout=60)
    s.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(1)
        if not d:
            break
        head += d
    return s, head.split(b"\r\n")[0].decode()
def tls_tunnel(name):
    s, status = tunnel(f"tls.corral.test:{S}")
    t = ctx.wrap_socket(s, server_hostname=name)
    t.sendall(b"GET / HTTP/1.0\r\n\r\n")
    return status + " / " + t.recv(100).decode().split("\r\n")[0]
show("sni-match", lambda: tls_tunnel("tls.corral.test"))
show("sni-mismatch", lambda: tls_tunnel("evil.corral.test"))
show("sni-none", lambda: tls_tunnel(None))
def response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        d = s.recv(4096)
        if not d:
            return "closed"
        data += d
    head, body = data.split(b"\r\n\r\n", 1)
    n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
    while len(body) < n:
        body += s.recv(4096)
    return head.split(b"\r\n")[0].decode() + " " + body.decode().strip()
def keepalive(uri_host, host, path):
    s = socket.create_connection(("127.0.0.1", 3128), timeout=60)
    s.sendall(f"GET http://web.corral.test:{H}/first HTTP/1.1\r\nHost: web.corral.test:{H}\r\n\r\n".encode())
    first = response(s)
    s.sendall(f"GET http://{uri_host}:{H}{path} HTTP/1.1\r\nHost: {host}:{H}\r\n\r\n".encode())
    return first + " | " + response(s)
def raw_get(host):   # NO_PROXY holds localhost: speak to the proxy directly
    s = socket.create_connection(("127.0.0.1", 3128), timeout=60)
    s.sendall(f"GET http://{host}:{H}/dns HTTP/1.1\r\nHost: {host}:{H}\r\n\r\n".encode())
    return response(s)
show("dns", lambda: raw_get("localhost"))
show("keepalive-same", lambda: keepalive("web.corral.test", "web.corral.test", "/again"))
show("keepalive-other", lambda: keepalive("evil.corral.test", "evil.corral.test", "/stolen"))
show("keepalive-host", lambda: keepalive("web.corral.test", "evil.corral.test", "/stolen"))
def smuggle():
    s = socket.create_connection(("127.0.0.1", 3128), timeout=60)
    s.sendall(f"GET http://web.corral.test:{H}/first HTTP/1.1\r\nHost: web.corral.test:{H}\r\nHost: evil.corral.test:{H}\r\n\r\n".encode())
    return response(s)
show("two-hosts", smuggle)
def many():     # the agent holds 64 streams at once; one more client gets 503
    socks, codes = [], []
    for i in range(66):
        s = socket.create_connection(("127.0.0.1", 3128), timeout=60)
        s.sendall(f"GET http://web.corral.test:{H}/many HTTP/1.1\r\nHost: web.corral.test:{H}\r\n\r\n".encode())
        codes.append(response(s).split(" ")[1])
        socks.append(s)     # kept open: keep-alive holds the stream
    for s in socks:
        s.close()
    return " ".join(f"{codes.count(c)}x{c}" for c in sorted(set(codes)))
show("streams", many)
show("big", lambda: len(urllib.request.urlopen(f"http://web.corral.test:{H}/big", timeout=60).read()))
'
accepts=$(grep -c '^accept' "$T/tls.log" || true)
eofs=$(grep -c '^error SSLEOFError' "$T/tls.log" || true)
out=$(corral run --template web --timeout 120 -- python3 -c "$GUEST_WEB" "$H" "$S")
note "guest says: $(echo "$out" | tr '\n' ';')"
line() { echo "$out" | grep "^$1 " || true; }
assert_eq "proxy env" "env http://127.0.0.1:3128 localhost,127.0.0.1" "$(line env)"
assert_eq "plain HTTP through the proxy" "http hello from web" "$(line http)"
assert_eq "HTTPS through CONNECT" "https tls-ok" "$(line https)"
assert_eq "a name through the resolver" "dns HTTP/1.1 200 OK hello from web" "$(line dns)"
assert_contains "name not allowed (HTTP)" "$(line other)" \
	"other HTTP 403 domain 'other.corral.test' port $H not allowed by template 'web'"
assert_contains "name not allowed (CONNECT)" "$(line other-tls)" "403"
assert_eq "CONNECT with the right SNI" "sni-match HTTP/1.1 200 Connection established / HTTP/1.1 200 OK" \
	"$(line sni-match)"
assert_contains "CONNECT with another SNI" "$(line sni-mismatch)" "sni-mismatch ERR"
assert_contains "CONNECT without SNI" "$(line sni-none)" "sni-none ERR"
assert_eq "keep-alive, same host" \
	"keepalive-same HTTP/1.1 200 OK hello from web | HTTP/1.1 200 OK hello from web" \
	"$(line keepalive-same)"
assert_eq "keep-alive, second Host another domain" \
	"keepalive-other HTTP/1.1 200 OK hello from web | closed" "$(line keepalive-other)"
assert_eq "keep-alive, second Host header another domain" \
	"keepalive-host HTTP/1.1 200 OK hello from web | closed" "$(line keepalive-host)"
assert_eq "two Host headers" "two-hosts closed" "$(line two-hosts)"
assert_eq "64 streams per job" "streams 64x200 2x503" "$(line streams)"
assert_contains "byte cap" "$(line big)" "big ERR"
# what the servers saw: the allowed requests only, each with its own host, in origin form
grep -q "evil" "$T/web.log" "$T/tls.log" && fail "a refused request reached a server: $(cat "$T/web.log" "$T/tls.log")"
grep -q "^/stolen" "$T/web.log" && fail "the second keep-alive request was forwarded"
assert_contains "server saw origin-form requests" "$(cat "$T/web.log")" "/hello.txt web.corral.test:$H"
assert_eq "SNIs the TLS server saw" "sni tls.corral.test sni tls.corral.test" \
	"$(grep '^sni' "$T/tls.log" | tr '\n' ' ' | sed 's/ $//')"
# the refused tunnels were connected (the ClientHello only comes after "200 Connection
# established") but closed before a single byte reached the server
assert_eq "TLS connections" $((accepts + 4)) "$(grep -c '^accept' "$T/tls.log")"
assert_eq "TLS connections closed before any byte" $((eofs + 2)) \
	"$(grep -c '^error SSLEOFError' "$T/tls.log")"
log=$(cat "$T/corrald.log")
assert_contains "log: allowed" "$log" "host=web.corral.test port=$H kind=http allowed=1 addr=127.0.0.1"
assert_contains "log: refused" "$log" "host=other.corral.test port=$H kind=http allowed=0"
assert_contains "log: SNI" "$log" "TLS SNI 'evil.corral.test' does not match CONNECT host 'tls.corral.test'"
assert_contains "log: no SNI" "$log" "no SNI in the ClientHello"
assert_contains "log: URI host" "$log" "request for 'evil.corral.test:$H' on a stream opened for another host"
assert_contains "log: Host" "$log" "Host 'evil.corral.test:$H' on a stream opened for another host"
assert_contains "log: byte cap" "$log" "ev=egress.limit"

# ---- template default (network none): nothing gets out ----
GUEST_NONE='
import os, socket, sys, urllib.request, urllib.error
H = int(sys.argv[1])
print("env", os.environ.get("http_proxy"))
try:
    p = urllib.request.ProxyHandler({"http": "http://127.0.0.1:3128"})
    urllib.request.build_opener(p).open(f"http://web.corral.test:{H}/hello.txt", timeout=60)
    print("proxy OPEN")
except urllib.error.HTTPError as e:
    print("proxy", e.code, e.read().decode().strip())
except OSError as e:
    print("proxy refused", e)
for h, p in [("10.0.2.2", 80), ("169.254.169.254", 80), ("127.0.0.1", H), ("192.168.0.1", 80)]:
    s = socket.socket(); s.settimeout(5)
    try:
        s.connect((h, p)); print("CONNECTED", h, p)
    except OSError as e:
        print("blocked", h, p, e.errno)
'
out=$(corral run --timeout 60 -- python3 -c "$GUEST_NONE" "$H")
note "guest (no network) says: $(echo "$out" | tr '\n' ';')"
assert_eq "no proxy env" "env None" "$(echo "$out" | grep '^env')"
assert_eq "proxy refuses" \
	"proxy 403 domain 'web.corral.test' not allowed: network disabled for this job's template" \
	"$(echo "$out" | grep '^proxy')"
case $out in *CONNECTED*) fail "a direct connection got out: $out" ;; esac
assert_eq "direct connects blocked" 4 "$(echo "$out" | grep -c '^blocked')"
grep -c "^/hello.txt" "$T/web.log" | grep -qx 1 || fail "the no-network job reached the server"

# ---- the same allowed name without --egress-allow-addr: loopback is refused ----
harness_stop_corrald
start_corrald "${EGRESS_NAMES[@]}"
out=$(corral run --template web --timeout 60 -- env -u NO_PROXY -u no_proxy python3 -c '
import sys, urllib.request, urllib.error
opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": "http://127.0.0.1:3128"}))
for host in ("web.corral.test", "localhost"):
    try:
        opener.open(f"http://{host}:{sys.argv[1]}/hello.txt", timeout=60); print("OPEN")
    except urllib.error.HTTPError as e:
        print(e.code, e.read().decode().strip())
    except OSError as e:
        print("ERR", e)
' "$H")
assert_contains "loopback refused" "$out" \
	"403 domain 'web.corral.test' resolves to a loopback address (127.0.0.1), not allowed"
assert_contains "loopback refused (resolver)" "$out" \
	"403 domain 'localhost' resolves to a loopback address"
grep -c "^/hello.txt" "$T/web.log" | grep -qx 1 || fail "the refused job reached the server"

out=$(corral run -- sh -c 'echo next')
assert_eq "next job" next "$out"
assert_corrald_alive
