#!/usr/bin/env bash
# TLS with real OpenSSL clients: a self-signed certificate made on first start (key mode 0600), OPTIONS
# over TLS 1.3 and 1.2 answered 200, TLS 1.0/1.1 refused, messages that arrive together or split across
# records all answered, and SIGHUP serving a certificate swapped on
# disk to new connections while an established connection keeps working.
set -euo pipefail
bin=${SIPWARDEN:?}
tmp=$(mktemp -d)
pid=""; old=""
cleanup() {
  [ -n "$old" ] && kill "$old" 2>/dev/null || true
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  exec 3>&- 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- server log"; cat "$tmp/server.log" 2>/dev/null || true; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$bin" run --listen "tls:127.0.0.1:$port" --data-dir "$tmp/var" --domain tls.test --shutdown-grace 1 \
  > "$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "sipwarden running" "$tmp/server.log" && break; sleep 0.1; done
grep -q "sipwarden running" "$tmp/server.log" || fail "server did not start"

# First start: a self-signed certificate, its path and fingerprint in the log, the key private.
cert="$tmp/var/tls/cert.pem"; key="$tmp/var/tls/key.pem"
[ -f "$cert" ] && [ -f "$key" ] || fail "no certificate in the data folder"
[ "$(stat -c %a "$key")" = 600 ] || fail "key mode is $(stat -c %a "$key")"
fp=$(openssl x509 -in "$cert" -noout -fingerprint -sha256 | cut -d= -f2)
grep -q "self-signed certificate $cert (SHA-256 fingerprint $fp)" "$tmp/server.log" || fail "fingerprint not logged"
openssl x509 -in "$cert" -noout -subject | grep -q "tls.test" || fail "certificate not named after --domain"

options() {  # call-id
  printf 'OPTIONS sip:127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-%s\r\nFrom: <sip:t@tls.test>;tag=%s\r\nTo: <sip:127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' "$port" "$1" "$1" "$1"
}
ask() {  # tls-flag call-id -> response lines
  { options "$2"; sleep 1; } | timeout 10 openssl s_client -connect "127.0.0.1:$port" "$1" -quiet -no_ign_eof 2>/dev/null || true
}
ask -tls1_3 a13 | grep -q "^SIP/2.0 200 OK" || fail "OPTIONS over TLS 1.3"
ask -tls1_2 a12 | grep -q "^SIP/2.0 200 OK" || fail "OPTIONS over TLS 1.2"
for v in -tls1 -tls1_1; do
  out=$(timeout 10 openssl s_client -connect "127.0.0.1:$port" $v -cipher 'DEFAULT:@SECLEVEL=0' </dev/null 2>&1 || true)
  echo "$out" | grep -q "alert protocol version" || fail "$v was not refused: $(echo "$out" | head -5)"
done

# Messages that arrive together: three in one TLS record, three records written at once (OpenSSL reads
# ahead: the later records wait in its buffer, not in the socket), one split across two records.
python3 - "$port" <<'PY' || fail "messages arriving together over TLS"
import socket, ssl, sys, time
port = int(sys.argv[1])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
sock = socket.create_connection(("127.0.0.1", port), timeout=5)
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out)  # records made in memory, so several can go in one send()
def flush():
    data = out.read()
    if data:
        sock.sendall(data)
while True:
    try:
        tls.do_handshake()
        break
    except ssl.SSLWantReadError:
        flush()
        inc.write(sock.recv(65536))
flush()
def options(cid):
    return (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-{cid}\r\n"
            f"From: <sip:t@tls.test>;tag={cid}\r\nTo: <sip:127.0.0.1>\r\nCall-ID: {cid}\r\nCSeq: 1 OPTIONS\r\n"
            f"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()
tls.write(options("one-a") + options("one-b") + options("one-c"))  # one record
flush()
for cid in ("rec-a", "rec-b", "rec-c"):  # three records, one send()
    tls.write(options(cid))
flush()
half = options("split")  # one message in two records, apart in time
tls.write(half[:40])
flush()
time.sleep(0.2)
tls.write(half[40:])
flush()
want = {"one-a", "one-b", "one-c", "rec-a", "rec-b", "rec-c", "split"}
got, text, deadline = set(), b"", time.time() + 5
while got != want and time.time() < deadline:
    try:
        chunk = sock.recv(65536)
    except socket.timeout:
        break
    if not chunk:
        break
    inc.write(chunk)
    try:
        while True:
            text += tls.read(65536)
    except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
        pass
    for msg in text.split(b"\r\n\r\n"):
        if msg.startswith(b"SIP/2.0 200"):
            for line in msg.split(b"\r\n"):
                if line.lower().startswith(b"call-id:"):
                    got.add(line.split(b":", 1)[1].strip().decode())
if got != want:
    print("answered:", sorted(got), "missing:", sorted(want - got))
    sys.exit(1)
PY

# An established connection, kept open through a FIFO.
mkfifo "$tmp/in"
openssl s_client -connect "127.0.0.1:$port" -tls1_3 -quiet < "$tmp/in" > "$tmp/old.out" 2>/dev/null &
old=$!
exec 3>"$tmp/in"
options before >&3
for _ in $(seq 50); do grep -q "^SIP/2.0 200" "$tmp/old.out" && break; sleep 0.1; done
[ "$(grep -c '^SIP/2.0 200' "$tmp/old.out")" = 1 ] || fail "old connection: first OPTIONS"

# Swap the certificate on disk and send SIGHUP.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=renewed.tls.test \
  -keyout "$tmp/new.key" -out "$tmp/new.pem" 2>/dev/null
cp "$tmp/new.pem" "$cert"; cp "$tmp/new.key" "$key"
newfp=$(openssl x509 -in "$cert" -noout -fingerprint -sha256 | cut -d= -f2)
kill -HUP "$pid"
for _ in $(seq 50); do grep -q "SIGHUP: TLS certificate reloaded (SHA-256 fingerprint $newfp)" "$tmp/server.log" && break; sleep 0.1; done
grep -q "SIGHUP: TLS certificate reloaded (SHA-256 fingerprint $newfp)" "$tmp/server.log" || fail "no reload logged"

# New connections get the new certificate...
served=$(timeout 10 openssl s_client -connect "127.0.0.1:$port" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 | cut -d= -f2)
[ "$served" = "$newfp" ] || fail "after SIGHUP the server still serves $served"
ask -tls1_3 after | grep -q "^SIP/2.0 200 OK" || fail "OPTIONS after reload"
# ...and the old connection still works.
options still >&3
for _ in $(seq 50); do [ "$(grep -c '^SIP/2.0 200' "$tmp/old.out")" = 2 ] && break; sleep 0.1; done
[ "$(grep -c '^SIP/2.0 200' "$tmp/old.out")" = 2 ] || fail "old connection dropped by the reload"
exec 3>&-

kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid" || fail "exit status after SIGTERM"
pid=""
echo "tls_test: all passed"
