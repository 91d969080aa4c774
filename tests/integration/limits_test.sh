#!/usr/bin/env bash
# Connection limits on the real server: connections per address beyond the limit are closed at once,
# idle connections are closed after --idle-timeout, a TLS peer that never handshakes loses its slot,
# and the server still answers afterwards.
set -euo pipefail
bin=${SIPWARDEN:?}
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; cat "$tmp/server.log" 2>/dev/null; exit 1; }
read -r tcp tls < <(python3 -c 'import socket
a=socket.socket(); a.bind(("127.0.0.1",0)); b=socket.socket(); b.bind(("127.0.0.1",0))
print(a.getsockname()[1], b.getsockname()[1]); a.close(); b.close()')
"$bin" run --listen "tcp:127.0.0.1:$tcp" --listen "tls:127.0.0.1:$tls" --data-dir "$tmp/var" \
  --max-connections-per-address 2 --idle-timeout 1 --tls-handshake-timeout 1 --shutdown-grace 1 > "$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "sipwarden running" "$tmp/server.log" && break; sleep 0.1; done
python3 - "$tcp" "$tls" <<'PY' || fail "limits"
import socket, sys, time
tcp, tls = int(sys.argv[1]), int(sys.argv[2])
def closed(s, wait):
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
a = socket.create_connection(("127.0.0.1", tcp)); b = socket.create_connection(("127.0.0.1", tcp))
time.sleep(0.2)
c = socket.create_connection(("127.0.0.1", tcp))
assert closed(c, 2), "third connection from one address was not refused"
assert not closed(a, 0.3), "first connection closed too early"
assert closed(a, 3) and closed(b, 3), "idle connections were not closed"
t = socket.create_connection(("127.0.0.1", tls))   # TCP only, never a ClientHello
assert closed(t, 3), "a peer that never handshakes kept its TLS slot"
d = socket.create_connection(("127.0.0.1", tcp), timeout=5)   # slots are free again
d.sendall(b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKlim\r\n"
          b"From: <sip:l@127.0.0.1>;tag=l\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: lim\r\nCSeq: 1 OPTIONS\r\n"
          b"Content-Length: 0\r\n\r\n")
assert d.recv(4096).startswith(b"SIP/2.0 200 OK"), "no answer after the limits"
PY
kill -TERM "$pid"; wait "$pid" || fail "exit status"; pid=""
echo "limits_test: all passed"
