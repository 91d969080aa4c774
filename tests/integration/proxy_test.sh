#!/usr/bin/env bash
# The stateful proxy on the real server, driven by phones made of plain UDP sockets (sipua.py) that
# register with digest auth: 407 for calls, a basic call with Record-Route and the route set (ACK and
# BYE through the proxy), busy, CANCEL while ringing, parallel forking where the first answer wins and
# the other branch is cancelled, 6xx ending every branch, Timer C cancelling an unanswered call, 480 /
# 404 / 403 (no open relay, From must be the caller), MESSAGE, Max-Forwards and the same 407 for an
# unknown caller as for a known one.
set -euo pipefail
bin=${SIPWARDEN:?}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; { wait "$pid"; } 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- server log"; tail -50 "$tmp/server.log" 2>/dev/null || true; exit 1; }

data="$tmp/var"
pw="Proxy-Test-pass-7731"
for u in alice bob carol dave erin; do
  "$bin" user add "$u" --name "User ${u^}" --password-stdin --data-dir "$data" --domain example.test <<< "$pw" > /dev/null ||
    fail "user add $u"
done
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" run --data-dir "$data" --domain example.test --listen "udp:127.0.0.1:$port" --workers 2 --timer-c 2 \
  --shutdown-grace 1 --log-level info >> "$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "sipwarden running" "$tmp/server.log" && break; sleep 0.1; done
grep -q "sipwarden running" "$tmp/server.log" || fail "server did not start"
export PORT=$port PW=$pw DOMAIN=example.test PYTHONPATH=$here PYTHONDONTWRITEBYTECODE=1

run() {  # name: runs the python on stdin
  local name=$1
  python3 - || fail "$name (see above)"
  echo "ok: $name"
}

run "basic call: 407, Record-Route, PAI, 180/200 upstream, ACK and BYE along the route set" <<'PY'
from sipua import *
alice, bob = Phone("alice"), Phone("bob")
alice.register(); bob.register()
c = alice.call("bob")
inv = incoming(bob)
i = inv.invite
rr = i.values("Record-Route")
assert rr == ["<sip:127.0.0.1:%d;lr>" % PORT], "Record-Route at the callee: %s" % rr
assert i.uri == bob.contact, "Request-URI should be bob's contact, is %s" % i.uri
assert i.first("P-Asserted-Identity") == '"User Alice" <sip:alice@example.test>', i.first("P-Asserted-Identity")
vias = i.values("Via")
assert len(vias) == 2 and vias[0].startswith("SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK" % PORT), vias
assert i.first("Max-Forwards") == "69", i.first("Max-Forwards")
inv.ring()
r = alice.response(c.call_id, "INVITE", 180)
assert len(r.values("Via")) == 1, "the 180 still carries the proxy's Via:\n%s" % r
inv.answer(200)
ok = c.final()
assert ok.status == 200, ok.start
c.established(ok)
assert c.route == ["<sip:127.0.0.1:%d;lr>" % PORT], c.route
c.ack()
ack = bob.request("ACK", call_id=c.call_id)
assert ack.uri == bob.contact and not ack.values("Route"), "ACK at the callee:\n%s" % ack
c.bye()
bye = bob.request("BYE", call_id=c.call_id)
assert bye.uri == bob.contact and len(bye.values("Via")) == 2, "BYE at the callee:\n%s" % bye
bob.reply(bye, 200)
r = alice.response(c.call_id, "BYE", "final")
assert r.status == 200, r.start
PY
