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
fail() { echo "FAIL: $*"; echo "--- server log"; tail -${LOGLINES:-50} "$tmp/server.log" 2>/dev/null || true; exit 1; }

data="$tmp/var"
pw="Proxy-Test-pass-7731"
for u in alice bob carol dave erin 201 202 203 204; do
  "$bin" user add "$u" --name "User ${u^}" --password-stdin --data-dir "$data" --domain example.test <<< "$pw" > /dev/null ||
    fail "user add $u"
done
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" run --data-dir "$data" --domain example.test --listen "udp:127.0.0.1:$port" --workers 2 --timer-c 2 \
  --shutdown-grace 1 --log-level info ${SIPTRACE:-} >> "$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "sipwarden running" "$tmp/server.log" && break; sleep 0.1; done
grep -q "sipwarden running" "$tmp/server.log" || fail "server did not start"
export PORT=$port PW=$pw DOMAIN=example.test PYTHONPATH=$here PYTHONDONTWRITEBYTECODE=1 SW=$bin DATA=$data

run() {  # name: runs the python on stdin
  local name=$1
  python3 - || fail "$name (see above)"
  echo "ok: $name"
}

run "basic call: 407, Record-Route, PAI, 180/200 upstream, ACK and BYE along the route set" <<'PY'
from sipua import *
alice, bob = Phone("alice"), Phone("bob")
alice.register(True); bob.register(True)
c = alice.call("bob")
inv = incoming(bob)
i = inv.invite
rr = i.values("Record-Route")
assert len(rr) == 1 and re.fullmatch(r"<sip:127\.0\.0\.1:%d;lr;sw=[0-9a-f]{16}>" % PORT, rr[0]), \
    "Record-Route at the callee: %s" % rr
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
assert c.route == rr, c.route
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

run "100 Trying (RFC 3261 17.2.1): none when the callee rings at once, one after T1/5 when it is slow" <<'PY'
from sipua import *
alice, bob = Phone("alice"), Phone("bob")
alice.register(True); bob.register(True)
# The callee rings as soon as the INVITE reaches it: the 180 is the first answer, no 100 before it.
c = alice.call("bob")
inv = incoming(bob)
inv.ring()
r = alice.response(c.call_id, "INVITE")
assert r.status == 180, "first answer to the caller: %s (expected the 180, no 100 of the proxy's)" % r.start
inv.answer(486)
r = c.final()
assert r.status == 486, r.start
c.ack_non2xx(r)
assert not [m for m in alice.inbox if m.status == 100 and m.call_id == c.call_id], \
    "a 100 came after the 180: %s" % [m.start for m in alice.inbox]
# A callee that takes its time: the proxy's own 100 comes after about 100 ms (T1 = 500 ms), before
# the caller would resend the INVITE at T1, and only once.
c = alice.call("bob")
t0 = time.monotonic()
inv = incoming(bob)
r = alice.response(c.call_id, "INVITE", 100, timeout=1.0)
took = time.monotonic() - t0
assert 0.05 <= took <= 0.45, "the 100 came after %.3f s" % took
alice.quiet(0.5, lambda m: m.status == 100 and m.call_id == c.call_id)
inv.ring()
assert alice.response(c.call_id, "INVITE").status == 180
inv.answer(486)
r = c.final()
c.ack_non2xx(r)
PY

run "no relay for forged in-dialog requests: our Route without the dialog's token gets 403" <<'PY'
from sipua import *
mallory, victim = Phone("mallory"), Phone("victim")
for route in ("<sip:127.0.0.1:%d;lr>" % PORT, "<sip:127.0.0.1:%d;lr;sw=0123456789abcdef>" % PORT):
    c = Call(mallory, "sip:victim@127.0.0.1:%d" % victim.port)
    c.to_tag, c.remote, c.route = "x1", "sip:victim@127.0.0.1:%d" % victim.port, [route]
    c.bye()
    r = mallory.response(c.call_id, "BYE", "final")
    assert r.status == 403, "a forged BYE via %s answered %s" % (route, r.start)
victim.quiet(0.3)
PY
grep -q "BYE sip:victim@127.0.0.1:[0-9]* from 127.0.0.1 (From sip:mallory@example.test): 403 Forbidden (not a dialog" \
  "$tmp/server.log" || fail "the refused relay attempt should be logged"

run "busy: 486 goes upstream, the proxy ACKs the callee hop by hop" <<'PY'
from sipua import *
bob, carol = Phone("bob"), Phone("carol")
bob.register(True); carol.register(True)
c = bob.call("carol")
inv = incoming(carol)
assert not inv.invite.first("Proxy-Authorization"), "the caller's credentials reached the callee"
inv.answer(486)
r = c.final()
assert r.status == 486, r.start
c.ack_non2xx(r)
ack = carol.request("ACK", call_id=c.call_id)
assert ack.first("CSeq").startswith(inv.invite.first("CSeq").split()[0]), ack
bob.quiet(0.5, lambda m: m.status is not None and m.status >= 200 and m.cseq_method == "INVITE")
PY

run "an ACK for the 486 with a branch of its own still stops the 486's retransmissions" <<'PY'
from sipua import *
bob, carol = Phone("bob"), Phone("carol")
bob.register(True); carol.register(True)
c = bob.call("carol")
incoming(carol).answer(486)
r = c.final()
assert r.status == 486
carol.request("ACK", call_id=c.call_id)
c.branch = "z9hG4bK" + rand()   # like sipp's scenarios: not the INVITE's branch
c.ack_non2xx(r)
bob.quiet(2.0, lambda m: m.status == 486)  # Timer G would resend it after 0.5 s and 1.5 s
PY

run "CANCEL while ringing: 200 for the CANCEL, the callee is cancelled, 487 upstream at once even with a dead contact" <<'PY'
from sipua import *
alice, bob, dead = Phone("alice"), Phone("bob"), Phone("bob", contact_user="bob-dead")
alice.register(True); bob.register(True); dead.register()
dead.close()  # a phone that registered and went away: its branch never answers
c = alice.call("bob")
inv = incoming(bob)
inv.ring()
alice.response(c.call_id, "INVITE", 180)
r = c.cancel()
assert r.status == 200, "CANCEL answered %s" % r.start
can = bob.request("CANCEL", call_id=c.call_id)
assert can.first("Via").split(";branch=")[1].split(";")[0] == inv.invite.first("Via").split(";branch=")[1].split(";")[0], \
    "the CANCEL must carry the INVITE branch's Via"
bob.reply(can, 200)
t0 = time.monotonic()
inv.answer(487)
r = c.final()
assert r.status == 487, r.start
assert time.monotonic() - t0 < 1, "the 487 waited for the dead branch"
c.ack_non2xx(r)
PY

run "parallel forking: both contacts ring, the first 200 wins, the other is cancelled" <<'PY'
from sipua import *
alice, d1, d2 = Phone("alice"), Phone("dave", contact_user="dave-desk"), Phone("dave", contact_user="dave-mobile")
alice.register(True); d1.register(True); d2.register()
c = alice.call("dave")
i1, i2 = incoming(d1), incoming(d2)
b1 = i1.invite.first("Via").split(";branch=")[1].split(";")[0]
b2 = i2.invite.first("Via").split(";branch=")[1].split(";")[0]
assert b1 != b2, "two branches must have two branch ids"
i1.ring(); i2.ring()
alice.response(c.call_id, "INVITE", 180); alice.response(c.call_id, "INVITE", 180)
i2.answer(200)
ok = c.final()
assert ok.status == 200 and ok.to_tag() == i2.tag, "the mobile's 200 should win:\n%s" % ok
can = d1.request("CANCEL", call_id=c.call_id)
d1.reply(can, 200)
i1.answer(487)
ack = d1.request("ACK", call_id=c.call_id)  # hop-by-hop ACK of the 487
alice.quiet(0.5, lambda m: m.status == 487)
c.established(ok); c.ack()
d2.request("ACK", call_id=c.call_id)
PY

run "a 6xx ends every branch: the other is cancelled, 603 upstream" <<'PY'
from sipua import *
alice, d1, d2 = Phone("alice"), Phone("dave", contact_user="dave-desk"), Phone("dave", contact_user="dave-mobile")
alice.register(True); d1.register(True); d2.register()
c = alice.call("dave")
i1, i2 = incoming(d1), incoming(d2)
i1.ring(); i2.ring()
i1.answer(603)
d1.request("ACK", call_id=c.call_id)
can = d2.request("CANCEL", call_id=c.call_id)
d2.reply(can, 200)
i2.answer(487)
r = c.final()
assert r.status == 603, "expected 603 upstream, got %s" % r.start
PY

run "Timer C: a branch ringing without an answer is cancelled (--timer-c 2), 408 upstream" <<'PY'
from sipua import *
alice, bob = Phone("alice"), Phone("bob")
alice.register(True); bob.register(True)
c = alice.call("bob")
inv = incoming(bob)
inv.ring()
t0 = time.monotonic()
can = bob.request("CANCEL", timeout=5, call_id=c.call_id)
waited = time.monotonic() - t0
assert 1.5 < waited < 4, "Timer C fired after %.1f s, expected about 2" % waited
bob.reply(can, 200)
inv.answer(487)
r = c.final()
assert r.status == 408, "an unanswered call should end with 408, got %s" % r.start
PY

run "480 for a user without bindings, 404 for a missing one (after auth), 403 for a foreign domain or a forged From" <<'PY'
from sipua import *
alice = Phone("alice")
alice.register()
assert alice.call("erin").final().status == 480
r = alice.call("nobody").final()
assert r.status == 404, r.start
assert alice.call("sip:bob@elsewhere.example").final().status == 403, "open relay!"
r = alice.call("bob", from_user="carol").final()
assert r.status == 403, "a From naming another user must be refused, got %s" % r.start
PY

run "unauthenticated callers learn nothing: the same 407 for a real and an unknown callee or caller" <<'PY'
from sipua import *
def shape(r):
    return [(n, re.sub(r'nonce="[^"]*"', 'nonce=""', v)) for n, v in r.headers if n not in ("Via", "From", "To", "Call-ID", "CSeq")]
x = Phone("alice")
a = x.call("bob", authenticate=False).final()
b = x.call("nobody", authenticate=False).final()
ghost = Phone("ghost")
g = ghost.call("bob", authenticate=False).final()
assert a.status == b.status == g.status == 407, (a.start, b.start, g.start)
assert shape(a) == shape(b) == shape(g), "407s differ:\n%s\n%s\n%s" % (a, b, g)
w = Phone("alice", password="Wrong-Password-123")
r = w.call("bob", authenticate=True)
f = r.final()
assert f.status == 407, "a wrong password must be challenged again, got %s" % f.start
PY

run "MESSAGE is routed like INVITE (no Record-Route); 480 for an offline user" <<'PY'
from sipua import *
alice, bob = Phone("alice"), Phone("bob")
alice.register(True); bob.register(True)
m = alice.call("bob", method="MESSAGE", body="hello bob")
req = bob.request("MESSAGE", call_id=m.call_id)
assert req.body == "hello bob" and not req.values("Record-Route"), req
bob.reply(req, 200)
assert m.final().status == 200
assert alice.call("erin", method="MESSAGE", body="anyone?").final().status == 480
PY

run "OPTIONS to a user is routed like INVITE (authenticated, to the phone)" <<'PY'
from sipua import *
alice, bob = Phone("alice"), Phone("bob")
alice.register(True); bob.register(True)
o = alice.call("bob", method="OPTIONS", body="")
req = bob.request("OPTIONS", call_id=o.call_id)
bob.reply(req, 200, extra=["Allow: INVITE, ACK, BYE"])
r = o.final()
assert r.status == 200 and r.first("Allow") == "INVITE, ACK, BYE", "the phone's own answer should come back:\n%s" % r
PY

run "Max-Forwards 0 gets 483; OPTIONS to the server itself still 200" <<'PY'
from sipua import *
p = Phone("alice")
text = p.build("INVITE", "sip:bob@example.test", "mf0@x", "1", "<sip:bob@example.test>", 1, body=SDP).replace("Max-Forwards: 70", "Max-Forwards: 0")
p.send(text)
assert p.response("mf0@x", "INVITE", "final").status == 483
p.send(p.build("OPTIONS", "sip:127.0.0.1:%d" % PORT, "opt@x", "1", "<sip:127.0.0.1>", 1))
assert p.response("opt@x", "OPTIONS", "final").status == 200
PY

cat > "$tmp/fwd.py" <<'PY'
import os, subprocess, time
def forward(*args):
    subprocess.run([os.environ["SW"], "forward"] + list(args) + ["--data-dir", os.environ["DATA"]], check=True,
                   capture_output=True)
def settle():
    time.sleep(1.0)  # a change made with the command line reaches the running server within a second
def call_info(r):
    return r.first("Call-Info")
PY
export PYTHONPATH="$here:$tmp"

run "forwarding always, in a chain: one 181 per hop with Call-Info, History-Info and Diversion at the final callee" <<'PY'
from sipua import *
from fwd import *
forward("set", "201", "--always", "202"); forward("set", "202", "--always", "203")
settle()
alice, p203 = Phone("alice"), Phone("203")
alice.register(True); p203.register(True)
c = alice.call("201")
f1 = alice.response(c.call_id, "INVITE", 181)
f2 = alice.response(c.call_id, "INVITE", 181)
assert f1.reason == "Call Is Being Forwarded", f1.start
assert call_info(f1) == '<sip:202@example.test>;purpose=forwarding;forwarded-by="sip:201@example.test";reason=unconditional', call_info(f1)
assert call_info(f2).startswith('<sip:203@example.test>;purpose=forwarding;forwarded-by="sip:202@example.test"'), call_info(f2)
inv = incoming(p203)
i = inv.invite
assert i.first("History-Info") == ("<sip:201@example.test>;index=1, <sip:202@example.test;cause=302>;index=1.1;mp=1, "
                                   "<sip:203@example.test;cause=302>;index=1.1.1;mp=1.1"), i.first("History-Info")
assert i.first("Diversion") == ("<sip:202@example.test>;reason=unconditional;counter=1, "
                                "<sip:201@example.test>;reason=unconditional;counter=1"), i.first("Diversion")
assert uri_of(i.first("To")) == "sip:201@example.test", "the To stays the number dialled: %s" % i.first("To")
inv.answer(200)
ok = c.final()
assert ok.status == 200 and ok.to_tag() == inv.tag, ok.start
c.established(ok); c.ack(); p203.request("ACK", call_id=c.call_id)
forward("clear", "201"); forward("clear", "202")
PY

run "forwarding on busy: 486 from the callee becomes a 181 and a call to the target" <<'PY'
from sipua import *
from fwd import *
forward("set", "202", "--busy", "204")
settle()
alice, p202, p204 = Phone("alice"), Phone("202"), Phone("204")
alice.register(True); p202.register(True); p204.register(True)
c = alice.call("202")
busy = incoming(p202)
busy.answer(486)
p202.request("ACK", call_id=c.call_id)
f = alice.response(c.call_id, "INVITE", 181)
assert "reason=user-busy" in call_info(f), call_info(f)
inv = incoming(p204)
assert "cause=486" in inv.invite.first("History-Info"), inv.invite.first("History-Info")
inv.ring(); alice.response(c.call_id, "INVITE", 180)
inv.answer(200)
assert c.final().status == 200
alice.quiet(0.3, lambda m: m.status == 486)
forward("clear", "202")
PY

run "forwarding on no answer: after N seconds the ringing phone is cancelled and the target rings" <<'PY'
from sipua import *
from fwd import *
forward("set", "203", "--no-answer", "1", "204")
settle()
alice, p203, p204 = Phone("alice"), Phone("203"), Phone("204")
alice.register(True); p203.register(True); p204.register(True)
c = alice.call("203")
ringing = incoming(p203)
ringing.ring()
t0 = time.monotonic()
can = p203.request("CANCEL", timeout=4, call_id=c.call_id)
assert 0.7 < time.monotonic() - t0 < 2.5, "no-answer fired after %.1f s" % (time.monotonic() - t0)
p203.reply(can, 200); ringing.answer(487)
f = alice.response(c.call_id, "INVITE", 181)
assert "reason=no-answer" in call_info(f), call_info(f)
inv = incoming(p204)
inv.answer(200)
r = c.final()
assert r.status == 200, "expected the target's 200, got %s" % r.start
forward("clear", "203")
PY

run "forwarding when unavailable: a user with no binding is forwarded at once" <<'PY'
from sipua import *
from fwd import *
forward("set", "201", "--unavailable", "204")
settle()
alice, p204 = Phone("alice"), Phone("204")
alice.register(True); p204.register(True)
c = alice.call("201")
f = alice.response(c.call_id, "INVITE", 181)
assert "reason=unavailable" in call_info(f), call_info(f)
inv = incoming(p204)
inv.answer(486)
r = c.final()
assert r.status == 486, r.start
forward("clear", "201")
PY

run "forwarding when unavailable: a registered phone answering 480 is forwarded too" <<'PY'
from sipua import *
from fwd import *
forward("set", "202", "--unavailable", "204")
settle()
alice, p202, p204 = Phone("alice"), Phone("202"), Phone("204")
alice.register(True); p202.register(True); p204.register(True)
c = alice.call("202")
incoming(p202).answer(480)
f = alice.response(c.call_id, "INVITE", 181)
assert "reason=unavailable" in call_info(f), call_info(f)
incoming(p204).answer(200)
assert c.final().status == 200
forward("clear", "202")
PY

run "aliases: a call to an alias reaches its user, who may present it in From; nobody else may" <<'PY'
import subprocess
from sipua import *
from fwd import *
def sw(*args):
    return subprocess.run([os.environ["SW"]] + list(args) + ["--data-dir", os.environ["DATA"]], capture_output=True, text=True)
assert sw("user", "alias", "201", "sales").returncode == 0
r = sw("user", "alias", "nobody", "x1")
assert r.returncode == 1 and "no such user" in r.stderr, r.stderr
r = sw("user", "alias", "201", "bob")
assert r.returncode == 1 and "name of a user" in r.stderr, r.stderr
r = subprocess.run([os.environ["SW"], "user", "add", "sales", "--data-dir", os.environ["DATA"]], capture_output=True, text=True)
assert r.returncode == 1 and "alias of 201" in r.stderr, r.stderr
assert "sales  201" in sw("user", "aliases").stdout
settle()
alice, p201, p202, bob = Phone("alice"), Phone("201"), Phone("202"), Phone("bob")
alice.register(True); p201.register(True); p202.register(True); bob.register(True)
c = alice.call("sales")
inv = incoming(p201)
inv.answer(200)
assert c.final().status == 200
m = p201.call("bob", method="MESSAGE", body="from the sales line", from_user="sales")
req = bob.request("MESSAGE", call_id=m.call_id)
assert uri_of(req.first("From")) == "sip:sales@example.test", req.first("From")
assert req.first("P-Asserted-Identity").endswith("<sip:201@example.test>"), req.first("P-Asserted-Identity")
bob.reply(req, 200)
assert m.final().status == 200
r = p202.call("bob", method="MESSAGE", body="pretending", from_user="sales").final()
assert r.status == 403, "202 presenting 201's alias must be refused, got %s" % r.start
assert sw("user", "unalias", "sales").returncode == 0
settle()
assert alice.call("sales").final().status == 404
p201._register("*", 0)  # 201 is offline again for the tests after this one
PY

run "a forwarding loop ends with 482, not a storm" <<'PY'
from sipua import *
from fwd import *
forward("set", "201", "--always", "202"); forward("set", "202", "--always", "201")
settle()
alice = Phone("alice")
alice.register(True)
c = alice.call("201")
r = c.final()
assert r.status == 482 and "forwarding" in r.reason, r.start
alice.quiet(0.5, lambda m: m.method == "INVITE")
forward("clear", "201"); forward("clear", "202")
settle()
r = alice.call("201").final()
assert r.status == 480, "after clearing, 201 (offline) should be 480, got %s" % r.start
PY

run "two workers: calls from many sockets; a CANCEL from another socket, the callee's BYE, the call records" <<'PY'
# Each phone is a new socket, so its messages reach either worker (SO_REUSEPORT hashes the source);
# a call belongs to the worker its first INVITE reached, and what reaches the other one (the callee's
# answers and BYE, a CANCEL sent from another port) must be handed to it: else 481, or no record.
from sipua import *
import subprocess
calls = 16
for i in range(calls):
    caller, callee = Phone("erin"), Phone("204")
    callee.register(True)
    c = caller.call("204")
    inv = incoming(callee)
    inv.ring()
    caller.response(c.call_id, "INVITE", 180)
    if i % 2 == 0:
        other = Phone("erin")  # the caller's CANCEL, from a port of its own
        cancel = ["CANCEL %s SIP/2.0" % c.uri, "Via: " + caller.via(c.branch), "Max-Forwards: 70",
                  "From: <sip:erin@%s>;tag=%s" % (DOMAIN, c.tag), "To: <%s>" % c.uri, "Call-ID: " + c.call_id,
                  "CSeq: %d CANCEL" % c.cseq, "Content-Length: 0"]
        other.send("\r\n".join(cancel) + "\r\n\r\n")
        r = other.response(c.call_id, "CANCEL", "final")
        assert r.status == 200, "call %d: CANCEL from another socket answered %s" % (i, r.start)
        callee.reply(callee.request("CANCEL", call_id=c.call_id), 200)
        inv.answer(487)
        r = c.final()
        assert r.status == 487, "call %d: %s" % (i, r.start)
        c.ack_non2xx(r)
        other.close()
    else:
        inv.answer(200)
        ok = c.final()
        assert ok.status == 200, ok.start
        c.established(ok)
        c.ack()
        callee.request("ACK", call_id=c.call_id)
        # The callee hangs up: its BYE comes in on its own socket.
        callee_dialog = Call(callee, "erin")
        callee_dialog.call_id, callee_dialog.tag, callee_dialog.to_tag = c.call_id, inv.tag, c.tag
        callee_dialog.uri = "sip:erin@" + DOMAIN
        callee_dialog.from_user = "204"
        callee_dialog.remote = uri_of(inv.invite.first("Contact"))
        callee_dialog.route = inv.invite.values("Record-Route")
        callee_dialog.cseq = 1
        callee_dialog.bye()
        bye = caller.request("BYE", call_id=c.call_id)
        caller.reply(bye, 200)
        r = callee.response(c.call_id, "BYE", "final")
        assert r.status == 200, "call %d: the callee's BYE answered %s" % (i, r.start)
    caller.close(); callee.close()
time.sleep(1.5)  # the call records are written within 50 ms of the last event, the worker's ones too
out = subprocess.run([os.environ["SW"], "cdr", "--user", "erin", "--csv", "--data-dir", os.environ["DATA"]],
                     capture_output=True, text=True, check=True).stdout
assert out.count("callee hung up") == calls // 2, out
assert out.count("cancelled") == calls // 2, out
PY

kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?; pid=""
[ $rc -eq 0 ] || fail "exit status $rc after SIGTERM"

# --- serial forking (--serial-forking): contacts one at a time, highest q first.
"$bin" run --data-dir "$data" --domain example.test --listen "udp:127.0.0.1:$port" --workers 1 --serial-forking \
  --shutdown-grace 1 --log-level info >> "$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do [ "$(grep -c "sipwarden running" "$tmp/server.log")" -ge 2 ] && break; sleep 0.1; done
run "serial forking: the q=1.0 contact first; its 486 makes the q=0.5 contact ring; the first never sees a second INVITE" <<'PY'
from sipua import *
alice, hi, lo = Phone("alice"), Phone("dave", contact_user="dave-hi"), Phone("dave", contact_user="dave-lo")
alice.register(True); hi.register(True, q="1.0"); lo.register(q="0.5")
c = alice.call("dave")
first = incoming(hi)
lo.quiet(0.5, lambda m: m.method == "INVITE")
first.answer(486)
hi.request("ACK", call_id=c.call_id)
second = incoming(lo)
second.answer(200)
assert c.final().status == 200
PY
kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?; pid=""
[ $rc -eq 0 ] || fail "exit status $rc after SIGTERM"

# --- four workers: the callee's answers are steered by the kernel to the worker that owns the call (its
# mark in our Via branch, transport/steering.hpp), so a call in which only the caller sends requests is
# never handed between workers, though each callee socket hashes to any of the four.
"$bin" run --data-dir "$data" --domain example.test --listen "udp:127.0.0.1:$port" --workers 4 \
  --shutdown-grace 1 --log-level info >> "$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do [ "$(grep -c "sipwarden running" "$tmp/server.log")" -ge 3 ] && break; sleep 0.1; done
run "four workers: 12 calls from new sockets, answered from new sockets, none handed to another worker" <<'PY'
from sipua import *
for i in range(12):
    caller, callee = Phone("erin"), Phone("204")
    callee.register(True)
    c = caller.call("204")
    inv = incoming(callee)
    inv.ring()
    assert caller.response(c.call_id, "INVITE", 180).status == 180
    inv.answer(200)
    ok = c.final()
    assert ok.status == 200, ok.start
    c.established(ok)
    c.ack()
    callee.request("ACK", call_id=c.call_id)
    c.bye()
    callee.reply(callee.request("BYE", call_id=c.call_id), 200)
    assert caller.response(c.call_id, "BYE", "final").status == 200
    caller.close(); callee.close()
PY
kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?; pid=""
[ $rc -eq 0 ] || fail "exit status $rc after SIGTERM"
grep -q "UDP responses are not steered" "$tmp/server.log" && fail "steering refused: $(grep 'not steered' "$tmp/server.log")"
handed=$(grep "handed to another worker" "$tmp/server.log" | tail -n 1 | sed -n 's/.* \([0-9]*\) handed to another worker.*/\1/p')
[ "${handed:-x}" = 0 ] || fail "four workers: ${handed:-?} messages handed to another worker (the answers were not steered)"
echo "ok: four workers, no message handed over"
echo "proxy_test: all passed"
