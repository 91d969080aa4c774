#!/usr/bin/env bash
# The real server on loopback, driven by sipp: OPTIONS over UDP and TCP, an INVITE retransmission
# answered from the same transaction, a malformed request's 400, 405/420/483, graceful SIGTERM.
set -euo pipefail
bin=${SIPWARDEN:?}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- server log"; cat "$tmp/server.log" 2>/dev/null || true; exit 1; }
command -v sipp >/dev/null || fail "sipp is not installed (scripts/deps installs sip-tester)"

# A port free for both UDP and TCP on 127.0.0.1.
port=$(python3 - <<'PY'
import socket
for _ in range(50):
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        t.close(); u.close()
PY
)
"$bin" run --listen "udp:127.0.0.1:$port" --listen "tcp:127.0.0.1:$port" --data-dir "$tmp/var" \
  --shutdown-grace 2 --log-level info > "$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "sipwarden running" "$tmp/server.log" && break; sleep 0.1; done
grep -q "sipwarden running" "$tmp/server.log" || fail "server did not start"

sip() {  # scenario transport [extra sipp args]
  local sc=$1 tr=$2; shift 2
  sipp -sf "$here/sipp/$sc.xml" "127.0.0.1:$port" -i 127.0.0.1 -t "$tr" -m 1 -timeout 10 -timeout_error \
    -nostdin -trace_err -error_file "$tmp/$sc-$tr.err" "$@" > "$tmp/$sc-$tr.out" 2>&1 \
    || { cat "$tmp/$sc-$tr.err" 2>/dev/null; fail "$sc over $tr"; }
}
sip options u1 -m 5
sip options t1 -m 5
sip malformed u1
sip unknown_method u1
sip unknown_method t1
# RFC 5626 3.5.1: a CRLFCRLF ping on a TCP connection is answered with a CRLF pong, and a request
# after it on the same connection is still answered.
python3 - "$port" <<'PY' || fail "keep-alive ping/pong over TCP"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"\r\n\r\n")
assert s.recv(16) == b"\r\n", "no pong"
s.sendall(b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKka\r\n"
          b"From: <sip:k@127.0.0.1>;tag=k\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: ka\r\nCSeq: 1 OPTIONS\r\n"
          b"Content-Length: 0\r\n\r\n")
data = b""
while b"\r\n\r\n" not in data:
    data += s.recv(4096)
assert data.startswith(b"SIP/2.0 200 OK"), data[:40]
PY
sip invite_retransmit u1 -nr  # -nr: sipp must not answer our 480 copies by resending itself

# Graceful stop: SIGTERM, exit status 0, and the counters show one transaction for the INVITE and its copy.
kill -TERM "$pid"
for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then fail "server still running 6 s after SIGTERM"; fi
wait "$pid" || fail "server exit status $? after SIGTERM"
pid=""
grep -q "signal 15: stopping" "$tmp/server.log" || fail "no graceful stop in the log"
# 1 malformed (stateless), 2x3 for 405/420/483 (the 420 is an OPTIONS with Require), INVITE + copy + ACK;
# the 5+5 OPTIONS and the one after the ping are answered without a transaction (RFC 3261 8.2.7).
grep -q "1 malformed, 1 retransmissions absorbed, 7 transactions" "$tmp/server.log" \
  || fail "unexpected counters: $(grep stopped "$tmp/server.log")"

# Four workers: a call belongs to the worker its first request reached (the call directory), so the
# requests of one sipp socket or TCP connection are never handed to another worker, and answers leave by
# the socket or connection they came in on. (Calls whose two sides reach different workers: proxy_test.)
"$bin" run --workers 4 --listen "udp:127.0.0.1:$port" --listen "tcp:127.0.0.1:$port" --data-dir "$tmp/var" \
  --shutdown-grace 2 --log-level info > "$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "sipwarden running with 4 workers" "$tmp/server.log" && break; sleep 0.1; done
grep -q "sipwarden running with 4 workers" "$tmp/server.log" || fail "server with 4 workers did not start"
sip options u1 -m 200 -r 400
sip options t1 -m 200 -r 400  # t1: one connection for every call
# Per call FROBNICATE (405), OPTIONS (420) and BYE (483), each a new Call-ID: all stay where they came.
sip unknown_method u1 -m 100 -r 400
sip unknown_method t1 -m 100 -r 400
kill -TERM "$pid"
wait "$pid" || fail "4-worker server exit status $?"
pid=""
handed=$(sed -n 's/.* \([0-9]*\) handed to another worker.*/\1/p' "$tmp/server.log")
[ "${handed:-x}" = 0 ] || fail "requests of one socket or connection were handed to another worker: '${handed}'"
grep -q "1000 requests, 0 malformed, 0 retransmissions absorbed, 600 transactions" "$tmp/server.log" \
  || fail "4 workers: unexpected counters: $(grep stopped "$tmp/server.log")"

# Answers kept for retransmissions have a memory budget (--answer-cache-mb): 6,000 CANCELs for nothing
# (481 each, a transaction each) from 60 sources fill 1 MB several times over. The oldest answers go
# early (counted and logged once), the newest still answer their retransmission from the cache, and an
# OPTIONS for the server, sent twice, gets two identical answers (the same To tag) without a transaction.
"$bin" run --workers 1 --answer-cache-mb 1 --listen "udp:127.0.0.1:$port" --data-dir "$tmp/var" \
  --shutdown-grace 1 --log-level info > "$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "sipwarden running" "$tmp/server.log" && break; sleep 0.1; done
grep -q "sipwarden running" "$tmp/server.log" || fail "server (answer cache) did not start"
python3 - "$port" <<'PY' || fail "answer cache"
import re, socket, sys, time
port = int(sys.argv[1])
def cancel(ip, sp, n):
    return (f"CANCEL sip:nobody@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {ip}:{sp};branch=z9hG4bKac{n};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=f{n}\r\nTo: <sip:nobody@127.0.0.1>\r\n"
            f"Call-ID: ac{n}\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n").encode()
socks = []
for i in range(60):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((f"127.0.9.{i + 1}", 0)); s.settimeout(5)
    socks.append(s)
sent = {}
for r in range(100):  # 100 per source: inside its burst of 400
    for i, s in enumerate(socks):
        n = r * 60 + i
        s.sendto(cancel(*s.getsockname(), n), ("127.0.0.1", port)); sent[n] = s
        data = s.recv(4096)
        assert data.startswith(b"SIP/2.0 481"), data[:40]
    time.sleep(0.02)
# The newest CANCEL again: a retransmission, answered from the cache.
last = 6000 - 1
sent[last].sendto(cancel(*sent[last].getsockname(), last), ("127.0.0.1", port))
assert sent[last].recv(4096).startswith(b"SIP/2.0 481")
o = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); o.bind(("127.0.9.100", 0)); o.settimeout(5)
ip, sp = o.getsockname()
ping = (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {ip}:{sp};branch=z9hG4bKping1\r\n"
        f"Max-Forwards: 70\r\nFrom: <sip:p@127.0.0.1>;tag=p\r\nTo: <sip:127.0.0.1>\r\nCall-ID: ping1\r\n"
        f"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode()
tags = []
for branch in (b"z9hG4bKping1", b"z9hG4bKping1", b"z9hG4bKping2"):
    o.sendto(ping.replace(b"z9hG4bKping1", branch), ("127.0.0.1", port))
    answer = o.recv(4096).decode()
    assert answer.startswith("SIP/2.0 200"), answer[:40]
    assert "Allow:" in answer and "Supported:" in answer, answer
    tags.append(re.search(r"^To:.*;tag=(\w+)", answer, re.M).group(1))
assert tags[0] == tags[1], tags  # the same request: the same answer
assert tags[0] != tags[2], tags  # another request: another tag
PY
kill -TERM "$pid"
wait "$pid" || fail "answer cache server exit status $?"
pid=""
grep -q "6004 requests, 0 malformed, 1 retransmissions absorbed, 6000 transactions" "$tmp/server.log" \
  || fail "answer cache: unexpected counters: $(grep stopped "$tmp/server.log")"
early=$(sed -n 's/.* \([0-9]*\) answers let go before Timer J.*/\1/p' "$tmp/server.log")
[ "${early:-0}" -gt 3000 ] || fail "answer cache: only '${early}' answers let go early with 1 MB for 6,000"
[ "$(grep -c "the oldest now go before Timer J" "$tmp/server.log")" = 1 ] \
  || fail "answer cache: the budget's warning is not logged exactly once"
echo "engine_test: all passed"
