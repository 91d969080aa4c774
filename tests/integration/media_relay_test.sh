#!/usr/bin/env bash
# The media relay's signalling side on the real server (issue 9), with sipua.py phones and plain UDP
# sockets as their media: every SDP a phone receives names the relay (a port in the configured range),
# not the other phone; RTP is relayed both ways; ICE candidates and a=rtcp do not cross; a re-INVITE
# (hold, with a new media port) keeps the relay's ports and moves the media; a call whose media stops
# is ended with a BYE to both phones after --media-timeout (CDR "media timeout"); a call to a busy user
# and one to a user who does not answer go on to their forwarding target (181, History-Info), the media
# still through the relay; every relay port is closed when the calls are over.
set -euo pipefail
bin=${SIPWARDEN:?}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; tail -30 "$tmp/server.log" 2>/dev/null; exit 1; }
udp_port() {
  python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
free_range() { python3 "$here/free_ports.py" range 40; }  # 40 free UDP ports from an even one
pw="Relay-Test-pw-5521"
data="$tmp/var"
for u in alice bob carol dave erin; do
  "$bin" user add "$u" --password-stdin --data-dir "$data" --domain example.test <<< "$pw" > /dev/null || fail "user add $u"
done
port=$(udp_port)
prov=$(udp_port)
# A provider that must have SRTP, reached over plain UDP: no call can go out through it (488, never
# silently downgraded and never with keys in clear).
"$bin" trunk add secure-prov --host "127.0.0.2:$prov" --srtp required --data-dir "$data" > /dev/null || fail "trunk add"
"$bin" trunk list --data-dir "$data" | grep -q "srtp=required" || fail "trunk list should show srtp=required"
"$bin" route add '0X.' --trunk secure-prov --data-dir "$data" > /dev/null || fail "route add"
# Forwarding of anchored calls: dave's on busy, erin's after 2 s of ringing, both to carol.
"$bin" forward set dave carol --busy --data-dir "$data" > /dev/null || fail "forward set dave"
"$bin" forward set erin carol --no-answer 2 --data-dir "$data" > /dev/null || fail "forward set erin"
lo=$(free_range)
hi=$((lo + 39))
"$bin" run --data-dir "$data" --domain example.test --listen "udp:127.0.0.1:$port" --workers 2 --shutdown-grace 1 \
  --anchor-media always --media-port-min "$lo" --media-port-max "$hi" --media-timeout 3 --log-level info \
  $([ -n "${SW_MEDIA_KERNEL:-}" ] && echo --media-kernel || echo --no-media-kernel) > "$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "sipwarden running" "$tmp/server.log" && break; sleep 0.1; done
if [ -n "${SW_MEDIA_KERNEL:-}" ]; then
  grep -q "media relay kernel path on" "$tmp/server.log" || {
    [ "${SW_REQUIRE_KERNEL_PATH:-}" = 1 ] && fail "kernel path refused: $(grep 'kernel path' "$tmp/server.log")"
    echo "note: $(grep 'kernel path' "$tmp/server.log" || echo 'no kernel path line'): user-space relay"
  }
fi
grep -q "sipwarden running" "$tmp/server.log" || fail "server did not start"

PORT=$port PW=$pw HERE=$here LO=$lo HI=$hi PROV=$prov python3 - <<'PY' || fail "see above"
import os, re, socket, sys, time
sys.path.insert(0, os.environ["HERE"])
from sipua import Callee, Phone, incoming, rand
LO, HI = int(os.environ["LO"]), int(os.environ["HI"])

def media_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(2)
    return s

def sdp(port, extra=""):
    return ("v=0\r\no=- 7 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtcp:%d\r\n"
            "a=candidate:1 1 UDP 2130706431 127.0.0.1 %d typ host\r\n%s" % (port, port + 1, port, extra))

def relay_port(body, who):
    m = re.search(r"^m=audio (\d+) ", body, re.M)
    assert m, "%s: no audio line in %r" % (who, body)
    p = int(m.group(1))
    assert LO <= p <= HI, "%s: SDP names port %d, not the relay's (%d-%d): %r" % (who, p, LO, HI, body)
    assert "c=IN IP4 127.0.0.1" in body, body
    assert "a=candidate" not in body and "a=rtcp:" not in body, "%s: ICE/rtcp lines crossed: %r" % (who, body)
    assert re.search(r"^o=sipwarden ", body, re.M), "%s: origin not rewritten: %r" % (who, body)
    return p

def rtp(seq, ssrc=0x1234):
    return bytes([0x80, 0]) + seq.to_bytes(2, "big") + (seq * 160).to_bytes(4, "big") + ssrc.to_bytes(4, "big") + bytes(range(160))

def expect(sock, packet, from_port, what):
    data, src = sock.recvfrom(2048)
    assert data == packet, "%s: payload changed" % what
    assert src == ("127.0.0.1", from_port), "%s: came from %s, not relay port %d" % (what, src, from_port)

a, b = Phone("alice"), Phone("bob")
a.register(replace=True); b.register(replace=True)
ma, mb = media_socket(), media_socket()
pa0, pb0 = ma.getsockname()[1], mb.getsockname()[1]

# ---- call 1: offer and answer through the relay, RTP both ways ----
c = a.call("bob", body=sdp(pa0))
inv = incoming(b)
rb = relay_port(inv.invite.body, "bob's INVITE")
inv.ring()
inv.answer(body=sdp(pb0))
ok = c.final()
assert ok.status == 200, ok.start
ra = relay_port(ok.body, "alice's 200")
assert ra != rb, "one relay port per side"
c.established(ok); c.ack(); b.request("ACK")
import time
for i in range(10):  # paced as a phone sends (20 ms): the kernel path, where on, takes over after the first
    ma.sendto(rtp(i), ("127.0.0.1", ra)); expect(mb, rtp(i), rb, "alice -> bob")
    mb.sendto(rtp(100 + i, 0x99), ("127.0.0.1", rb)); expect(ma, rtp(100 + i, 0x99), ra, "bob -> alice")
    time.sleep(0.02)
# RTCP on the odd ports
ma.sendto(b"\x81\xc8\x00\x06" + bytes(24), ("127.0.0.1", ra + 1))
print("ok: offer and answer name the relay (alice %d, bob %d), RTP relayed both ways" % (ra, rb))

# ---- re-INVITE: hold, from a new media port ----
ma2 = media_socket()
pa1 = ma2.getsockname()[1]
body = sdp(pa1, "a=sendonly\r\n").replace("o=- 7 1", "o=- 7 2")
c.cseq += 1
branch = "z9hG4bK" + rand()
lines = ["INVITE %s SIP/2.0" % c.remote, "Via: " + a.via(branch), "Max-Forwards: 70"]
lines += ["Route: " + r for r in c.route]
lines += ["From: <sip:alice@example.test>;tag=%s" % c.tag, "To: <%s>;tag=%s" % (c.uri, c.to_tag),
          "Call-ID: " + c.call_id, "CSeq: %d INVITE" % c.cseq, "Contact: <%s>" % a.contact,
          "Content-Type: application/sdp", "Content-Length: %d" % len(body)]
a.send("\r\n".join(lines) + "\r\n\r\n" + body, ("127.0.0.1", int(os.environ["PORT"])))
re_inv = b.request("INVITE", call_id=inv.invite.call_id)
assert relay_port(re_inv.body, "bob's re-INVITE") == rb, "the relay port of bob's side stays"
assert "a=sendonly" in re_inv.body, re_inv.body
b.reply(re_inv, 200, tag=inv.tag, body=sdp(pb0, "a=recvonly\r\n").replace("o=- 7 1", "o=- 7 2"))
ok2 = a.response(c.call_id, "INVITE", 200)
assert relay_port(ok2.body, "alice's re-INVITE 200") == ra, "the relay port of alice's side stays"
assert "a=recvonly" in ok2.body, ok2.body
c.in_dialog("ACK", cseq=c.cseq)
b.request("ACK", call_id=inv.invite.call_id)
for i in range(3):
    ma2.sendto(rtp(10 + i), ("127.0.0.1", ra)); expect(mb, rtp(10 + i), rb, "alice (new port) -> bob")
    mb.sendto(rtp(200 + i, 0x99), ("127.0.0.1", rb)); expect(ma2, rtp(200 + i, 0x99), ra, "bob -> alice's new port")
print("ok: re-INVITE (hold, new media port) keeps the relay ports; media follows alice to port %d" % pa1)
c.bye()
bye = b.request("BYE")
b.reply(bye, 200)
assert a.response(c.call_id, "BYE", "final").status == 200

# ---- call 2: nobody sends media: ended after --media-timeout ----
c2 = a.call("bob", body=sdp(pa0))
inv2 = incoming(b)
inv2.answer(body=sdp(pb0))
ok = c2.final()
assert ok.status == 200, ok.start
c2.established(ok); c2.ack(); b.request("ACK")
t0 = time.monotonic()
bye_a = a.request("BYE", timeout=8, call_id=c2.call_id)
a.reply(bye_a, 200)
bye_b = b.request("BYE", timeout=3, call_id=inv2.invite.call_id)
b.reply(bye_b, 200)
waited = time.monotonic() - t0
assert 2.5 <= waited <= 6, "the call should end about 3 s after its media stopped, not after %.1f s" % waited
print("ok: a call without media ended after %.1f s: BYE to both phones" % waited)

# ---- a call cancelled while ringing: its relay ports are closed too ----
c4 = a.call("bob", body=sdp(pa0))
inv4 = incoming(b)
relay_port(inv4.invite.body, "bob's INVITE (to be cancelled)")
inv4.ring()
a.response(c4.call_id, "INVITE", 180)
assert c4.cancel().status == 200
cancel = b.request("CANCEL", call_id=inv4.invite.call_id)
b.reply(cancel, 200)
b.reply(inv4.invite, 487, tag=inv4.tag)
b.request("ACK", call_id=inv4.invite.call_id)
r = c4.final()
assert r.status == 487, r.start
c4.ack_non2xx(r)
print("ok: a cancelled call (487)")

# ---- forwarding of anchored calls: on busy and on no answer, to carol, the media through the relay ----
cp, d, e = Phone("carol"), Phone("dave"), Phone("erin")
for ph in (cp, d, e):
    ph.register(replace=True)
mc = media_socket()
pc0 = mc.getsockname()[1]

def forwarded_to_carol(call, who, kind):
    r = a.response(call.call_id, "INVITE", 181)
    info = r.first("Call-Info") or ""
    assert "sip:carol@" in info and "purpose=forwarding" in info and ("forwarded-by=\"sip:%s@" % who) in info, r.raw
    assert "reason=" + kind in info, info
    inv = incoming(cp)
    rc = relay_port(inv.invite.body, "carol's forwarded INVITE")
    hist = inv.invite.first("History-Info") or ""
    assert "sip:%s@" % who in hist and "sip:carol@" in hist, "History-Info: %r" % hist
    assert ("reason=" + kind) in (inv.invite.first("Diversion") or ""), inv.invite.raw
    inv.ring()
    inv.answer(body=sdp(pc0))
    ok = call.final()
    assert ok.status == 200, ok.start
    ra = relay_port(ok.body, "alice's 200 from carol")
    call.established(ok); call.ack(); cp.request("ACK")
    for i in range(3):
        ma.sendto(rtp(300 + i), ("127.0.0.1", ra)); expect(mc, rtp(300 + i), rc, "alice -> carol")
        mc.sendto(rtp(400 + i, 0x77), ("127.0.0.1", rc)); expect(ma, rtp(400 + i, 0x77), ra, "carol -> alice")
    call.bye()
    bye = cp.request("BYE")
    cp.reply(bye, 200)
    assert a.response(call.call_id, "BYE", "final").status == 200

c5 = a.call("dave", body=sdp(pa0))
inv5 = incoming(d)
relay_port(inv5.invite.body, "dave's INVITE")
inv5.answer(status=486)
d.request("ACK", call_id=inv5.invite.call_id)
forwarded_to_carol(c5, "dave", "user-busy")
print("ok: an anchored call to a busy user went on to carol (181, History-Info, Diversion), media relayed")

c6 = a.call("erin", body=sdp(pa0))
inv6 = incoming(e)
inv6.ring()
a.response(c6.call_id, "INVITE", 180)
t0 = time.monotonic()
cancel = e.request("CANCEL", timeout=5, call_id=inv6.invite.call_id)
rang = time.monotonic() - t0
assert 1.5 <= rang <= 3.5, "erin should ring 2 s before the call is forwarded, not %.1f s" % rang
e.reply(cancel, 200)
e.reply(inv6.invite, 487, tag=inv6.tag)
e.request("ACK", call_id=inv6.invite.call_id)
forwarded_to_carol(c6, "erin", "no-answer")
print("ok: an anchored call erin did not answer in 2 s (%.1f s) went on to carol, media relayed" % rang)

# Busy without a rule (bob has none): the caller hears the 486 itself.
c7 = a.call("bob", body=sdp(pa0))
inv7 = incoming(b)
inv7.answer(status=486)
b.request("ACK", call_id=inv7.invite.call_id)
r = c7.final()
assert r.status == 486, r.start
c7.ack_non2xx(r)
print("ok: busy without a forwarding rule: 486 to the caller")

# ---- a trunk with SRTP required over plain UDP: 488 with a Reason, nothing sent to the provider ----
prov = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
prov.bind(("127.0.0.2", int(os.environ["PROV"])))
prov.settimeout(1)
c3 = a.call("0301234567", body=sdp(pa0))
r = c3.final()
assert r.status == 488, r.start
assert "SRTP required for trunk secure-prov" in (r.first("Reason") or ""), r.raw
c3.ack_non2xx(r)
try:
    data, _ = prov.recvfrom(4096)
    raise AssertionError("the provider got something: %r" % data[:80])
except socket.timeout:
    pass
print("ok: a call out through a trunk with SRTP required over UDP: %s, Reason %s" % (r.start, r.first("Reason")))
PY
echo "ok: relay signalling, re-INVITE and media timeout"
sleep 1.5
"$bin" cdr --data-dir "$data" --csv > "$tmp/cdr.csv" || fail "cdr"
grep -q "media timeout" "$tmp/cdr.csv" || fail "the call record should say media timeout: $(cat "$tmp/cdr.csv")"
grep -q "caller hung up" "$tmp/cdr.csv" || fail "the first call's record should say caller hung up: $(cat "$tmp/cdr.csv")"
n=1
for _ in $(seq 40); do
  n=$(python3 "$here/udp_sockets.py" "$pid" "$lo" "$hi")
  [ "$n" -eq 0 ] && break
  sleep 0.1
done
[ "$n" -eq 0 ] || fail "$n relay ports still open after the calls"
echo "ok: call records (media timeout), every relay port closed"
kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?; pid=""
[ $rc -eq 0 ] || fail "server exit status $rc"
if [ -z "${SW_MEDIA_KERNEL:-}" ] && grep -q "kernel path" "$tmp/server.log"; then
  fail "--no-media-kernel still used the kernel path: $(grep 'kernel path' "$tmp/server.log")"
fi
if grep -q "media relay kernel path on" "$tmp/server.log"; then
  k=$(sed -n 's/.*media relay: \([0-9]*\) packets relayed in the kernel.*/\1/p' "$tmp/server.log")
  [ "${k:-0}" -gt 0 ] || fail "the kernel path relayed nothing: $(grep 'in the kernel' "$tmp/server.log")"
  echo "ok: $k packets relayed in the kernel"
fi
echo "media_relay_test: all passed"
