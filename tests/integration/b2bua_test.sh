#!/usr/bin/env bash
# The B2BUA on the real server: phones (sipua.py, plain UDP sockets on 127.0.0.1) call out through trunks
# whose providers are plain sockets on 127.0.0.2-6, and providers call in to DIDs. Checks what each side
# sees on the wire: two dialogs per call (the provider never sees the phone's Call-ID, Via, Contact or
# credentials), the trunk's challenge answered, PRACK for a provider's reliable 183, reliable 18x to a
# phone that requires 100rel (the 2xx held until its PRACK), tel URI / extra Request-URI parameter /
# no 100rel per trunk, failover 503 -> next trunk, CANCEL, re-INVITE and INFO bridged, BYE from either
# side, inbound DIDs ringing every contact of the extension, 404 for an unknown DID, 407 for a
# non-trunk source, internal extensions winning over routes, and the REGISTER client (401, refresh,
# 403 shown in `trunk list`), and forwarding to numbers (busy while proxied, busy from a DID, always,
# refused by the forwarding user's rights) going out as the forwarding user's call.
set -euo pipefail
bin=${SIPWARDEN:?}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pid=""
bg=()
cleanup() {
  for p in "${bg[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; { wait "$pid"; } 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- server log"; tail -${LOGLINES:-40} "$tmp/server.log" 2>/dev/null || true; exit 1; }

udp_port() {  # a free UDP port on the given loopback address
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$1"
}

data="$tmp/var"
pw="B2bua-Test-pass-4471"
for u in 201 202 203 204 0700; do
  "$bin" user add "$u" --password-stdin --data-dir "$data" --domain example.test <<< "$pw" > /dev/null || fail "user add $u"
done
p_prov=$(udp_port 127.0.0.2)
p_tel=$(udp_port 127.0.0.2)
p_down=$(udp_port 127.0.0.3)
p_backup=$(udp_port 127.0.0.3)
p_silent=$(udp_port 127.0.0.3)
p_tls=$(udp_port 127.0.0.2)
p_tlsbad=$(udp_port 127.0.0.2)
p_reg=$(udp_port 127.0.0.6)
p_bad=$(udp_port 127.0.0.6)
t() { "$bin" "$@" --data-dir "$data" > /dev/null || fail "$*"; }
"$bin" trunk add prov --host "127.0.0.2:$p_prov" --username provuser --password-stdin --data-dir "$data" \
  <<< "Prov-Secret-pass-991" > /dev/null || fail "trunk add prov"
t trunk add tel --host "127.0.0.2:$p_tel" --tel-uri --no-100rel
t trunk add down --host "127.0.0.3:$p_down"
t trunk add backup --host "127.0.0.3:$p_backup" --ruri-params user=phone
t trunk add silent --host "127.0.0.3:$p_silent"
t trunk add carrier --host 127.0.0.4:5060 --address 127.0.0.4/32
"$bin" trunk add reg --host "127.0.0.6:$p_reg" --register --username reguser --expires 120 --password-stdin \
  --data-dir "$data" <<< "Reg-Secret-pass-117" > /dev/null || fail "trunk add reg"
"$bin" trunk add bad --host "127.0.0.6:$p_bad" --register --username baduser --password-stdin \
  --data-dir "$data" <<< "Bad-Secret-pass-118" > /dev/null || fail "trunk add bad"
# TLS providers: one whose certificate names its address, one whose certificate names another.
for n in good:127.0.0.2 bad:127.0.0.9; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=${n#*:}" \
    -addext "subjectAltName=IP:${n#*:}" -keyout "$tmp/${n%%:*}.key" -out "$tmp/${n%%:*}.pem" 2> /dev/null ||
    fail "openssl req"
done
cat "$tmp/good.pem" "$tmp/bad.pem" > "$tmp/trunk-ca.pem"
t trunk add secure --host "127.0.0.2:$p_tls" --transport tls
t trunk add forged --host "127.0.0.2:$p_tlsbad" --transport tls
t route add '18X.' --trunk secure
t route add '19X.' --trunk forged
t route add '0[1-9]X.' --trunk prov --strip 1 --prepend +49
t route add '00X.' --trunk tel --strip 2 --prepend +
t route add '07X.' --trunk down --priority 1
t route add '07X.' --trunk backup --priority 2
t route add '06X.' --trunk silent --priority 1
t route add '06X.' --trunk backup --priority 2
t did add +4930123456 --to 202
t did add +4930555000 --to 201
t user rights 204 --class internal   # may not call out: nor may its forwarding

export PW=$pw DOMAIN=example.test PYTHONPATH=$here PYTHONDONTWRITEBYTECODE=1 SW=$bin DATA=$data
export P_SILENT=$p_silent P_TLS=$p_tls P_TLSBAD=$p_tlsbad TLSDIR=$tmp P_PROV=$p_prov P_TEL=$p_tel P_DOWN=$p_down P_BACKUP=$p_backup P_REG=$p_reg P_BAD=$p_bad

# The registering providers listen before the server starts (it registers at once).
python3 - > "$tmp/reg.out" 2>&1 <<'PY' &
import hashlib, os, re, socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.6", int(os.environ["P_REG"])))
bad = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); bad.bind(("127.0.0.6", int(os.environ["P_BAD"])))
def parse(raw):
    head = raw.split("\r\n\r\n")[0].split("\r\n")
    h = {}
    for line in head[1:]:
        n, _, v = line.partition(":"); h.setdefault(n.strip().lower(), v.strip())
    return head[0], h
def reply(sock, src, h, status, extra=""):
    sock.sendto(("SIP/2.0 %s\r\nVia: %s\r\nFrom: %s\r\nTo: %s;tag=p1\r\nCall-ID: %s\r\nCSeq: %s\r\n%s"
                 "Content-Length: 0\r\n\r\n" % (status, h["via"], h["from"], h["to"], h["call-id"], h["cseq"], extra)).encode(), src)
def recv(sock, timeout):
    sock.settimeout(timeout); data, src = sock.recvfrom(65535); return data.decode(), src
md5 = lambda x: hashlib.md5(x.encode()).hexdigest()
# 1. REGISTER without credentials -> 401; 2. with them -> checked, 200 for 4 s; 3. a refresh before 4 s.
raw, src = recv(s, 10); start, h = parse(raw)
assert start == "REGISTER sip:127.0.0.6:%s SIP/2.0" % os.environ["P_REG"], start
assert h["from"].startswith("<sip:reguser@127.0.0.6:"), h["from"]
assert re.match(r"<sip:reguser@127\.0\.0\.1:\d+>", h["contact"]), h["contact"]
assert h["expires"] == "120", h
assert "authorization" not in h
reply(s, src, h, "401 Unauthorized", 'WWW-Authenticate: Digest realm="provider.test", nonce="n0nce1", algorithm=MD5, qop="auth"\r\n')
raw, src = recv(s, 5); start, h2 = parse(raw)
assert h2["call-id"] == h["call-id"] and int(h2["cseq"].split()[0]) == int(h["cseq"].split()[0]) + 1, (h, h2)
a = dict(re.findall(r'(\w+)="?([^",]*)"?', h2["authorization"]))
ha1 = md5("reguser:provider.test:Reg-Secret-pass-117")
want = md5("%s:n0nce1:%s:%s:auth:%s" % (ha1, a["nc"], a["cnonce"], md5("REGISTER:" + a["uri"])))
assert a["username"] == "reguser" and a["response"] == want, ("bad digest", h2["authorization"])
t_ok = time.monotonic()
reply(s, src, h2, "200 OK", "Contact: %s;expires=4\r\n" % h2["contact"])
raw, src = recv(s, 6); start, h3 = parse(raw)
elapsed = time.monotonic() - t_ok
assert 1.0 <= elapsed <= 3.5, "refresh after %.1f s (granted 4 s)" % elapsed
assert int(h3["cseq"].split()[0]) > int(h2["cseq"].split()[0]) and h3["call-id"] == h["call-id"]
reply(s, src, h3, "200 OK", "Contact: %s;expires=60\r\n" % h3["contact"])
# The other provider refuses outright.
raw, src = recv(bad, 10); start, hb = parse(raw)
reply(bad, src, hb, "401 Unauthorized", 'WWW-Authenticate: Digest realm="bad.test", nonce="x", algorithm=MD5\r\n')
while "authorization" not in hb:  # retransmissions of the first REGISTER wait in the socket meanwhile
    raw, src = recv(bad, 5); start, hb = parse(raw)
reply(bad, src, hb, "403 Forbidden")
print("REG-OK")
PY
bg+=($!)

port=$(udp_port 127.0.0.1)
# International numbers are called here, and more calls by one phone than the toll-fraud detector lets
# through (toll_test.sh checks those on their own).
printf '[limits]\nper_minute = 0\nper_hour = 0\n[detector]\nenabled = false\n' > "$tmp/toll.toml"
"$bin" run --config "$tmp/toll.toml" --country-code 49 --default-class international \
  --data-dir "$data" --domain example.test --listen "udp:127.0.0.1:$port" --listen "tls:127.0.0.1:$port" \
  --tls-trunk-ca "$tmp/trunk-ca.pem" --workers 2 --t1-ms 100 --max-call-duration 5 \
  --shutdown-grace 1 --log-level info ${SIPTRACE:-} >> "$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "sipwarden running" "$tmp/server.log" && break; sleep 0.1; done
grep -q "sipwarden running" "$tmp/server.log" || fail "server did not start"
export PORT=$port

run() {  # name: runs the python on stdin (with the provider helpers below)
  local name=$1
  { cat "$here/b2bua_peers.py"; cat; } | python3 - || fail "$name (see above)"
  echo "ok: $name"
}

for _ in $(seq 100); do grep -q REG-OK "$tmp/reg.out" && break; sleep 0.1; done
grep -q REG-OK "$tmp/reg.out" || { cat "$tmp/reg.out"; fail "trunk registration (provider's view above)"; }
listing=""
for _ in $(seq 30); do
  listing=$("$bin" trunk list --data-dir "$data")
  echo "$listing" | grep -E '^reg ' | grep -q registered && echo "$listing" | grep -E '^bad ' | grep -q failed && break
  sleep 0.2
done
echo "$listing" | grep -E '^reg ' | grep -q ' registered ' || fail "trunk list does not show reg registered: $listing"
echo "$listing" | grep -E '^bad ' | grep -q 'failed' || fail "trunk list does not show bad failed: $listing"
echo "$listing" | grep -E '^bad ' | grep -q '403' || fail "trunk list does not say why bad failed: $listing"
echo "ok: trunk registration with 401 and refresh; a refused one shown failed with its 403"
for s in Prov-Secret-pass-991 Reg-Secret-pass-117; do
  if grep -rq "$s" "$data" "$tmp/server.log"; then fail "a trunk password is stored or logged in clear"; fi
done
echo "ok: no trunk password in the data folder or the log"

run "outbound call: two dialogs, nothing of the phone reaches the provider, provider hangs up" <<'PY'
prov = Provider("127.0.0.2", P_PROV)
a = Phone("201")
c = a.call("0301234567")
inv = incoming(prov, timeout=3).invite
assert inv.uri == "sip:+49301234567@127.0.0.2:%d" % P_PROV, inv.uri
assert inv.call_id != c.call_id and c.call_id not in inv.raw, "the phone's Call-ID leaked"
assert len(inv.values("Via")) == 1 and str(a.port) not in inv.raw, "the phone's address leaked:\n" + inv.raw
assert "Proxy-Authorization" not in inv.raw and "Record-Route" not in inv.raw
# The caller ID is the caller's DID (did add +4930555000 --to 201), not its extension.
assert re.match(r"<sip:\+4930555000@127\.0\.0\.2>;tag=", inv.first("From")), inv.first("From")
assert "100rel" in inv.first("Supported"), inv.raw
assert inv.body == SDP
cl = Callee(prov, inv)
cl.ring()
r = a.response(c.call_id, "INVITE", 180)
assert r.call_id == c.call_id and r.to_tag() != cl.tag, "the provider's tag leaked"
cl.answer()
ok = a.response(c.call_id, "INVITE", 200)
assert ok.body == SDP and str(prov.port) not in ok.raw, ok.raw
c.established(ok)
c.ack()
ack = prov.request("ACK")
assert ack.call_id == inv.call_id
# The provider hangs up: the phone gets a BYE of its own dialog.
bye_text = ("BYE %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:%d;branch=z9hG4bK%s\r\nMax-Forwards: 70\r\n"
            "From: %s;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 9 BYE\r\nContent-Length: 0\r\n\r\n" %
            (uri_of(inv.first("Contact")), P_PROV, rand(), uri_of(inv.first("To")).join("<>"), cl.tag,
             inv.first("From"), inv.call_id))
# Somebody else who learnt the Call-ID and tags: refused, and the call goes on.
stranger = Provider("127.0.0.5", 0)
stranger.send(bye_text.replace("127.0.0.2:%d;" % P_PROV, "127.0.0.5:%d;" % stranger.port), hostport_of(uri_of(inv.first("Contact"))))
r = stranger.response(inv.call_id, "BYE", "final")
assert r.status == 403, r.start
a.quiet(0.3, lambda m: m.method == "BYE")
prov.send(bye_text, hostport_of(uri_of(inv.first("Contact"))))
bye = a.request("BYE", call_id=c.call_id)
assert bye.to_tag() == c.tag or c.tag in bye.first("To"), bye.raw
a.reply(bye, 200)
r = prov.response(inv.call_id, "BYE", 200)
PY

run "the trunk's challenge answered, a reliable 183 PRACKed, re-INVITE and INFO bridged, phone hangs up" <<'PY'
prov = Provider("127.0.0.2", P_PROV)
a = Phone("201")
c = a.call("0301234567")
inv = prov.request("INVITE")
prov.reply(inv, 407, "Proxy Authentication Required", tag=rand(32),
           extra=['Proxy-Authenticate: Digest realm="prov.test", nonce="abc123", algorithm=MD5, qop="auth"'])
prov.request("ACK")
inv2 = prov.request("INVITE")
assert inv2.call_id == inv.call_id and inv2.first("CSeq") == "2 INVITE", inv2.first("CSeq")
auth = challenge_params(inv2.first("Proxy-Authorization"))
md5 = lambda x: hashlib.md5(x.encode()).hexdigest()
ha1 = md5("provuser:prov.test:Prov-Secret-pass-991")
assert auth["response"] == md5("%s:abc123:%s:%s:auth:%s" % (ha1, auth["nc"], auth["cnonce"], md5("INVITE:" + inv2.uri)))
tag = rand(32)
prov.reply(inv2, 183, "Session Progress", tag=tag, extra=["Require: 100rel", "RSeq: 1"], body=SDP)
prack = prov.request("PRACK")
assert prack.first("RAck") == "1 2 INVITE", prack.first("RAck")
assert prack.first("CSeq") == "3 PRACK" and tag in prack.first("To")
prov.reply(prack, 200)
r = a.response(c.call_id, "INVITE", 183)
assert r.first("Require") is None and r.first("RSeq") is None, "the phone did not ask for 100rel"
prov.reply(inv2, 200, tag=tag, body=SDP)
ok = a.response(c.call_id, "INVITE", 200)
c.established(ok)
c.ack()
prov.request("ACK")
# re-INVITE (hold) from the provider: the phone sees it in its own dialog and answers; the answer goes back.
hold = SDP.replace("t=0 0\r\n", "t=0 0\r\na=sendonly\r\n")
reinv = ("INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:%d;branch=z9hG4bK%s\r\nMax-Forwards: 70\r\n"
         "From: %s;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 10 INVITE\r\nContact: <%s>\r\n"
         "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s" %
         (uri_of(inv2.first("Contact")), P_PROV, rand(), uri_of(inv2.first("To")).join("<>"), tag, inv2.first("From"),
          inv2.call_id, prov.contact, len(hold), hold))
prov.send(reinv, hostport_of(uri_of(inv2.first("Contact"))))
ri = a.request("INVITE", call_id=c.call_id)
assert "a=sendonly" in ri.body and ri.first("CSeq").endswith("INVITE")
a.reply(ri, 200, tag=c.tag, body=SDP.replace("t=0 0\r\n", "t=0 0\r\na=recvonly\r\n"))
a.request("ACK", call_id=c.call_id)
r = prov.response(inv2.call_id, "INVITE", 200)
assert "a=recvonly" in r.body
# INFO from the phone reaches the provider with its body.
c.cseq += 1
lines = c.in_dialog("INFO", body="Signal=5\r\nDuration=160\r\n")
info = prov.request("INFO")
assert "Signal=5" in info.body and info.call_id == inv2.call_id
prov.reply(info, 200)
a.response(c.call_id, "INFO", 200)
c.bye()
bye = prov.request("BYE")
assert bye.call_id == inv2.call_id
prov.reply(bye, 200)
a.response(c.call_id, "BYE", 200)
PY

run "tel URI, no 100rel to that trunk; a phone that requires 100rel gets a reliable 180, the 200 after its PRACK" <<'PY'
prov = Provider("127.0.0.2", P_TEL)
a = Phone("201")
c = a.call("00441234567", extra=["Require: 100rel"])
inv = prov.request("INVITE")
assert inv.uri == "tel:+441234567" and inv.first("To") == "<tel:+441234567>", inv.raw
assert "100rel" not in inv.raw, inv.raw
cl = Callee(prov, inv)
cl.ring()
r = a.response(c.call_id, "INVITE", 180)
assert r.first("Require") == "100rel" and r.first("RSeq") == "1", r.raw
r2 = a.response(c.call_id, "INVITE", 180, timeout=1.0)  # retransmitted until PRACKed (T1 = 100 ms)
assert r2.first("RSeq") == "1"
cl.answer()
a.quiet(0.5, lambda m: m.status == 200)
c.established(r)
c.cseq += 1
lines = ["PRACK %s SIP/2.0" % uri_of(r.first("Contact")), "Via: " + a.via(), "Max-Forwards: 70",
         "From: <sip:201@example.test>;tag=%s" % c.tag, "To: " + r.first("To"), "Call-ID: " + c.call_id,
         "CSeq: %d PRACK" % c.cseq, "RAck: 1 %d INVITE" % (c.cseq - 1), "Content-Length: 0"]
a.send("\r\n".join(lines) + "\r\n\r\n")
a.response(c.call_id, "PRACK", 200)
ok = a.response(c.call_id, "INVITE", 200)
c.established(ok)
c.ack()
prov.request("ACK")
c.bye()
prov.reply(prov.request("BYE"), 200)
a.response(c.call_id, "BYE", 200)
PY

run "late offer: INVITE without SDP, the provider's offer in its 2xx, the phone's answer in its ACK; the same for a re-INVITE" <<'PY'
prov = Provider("127.0.0.2", P_PROV)
a = Phone("201")
c = a.call("0301234567", body="")
inv = prov.request("INVITE")
assert inv.body == "", inv.raw
cl = Callee(prov, inv)
cl.answer()  # with SDP: the offer
ok = a.response(c.call_id, "INVITE", 200)
assert ok.body == SDP
prov.quiet(0.3, lambda m: m.method == "ACK")  # waits for the phone's answer
c.established(ok)
answer = SDP.replace("40000", "40002")
c.in_dialog("ACK", body=answer)
ack = prov.request("ACK")
assert ack.body == answer and ack.call_id == inv.call_id, ack.raw
# An offerless re-INVITE from the phone: the provider's 2xx carries the offer, the phone's ACK the answer.
c.cseq += 1
c.in_dialog("INVITE")
ri = prov.request("INVITE", call_id=inv.call_id)
assert ri.body == ""
prov.reply(ri, 200, tag=cl.tag, body=SDP)
r = a.response(c.call_id, "INVITE", 200)
assert r.body == SDP
prov.quiet(0.3, lambda m: m.method == "ACK")
c.in_dialog("ACK", cseq=c.cseq, body=answer.replace("40002", "40004"))
ack = prov.request("ACK")
assert "40004" in ack.body and ack.first("CSeq").split()[0] == ri.first("CSeq").split()[0], ack.raw
c.bye()
prov.reply(prov.request("BYE"), 200)
a.response(c.call_id, "BYE", 200)
PY

run "a 481 to a bridged re-INVITE ends the call; a call nobody hangs up ends at --max-call-duration" <<'PY'
prov = Provider("127.0.0.2", P_PROV)
a = Phone("201")
c = a.call("0301234567")
inv = prov.request("INVITE")
cl = Callee(prov, inv)
cl.answer()
ok = a.response(c.call_id, "INVITE", 200)
c.established(ok)
c.ack()
prov.request("ACK")
c.cseq += 1
c.in_dialog("INVITE", body=SDP)
ri = prov.request("INVITE", call_id=inv.call_id)
prov.reply(ri, 481, "Call/Transaction Does Not Exist", tag=cl.tag)
r = a.response(c.call_id, "INVITE", 481)
bye = a.request("BYE", call_id=c.call_id)
a.reply(bye, 200)
prov.quiet(0.3, lambda m: m.method == "BYE")  # the provider said it has no such dialog
# The second call: answered, then silence from both sides; the server ends it after 5 s.
c = a.call("0301234567")
inv = prov.request("INVITE")
Callee(prov, inv).answer()
ok = a.response(c.call_id, "INVITE", 200)
c.established(ok)
c.ack()
prov.request("ACK")
t0 = time.monotonic()
bye_a = a.request("BYE", timeout=8, call_id=c.call_id)
bye_b = prov.request("BYE", timeout=3, call_id=inv.call_id)
took = time.monotonic() - t0
assert 4.0 <= took <= 7.0, "ended after %.1f s" % took
a.reply(bye_a, 200)
prov.reply(bye_b, 200)
PY

run "failover: 503 from the first trunk, the call goes out through the second (with user=phone)" <<'PY'
down = Provider("127.0.0.3", P_DOWN)
backup = Provider("127.0.0.3", P_BACKUP)
a = Phone("201")
c = a.call("0711223344")
inv = down.request("INVITE")
down.reply(inv, 503, "Service Unavailable", tag=rand(32))
down.request("ACK")
inv2 = backup.request("INVITE")
assert inv2.uri == "sip:0711223344@127.0.0.3:%d;user=phone" % P_BACKUP, inv2.uri
cl = Callee(backup, inv2)
cl.answer()
ok = a.response(c.call_id, "INVITE", 200)
c.established(ok)
c.ack()
backup.request("ACK")
c.bye()
backup.reply(backup.request("BYE"), 200)
a.response(c.call_id, "BYE", 200)
PY

run "failover when the first trunk says nothing at all: after 8*T1, not Timer B" <<'PY'
silent = Provider("127.0.0.3", int(os.environ["P_SILENT"]))  # bound, never answers
backup = Provider("127.0.0.3", P_BACKUP)
a = Phone("201")
c = a.call("0612345678")
t0 = time.monotonic()
inv = silent.request("INVITE")  # it arrives, and nothing comes back
inv2 = backup.request("INVITE", timeout=3)
took = time.monotonic() - t0
assert took < 2.5, "failover after %.1f s (8*T1 = 0.8 s; Timer B would be 6.4 s)" % took
Callee(backup, inv2).answer()
ok = a.response(c.call_id, "INVITE", 200)
c.established(ok)
c.ack()
backup.request("ACK")
c.bye()
backup.reply(backup.request("BYE"), 200)
a.response(c.call_id, "BYE", 200)
PY

run "CANCEL while the provider rings: 487 to the phone, CANCEL to the provider" <<'PY'
prov = Provider("127.0.0.2", P_PROV)
a = Phone("201")
c = a.call("0301234567")
inv = prov.request("INVITE")
cl = Callee(prov, inv)
cl.ring()
a.response(c.call_id, "INVITE", 180)
r = c.cancel()
assert r.status == 200
r = a.response(c.call_id, "INVITE", 487)
c.ack_non2xx(r)
cancel = prov.request("CANCEL")
assert cancel.call_id == inv.call_id
prov.reply(cancel, 200)
prov.reply(inv, 487, tag=cl.tag)
prov.request("ACK")
PY

run "no route for the number: 404; an internal extension wins over a route" <<'PY'
a = Phone("201")
c = a.call("12345")
r = c.final()
assert r.status == 404, r.start
c.ack_non2xx(r)
e = Phone("0700")
e.register(replace=True)
backup = Provider("127.0.0.3", P_BACKUP)
c = a.call("0700")
inc = incoming(e)
assert inc.invite.call_id == c.call_id  # proxied, not a trunk call
backup.quiet(0.3)
inc.answer(486)
r = c.final()
assert r.status == 486
c.ack_non2xx(r)
PY

run "TLS trunk: our own TLS connection, the provider's certificate checked; a certificate for another host refused" <<'PY'
import ssl, threading
def serve(port, name, out):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.environ["TLSDIR"] + "/%s.pem" % name, os.environ["TLSDIR"] + "/%s.key" % name)
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.2", port)); ls.listen(1); ls.settimeout(5)
    try:
        conn, _ = ls.accept()
        s = ctx.wrap_socket(conn, server_side=True)
    except (OSError, ssl.SSLError) as e:
        out.append(("error", str(e))); return
    out.append(("version", s.version()))
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65535)
    head, _, body = data.partition(b"\r\n\r\n")
    n = int(re.search(rb"Content-Length: *(\d+)", head).group(1))
    while len(body) < n:
        body += s.recv(65535)
    m = sipua.Msg((head + b"\r\n\r\n" + body).decode())
    out.append(("invite", m))
    lines = ["SIP/2.0 486 Busy Here"] + ["Via: " + v for v in m.values("Via")] + [
        "From: " + m.first("From"), "To: " + m.first("To") + ";tag=tls1", "Call-ID: " + m.call_id,
        "CSeq: " + m.first("CSeq"), "Content-Length: 0"]
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    try:
        s.settimeout(3)
        out.append(("ack", s.recv(65535).decode()))
    except OSError:
        pass
import sipua
got = []
th = threading.Thread(target=serve, args=(int(os.environ["P_TLS"]), "good", got)); th.start()
time.sleep(0.2)
a = Phone("201")
c = a.call("18123456")
r = c.final(timeout=6)
c.ack_non2xx(r)
th.join()
assert r.status == 486, r.start
kinds = dict((k, v) for k, v in got)
assert kinds.get("version") in ("TLSv1.2", "TLSv1.3"), got
inv = kinds["invite"]
assert inv.first("Via").startswith("SIP/2.0/TLS "), inv.first("Via")
assert ";transport=tls" in inv.first("Contact"), inv.first("Contact")
assert "ACK" in kinds.get("ack", ""), got
# The forged provider presents a certificate for 127.0.0.9: the handshake fails, the call does not go out.
got = []
th = threading.Thread(target=serve, args=(int(os.environ["P_TLSBAD"]), "bad", got)); th.start()
time.sleep(0.2)
c = a.call("19123456")
r = c.final(timeout=8)
c.ack_non2xx(r)
th.join()
assert r.status >= 500 or r.status == 408, r.start
assert not any(k == "invite" for k, _ in got), "an INVITE went to a provider with the wrong certificate"
PY

run "inbound: a DID rings every contact of its extension; the first answer wins; the carrier hangs up" <<'PY'
p1, p2 = Phone("202"), Phone("202")
p1.register(replace=True)
p2.register()
carrier = Provider("127.0.0.4", 0)
cid, ftag = rand() + "@carrier", rand(32)
uri = "sip:+4930123456@127.0.0.1:%d;user=phone" % PORT
text = ("INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.4:%d;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n"
        "From: \"Caller\" <sip:+4930999111@carrier.test>;tag=%s\r\nTo: <sip:+4930123456@carrier.test>\r\n"
        "Call-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <%s>\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s"
        % (uri, carrier.port, rand(), ftag, cid, carrier.contact, len(SDP), SDP))
carrier.send(text)
i1, i2 = incoming(p1), incoming(p2)
for i in (i1, i2):
    assert i.invite.call_id != cid and cid not in i.invite.raw, i.invite.raw
    assert uri_of(i.invite.first("To")) == "sip:202@example.test", i.invite.first("To")
    assert "sip:+4930999111@example.test" in i.invite.first("From"), i.invite.first("From")
    assert "carrier.test" not in i.invite.raw and str(carrier.port) not in i.invite.raw
    assert i.invite.body == SDP
i1.ring()
i2.ring()
carrier.response(cid, "INVITE", 180)
i2.answer()
cancel = p1.request("CANCEL")
p1.reply(cancel, 200)
p1.reply(i1.invite, 487, tag=i1.tag)
p1.request("ACK")
ok = carrier.response(cid, "INVITE", 200)
assert str(p2.port) not in ok.raw, "the extension's contact leaked to the carrier"
to = ok.first("To")
contact = uri_of(ok.first("Contact"))
def req(method, cseq):
    return ("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.4:%d;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n"
            "From: \"Caller\" <sip:+4930999111@carrier.test>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"
            "Content-Length: 0\r\n\r\n" % (method, contact, carrier.port, rand(), ftag, to, cid, cseq, method))
carrier.send(req("ACK", 1), hostport_of(contact))
p2.request("ACK", call_id=i2.invite.call_id)
carrier.send(req("BYE", 2), hostport_of(contact))
bye = p2.request("BYE", call_id=i2.invite.call_id)
p2.reply(bye, 200)
carrier.response(cid, "BYE", 200)
PY

run "inbound by tel URI; unknown DID 404; a non-trunk source claiming a DID gets 407 and rings nothing" <<'PY'
p = Phone("202")
p.register(replace=True)
carrier = Provider("127.0.0.4", 0)
stranger = Provider("127.0.0.5", 0)
def invite(peer, ruri):
    cid = rand() + "@x"
    text = ("INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n"
            "From: <sip:+4930999111@carrier.test>;tag=%s\r\nTo: <%s>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n"
            "Contact: <%s>\r\nContent-Length: 0\r\n\r\n" % (ruri, peer.ip, peer.port, rand(), rand(32), ruri, cid, peer.contact))
    peer.send(text)
    return cid
cid = invite(carrier, "tel:+4930123456")
i = incoming(p)
i.answer(486)
r = carrier.response(cid, "INVITE", 486)
cid = invite(carrier, "sip:+4930000000@127.0.0.1:%d;user=phone" % PORT)
r = carrier.response(cid, "INVITE", "final")
assert r.status == 404, r.start
cid = invite(stranger, "sip:+4930123456@127.0.0.1:%d;user=phone" % PORT)
r = stranger.response(cid, "INVITE", "final")
assert r.status == 407, r.start
p.quiet(0.5, lambda m: m.method == "INVITE")
PY

run "forwarding to a number goes out through a trunk as the forwarding user's call: busy (proxied and from a DID), always, refused by rights" <<'PY'
import subprocess
def forward(*args):
    subprocess.run([os.environ["SW"], "forward", "set", *args, "--data-dir", os.environ["DATA"]], check=True,
                   capture_output=True)
forward("203", "0301234567", "--busy")
forward("202", "0307777777", "--busy")
forward("204", "0301234567", "--always")
time.sleep(1.5)  # a change reaches the running server within a second
prov = Provider("127.0.0.2", P_PROV)

def out_call(expect_uri, forwarder, reason):
    """The provider's side of a forwarded call: Diversion names who forwarded and why."""
    inv = incoming(prov, timeout=3).invite
    assert inv.uri == expect_uri, inv.uri
    div = inv.first("Diversion") or ""
    assert ("<sip:%s@example.test>" % forwarder) in div and ("reason=" + reason) in div, inv.raw
    assert "History-Info" in inv.raw, inv.raw
    assert "Proxy-Authorization" not in inv.raw
    return Callee(prov, inv)

# 201 calls 203 (proxied, media direct), 203 is busy: 181 to 201, out to +49301234567 as 203's call.
a, b = Phone("201"), Phone("203")
b.register(replace=True)
c = a.call("203")
i = incoming(b)
i.answer(486)
b.request("ACK", call_id=i.invite.call_id)
r = a.response(c.call_id, "INVITE", 181)
assert "purpose=forwarding" in r.first("Call-Info") and "reason=user-busy" in r.first("Call-Info"), r.raw
cl = out_call("sip:+49301234567@127.0.0.2:%d" % P_PROV, "203", "user-busy")
cl.ring()
a.response(c.call_id, "INVITE", 180)
cl.answer()
ok = a.response(c.call_id, "INVITE", 200)
c.established(ok)
c.ack()
prov.request("ACK")
c.bye()
bye = prov.request("BYE")
prov.reply(bye, 200)
a.response(c.call_id, "BYE", 200)
print("ok: proxied call, callee busy, forwarded out through the trunk")

# A carrier calls DID +4930123456 (202), 202 is busy: out again to +49307777777 as 202's call.
p = Phone("202")
p.register(replace=True)
carrier = Provider("127.0.0.4", 0)
def carrier_invite(did):
    cid = rand() + "@carrier"
    text = ("INVITE sip:%s@127.0.0.1:%d;user=phone SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.4:%d;branch=z9hG4bK%s;rport\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:+4930999111@carrier.test>;tag=%s\r\nTo: <sip:%s@carrier.test>\r\n"
            "Call-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <%s>\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s"
            % (did, PORT, carrier.port, rand(), rand(32), did, cid, carrier.contact, len(SDP), SDP))
    carrier.send(text)
    return cid
cid = carrier_invite("+4930123456")
i = incoming(p)
i.answer(486)
p.request("ACK", call_id=i.invite.call_id)
r = carrier.response(cid, "INVITE", 181)
cl = out_call("sip:+49307777777@127.0.0.2:%d" % P_PROV, "202", "user-busy")
cl.answer()
ok = carrier.response(cid, "INVITE", 200)
assert ok.body == SDP, ok.raw
contact = uri_of(ok.first("Contact"))
def in_dialog(method, cseq):
    return ("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.4:%d;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n"
            "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\nContent-Length: 0\r\n\r\n"
            % (method, contact, carrier.port, rand(), ok.first("From"), ok.first("To"), cid, cseq, method))
carrier.send(in_dialog("ACK", 1), hostport_of(contact))
prov.request("ACK")
carrier.send(in_dialog("BYE", 2), hostport_of(contact))
bye = prov.request("BYE")
prov.reply(bye, 200)
carrier.response(cid, "BYE", 200)
print("ok: a DID's extension busy, the carrier's call forwarded out through the trunk")

# 204 may not call out (class internal): its forwarding may not either. The caller gets 403.
c = a.call("204")
r = c.final()
assert r.status == 403, r.start
c.ack_non2xx(r)
prov.quiet(0.5, lambda m: m.method == "INVITE")
print("ok: forwarding by a user without the right to call out refused (403), nothing sent to the trunk")

# Always: 201 forwards every call; the carrier's call to 201's DID goes straight out, the trunk is busy.
forward("201", "0309999999", "--always")
time.sleep(1.5)
cid = carrier_invite("+4930555000")
r = carrier.response(cid, "INVITE", 181)
assert "reason=unconditional" in r.first("Call-Info"), r.raw
cl = out_call("sip:+49309999999@127.0.0.2:%d" % P_PROV, "201", "unconditional")
cl.answer(486)
prov.request("ACK")
r = carrier.response(cid, "INVITE", 486)
print("ok: always-forwarding of a DID's extension to a number")
PY


kill -TERM "$pid"
wait "$pid" || fail "server exit status $?"
pid=""
grep -q "trunk calls" "$tmp/server.log" || fail "no stop summary"
# Call detail records of the calls above (the writer flushed at stop): outbound through trunks with the
# trunk's name, answered and hung up; cancelled; inbound to the DID's extension.
"$bin" cdr --data-dir "$data" --csv --limit 0 > "$tmp/cdr.csv" || fail "sipwarden cdr"
[ -n "${CDRDUMP:-}" ] && cp "$tmp/cdr.csv" "$CDRDUMP"
python3 - "$tmp/cdr.csv" <<'PY' || fail "call records (above)"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
def has(**want):
    return any(all(r[k] == v for k, v in want.items()) for r in rows)
assert has(direction="outbound", trunk="prov", caller="201", callee="0301234567", dialled="0301234567",
           result="200", reason="caller hung up"), rows[:3]
assert has(direction="outbound", trunk="prov", result="200", reason="callee hung up")
assert has(direction="outbound", trunk="prov", result="487", reason="487 cancelled")
assert has(direction="outbound", trunk="prov", result="200", reason="max duration")
assert has(direction="outbound", trunk="prov", result="200", reason="481 inside the dialog")
assert has(direction="outbound", trunk="tel", dialled="00441234567", result="200")
assert has(direction="outbound", trunk="secure", result="486")
assert has(direction="outbound", trunk="forged", result="408")
assert has(direction="inbound", trunk="carrier", caller="+4930999111", callee="202", dialled="+4930123456",
           result="200", reason="caller hung up")
assert has(direction="inbound", trunk="carrier", callee="202", result="486")
assert has(direction="internal", caller="201", callee="0700", result="486")
# Forwarded out: the user who forwards made the call; the call to that user says where it went.
assert has(direction="outbound", trunk="prov", caller="203", callee="0301234567", result="200",
           reason="caller hung up"), rows[:4]
assert has(direction="outbound", trunk="prov", caller="202", callee="0307777777", result="200",
           reason="caller hung up")
assert has(direction="outbound", trunk="prov", caller="201", callee="0309999999", result="486")
assert has(direction="outbound", caller="204", result="403")
assert has(direction="internal", caller="201", callee="203", result="181", reason="forwarded to 0301234567")
assert has(direction="inbound", callee="202", result="181", reason="forwarded to 0307777777")
assert all(r["source"].startswith("udp:127.0.0.") for r in rows if r["direction"] != "")
answered = [r for r in rows if r["result"] == "200"]
assert answered and all(r["answer"] for r in answered)
print("ok: %d call records" % len(rows))
PY
echo "PASS"
