#!/usr/bin/env bash
# Secure media through the relay (issue 9), with real phones (baresip 1.0):
#  1. alice and bob register over TLS with mandatory SRTP; alice calls bob with the media anchored
#     (--anchor-media always): both record what they receive (sndfile) and the recording holds the other
#     side's 440 Hz tone; a capture on the loopback interface sees packets on the relay's ports, every one
#     of them SRTP (the size of SRTP with its 80-bit tag, payload not the tone); the relay's ports are
#     closed after the call.
#  2. alice (TLS, SRTP) calls carol (UDP, plain RTP): the relay terminates SRTP; carol records the tone,
#     carol's side of the relay carries plain RTP, alice's side only SRTP.
#  3. dave (UDP) offers RTP/SAVP with a=crypto: the keys travelled in clear: 488 with a Reason, no call.
#  4. a server with --srtp required: carol (UDP, no SRTP) calling gets 488; the relay's ports stay free.
set -euo pipefail
bin=${SIPWARDEN:?}
here=$(cd "$(dirname "$0")" && pwd)
export HERE=$here
tmp=$(mktemp -d)
pids=()
cleanup() {
  # phone() runs in $(...), a subshell: its baresip pids reach us through a file, not the array.
  [ -f "$tmp/phones.pids" ] && mapfile -t -O "${#pids[@]}" pids < "$tmp/phones.pids"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.2
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE  # the EXIT trap then stops the phones too
fail() { echo "FAIL: $*"; for f in "$tmp"/*.log; do echo "--- $f"; tail -25 "$f"; done; exit 1; }
command -v baresip >/dev/null || fail "baresip is not installed (scripts/deps installs baresip-core)"
[ "$(id -u)" -eq 0 ] || { echo "SKIP-FAIL: the loopback capture needs root (AF_PACKET)"; exit 1; }

free_port() { python3 "$here/free_ports.py" triple; }  # p, p+1, p+2 free (SIP, TLS, ctrl)
free_range() { python3 "$here/free_ports.py" range 40; }  # 40 free UDP ports from an even one
pw="Media-Test-pw-4471"
data="$tmp/var"
for u in alice bob carol dave; do
  "$bin" user add "$u" --password-stdin --data-dir "$data" --domain example.test <<< "$pw" > /dev/null || fail "user add $u"
done
tls=$(free_port)
udp=$(free_port)
rtp_lo=$(free_range)
rtp_hi=$((rtp_lo + 39))
server_log="$tmp/server.log"
start_server() {  # extra options...
  # baresip 1.0 (libre) gives up on a challenge list that names anything but MD5: offer it MD5 alone.
  "$bin" run --data-dir "$data" --domain example.test --listen "tls:127.0.0.1:$tls" --listen "udp:127.0.0.1:$udp" \
    --md5-only-agent baresip --workers 2 --shutdown-grace 1 --log-level info \
    --media-port-min "$rtp_lo" --media-port-max "$rtp_hi" "$@" >> "$server_log" 2>&1 &
  server=$!
  pids+=($server)
  for _ in $(seq 50); do grep -q "sipwarden running" "$server_log" && break; sleep 0.1; done
  grep -q "sipwarden running" "$server_log" || fail "server did not start"
}
start_server --anchor-media always

phone() {  # name transport(tls|udp) mediaenc(srtp-mand|none) -> prints its ctrl port
  local name=$1 tr=$2 enc=$3 sip ctrl acct
  sip=$(free_port); ctrl=$((sip + 2))
  mkdir -p "$tmp/$name/rec"
  cat > "$tmp/$name/config" <<CFG
poll_method epoll
sip_listen 127.0.0.1:$sip
net_interface 127.0.0.1
audio_source ausine,440
ausrc_srate 48000
ausrc_channels 2
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module sndfile.so
module srtp.so
module account.so
module_app menu.so
module ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:$ctrl
snd_path $tmp/$name/rec
CFG
  if [ "$tr" = tls ]; then
    acct="<sip:$name@example.test;transport=tls>;auth_pass=$pw;outbound=\"sip:127.0.0.1:$tls;transport=tls\""
  else
    acct="<sip:$name@example.test>;auth_pass=$pw;outbound=\"sip:127.0.0.1:$udp\""
  fi
  acct="$acct;regint=300;answermode=auto;audio_codecs=PCMU"
  [ "$enc" != none ] && acct="$acct;mediaenc=$enc"
  echo "$acct" > "$tmp/$name/accounts"
  : > "$tmp/$name/contacts"
  baresip -f "$tmp/$name" > "$tmp/$name.log" 2>&1 &
  echo $! >> "$tmp/phones.pids"
  echo "$ctrl"
}
registered() {  # count
  for _ in $(seq 60); do
    n=$("$bin" registrations --data-dir "$data" | grep -c "@127.0.0.1") || true
    [ "$n" -ge "$1" ] && return 0
    sleep 0.2
  done
  fail "expected $1 registrations: $("$bin" registrations --data-dir "$data")"
}
relay_sockets() {  # UDP sockets of the server bound in the relay's range
  python3 "$here/udp_sockets.py" "$server" "$rtp_lo" "$rtp_hi"
}
actrl=$(phone alice tls srtp-mand)
bctrl=$(phone bob tls srtp-mand)
cctrl=$(phone carol udp none)
dctrl=$(phone dave udp srtp-mand)
registered 4
echo "ok: alice and bob (TLS, SRTP), carol and dave (UDP) registered"
[ "$(relay_sockets)" -eq 0 ] || fail "relay ports open before any call"

cat > "$tmp/ctrl.py" <<'PY'
import os, sys, time
sys.path.insert(0, os.environ["HERE"])
from baresip_ctrl import Ctrl

# usage: ctrl.py CALLER_PORT CALLEE_PORT|- URI SECONDS  (callee "-": the call must fail; prints the reason)
caller = Ctrl(int(sys.argv[1]))
callee = Ctrl(int(sys.argv[2])) if sys.argv[2] != "-" else None
caller.send("dial", sys.argv[3])
if callee is None:
    closed = caller.wait("CALL_CLOSED")
    print("closed:", closed.get("param"))
    sys.exit(0)
callee.wait("CALL_ESTABLISHED")
caller.wait("CALL_ESTABLISHED")
time.sleep(float(sys.argv[4]))
caller.send("hangup")
caller.wait("CALL_CLOSED")
b = callee.wait("CALL_CLOSED", timeout=5)
assert "timeout" not in b.get("param", "").lower(), b
print("call done; callee closed:", b.get("param"))
PY

cat > "$tmp/sniff.py" <<'PY'
# Captures UDP on the loopback interface (AF_PACKET, root) for the relay's ports until SIGTERM, then
# prints per relay port: packets, sizes seen, and how many RTP payloads decode (mu-law) as a 440 Hz tone.
import json, math, signal, socket, struct, sys
lo, hi = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind(("lo", 0))
s.settimeout(0.2)
stats = {}
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
def ulaw(b):
    b = ~b & 0xff
    t = ((b & 0x0f) << 3) + 0x84
    t <<= (b & 0x70) >> 4
    return (0x84 - t) if (b & 0x80) else (t - 0x84)
def tone_ratio(payload):
    x = [ulaw(b) for b in payload]
    n = len(x)
    energy = sum(v * v for v in x) or 1
    w = 2 * math.pi * 440 / 8000
    re = sum(v * math.cos(w * i) for i, v in enumerate(x))
    im = sum(v * math.sin(w * i) for i, v in enumerate(x))
    return (re * re + im * im) * 2 / n / energy  # ~1 for a pure tone, ~2/n for noise
while not stop:
    try:
        frame = s.recv(65535)
    except socket.timeout:
        continue
    except InterruptedError:
        continue
    if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
        continue
    ip = frame[14:]
    ihl = (ip[0] & 0x0f) * 4
    if ip[9] != 17:
        continue
    udp = ip[ihl:]
    sport, dport, ulen = struct.unpack("!HHH", udp[:6])
    payload = udp[8:ulen]
    for port, role in ((dport, "to"), (sport, "from")):
        if lo <= port <= hi:
            st = stats.setdefault(str(port), {"packets": 0, "sizes": {}, "tone": 0, "rtcp": 0})
            if role == "to":  # count each packet once per relay port it reaches
                st["packets"] += 1
                if len(payload) >= 12 and payload[0] >> 6 == 2 and 192 <= payload[1] <= 223:
                    st["rtcp"] += 1
                    continue
                st["sizes"][str(len(payload))] = st["sizes"].get(str(len(payload)), 0) + 1
                if len(payload) >= 172 and payload[0] >> 6 == 2 and (payload[1] & 0x7f) == 0:
                    if tone_ratio(payload[12:172]) > 0.5:
                        st["tone"] += 1
print(json.dumps(stats))
PY

cat > "$tmp/tone.py" <<'PY'
# A recording (WAV) holds a 440 Hz tone: at least one second of it, the tone's share of the energy high.
import math, struct, sys, wave
w = wave.open(sys.argv[1])
rate, ch, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
assert width == 2, width
raw = w.readframes(w.getnframes())
x = struct.unpack("<%dh" % (len(raw) // 2), raw)[::ch]
block = rate // 10
good = 0
for start in range(0, len(x) - block, block):
    seg = x[start:start + block]
    energy = sum(v * v for v in seg)
    if energy < block * 100 * 100:  # silence
        continue
    wv = 2 * math.pi * 440 / rate
    re = sum(v * math.cos(wv * i) for i, v in enumerate(seg))
    im = sum(v * math.sin(wv * i) for i, v in enumerate(seg))
    if (re * re + im * im) * 2 / block / energy > 0.6:
        good += 1
print("%s: %.1f s of 440 Hz tone in %.1f s" % (sys.argv[1].split("/")[-1], good / 10, len(x) / rate))
assert good >= 10, "no 440 Hz tone recorded"
PY

# ---- 1. TLS + SRTP on both sides, media anchored: pass-through SRTP ----
python3 "$tmp/sniff.py" "$rtp_lo" "$rtp_hi" > "$tmp/sniff1.json" &
sniff=$!
pids+=($sniff)
sleep 0.3
python3 "$tmp/ctrl.py" "$actrl" "$bctrl" "sip:bob@example.test" 3 > "$tmp/call1.out" || fail "alice -> bob call"
# libre reports a BYE from the far end as ECONNRESET ("Connection reset by peer"): the BYE reached bob.
grep -q "callee closed: Connection reset by peer" "$tmp/call1.out" || fail "bob's call should end on our BYE: $(cat "$tmp/call1.out")"
kill -TERM "$sniff"; wait "$sniff" || true
grep -q "call alice -> bob: media anchored" "$server_log" || fail "the call should have been anchored"
python3 - "$tmp/sniff1.json" <<'PY' || fail "capture of call 1"
import json, sys
st = json.load(open(sys.argv[1]))
ports = [p for p, v in st.items() if v["packets"] > 0]
assert len(ports) >= 2, "media should reach two relay ports (one per side): %s" % st
total = sum(v["packets"] - v["rtcp"] for v in st.values())
assert total >= 150, "too few media packets through the relay: %s" % st
for p, v in st.items():
    assert v["tone"] == 0, "plain RTP carrying the tone on relay port %s: %s" % (p, v)
    for size, n in v["sizes"].items():
        assert int(size) == 182, "a packet of %s bytes on relay port %s is not SRTP (PCMU + 80-bit tag): %s" % (size, p, v)
print("ok: %d media packets on relay ports %s, every one SRTP" % (total, ",".join(sorted(ports))))
PY
for who in alice bob; do
  rec=$(ls "$tmp/$who/rec"/dump-*-dec.wav 2>/dev/null | head -1)
  [ -n "$rec" ] || fail "$who recorded nothing"
  python3 "$tmp/tone.py" "$rec" || fail "$who's recording should hold the other side's tone"
  rm -f "$tmp/$who/rec"/*
done
grep -q "SRTP is Enabled\|srtp" "$tmp/bob.log" || true
for _ in $(seq 40); do [ "$(relay_sockets)" -eq 0 ] && break; sleep 0.1; done
[ "$(relay_sockets)" -eq 0 ] || fail "relay ports still open after call 1: $(relay_sockets)"
echo "ok: alice -> bob over TLS with SRTP through the relay: both hear the tone, only SRTP on the wire, ports closed"

# ---- 2. SRTP (alice, TLS) to plain RTP (carol, UDP): the relay terminates SRTP ----
python3 "$tmp/sniff.py" "$rtp_lo" "$rtp_hi" > "$tmp/sniff2.json" &
sniff=$!
pids+=($sniff)
sleep 0.3
python3 "$tmp/ctrl.py" "$actrl" "$cctrl" "sip:carol@example.test" 3 || fail "alice -> carol call"
kill -TERM "$sniff"; wait "$sniff" || true
python3 - "$tmp/sniff2.json" <<'PY' || fail "capture of call 2"
import json, sys
st = json.load(open(sys.argv[1]))
srtp = [p for p, v in st.items() if v["sizes"].get("182", 0) > 50]
plain = [p for p, v in st.items() if v["sizes"].get("172", 0) > 50]
assert srtp and plain, "one side SRTP (182 bytes), the other plain RTP (172): %s" % st
assert not set(srtp) & set(plain), "a relay port carried both: %s" % st
for p in srtp:
    assert st[p]["tone"] == 0, "the SRTP side carried the tone in clear: %s" % st
assert any(st[p]["tone"] > 50 for p in plain), "the plain side should carry the tone: %s" % st
print("ok: SRTP on relay port(s) %s, plain RTP with the tone on %s" % (",".join(srtp), ",".join(plain)))
PY
for who in alice carol; do
  rec=$(ls "$tmp/$who/rec"/dump-*-dec.wav 2>/dev/null | head -1)
  [ -n "$rec" ] || fail "$who recorded nothing"
  python3 "$tmp/tone.py" "$rec" || fail "$who's recording should hold the other side's tone"
  rm -f "$tmp/$who/rec"/*
done
for _ in $(seq 40); do [ "$(relay_sockets)" -eq 0 ] && break; sleep 0.1; done
[ "$(relay_sockets)" -eq 0 ] || fail "relay ports still open after call 2"
echo "ok: alice (SRTP) -> carol (RTP): bridged by the relay, both hear the tone, ports closed"

# ---- 3. a=crypto over plain UDP: refused ----
out=$(python3 "$tmp/ctrl.py" "$dctrl" - "sip:bob@example.test" 0) || fail "dave's call: $out"
echo "$out" | grep -q "488" || fail "dave's SRTP offer over UDP should get 488: $out"
grep -q "488 (SRTP keys sent over unencrypted signalling" "$server_log" || fail "the 488 should be logged with its reason"
[ "$(relay_sockets)" -eq 0 ] || fail "a refused call should open no relay port: $(relay_sockets) open"
echo "ok: an SRTP offer over plain UDP gets 488 ($out)"

# ---- 3b. a user's own policy, changed while the server runs: carol must use SRTP ----
"$bin" user media carol --srtp required --data-dir "$data" | grep -q "srtp: required" || fail "user media carol"
sleep 1.2
out=$(python3 "$tmp/ctrl.py" "$cctrl" - "sip:bob@example.test" 0) || fail "carol's call: $out"
echo "$out" | grep -q "488" || fail "carol (SRTP required, UDP) should get 488: $out"
grep -q "488 (SRTP required for caller: signalling must use TLS)" "$server_log" || fail "the 488 should name carol's policy"
"$bin" user media carol --srtp default --data-dir "$data" > /dev/null || fail "user media carol --srtp default"
echo "ok: user media carol --srtp required reached the running server: her plain call gets 488 ($out)"
"$bin" user media carol --tls-required --data-dir "$data" | grep -q "tls required: yes" || fail "user media --tls-required"
sleep 1.2
out=$(python3 "$tmp/ctrl.py" "$cctrl" - "sip:bob@example.test" 0) || fail "carol's call: $out"
echo "$out" | grep -q "488" || fail "carol (TLS required, on UDP) should get 488: $out"
grep -q "488, the caller must use TLS" "$server_log" || fail "the 488 should say TLS is required"
PORT=$udp PW=$pw python3 - <<'PY' || fail "carol's REGISTER over UDP should get 403"
import os, sys
sys.path.insert(0, os.environ["HERE"])
from sipua import Phone
try:
    Phone("carol").register()
except AssertionError as e:
    assert "403" in str(e), e
    print("ok: REGISTER over UDP of a TLS-only user: %s" % str(e).split("answered ")[-1])
else:
    raise AssertionError("REGISTER over UDP accepted for a TLS-only user")
PY
"$bin" user media carol --no-tls-required --data-dir "$data" > /dev/null || fail "user media --no-tls-required"

# ---- 4. --srtp required: a plain RTP caller is refused ----
kill -TERM "$server"; wait "$server" || true
start_server --srtp required
out=$(python3 "$tmp/ctrl.py" "$cctrl" - "sip:bob@example.test" 0) || fail "carol's call: $out"
echo "$out" | grep -q "488" || fail "a call without SRTP under --srtp required should get 488: $out"
grep -q "SRTP required" "$server_log" || fail "the refusal should name the policy"
[ "$(relay_sockets)" -eq 0 ] || fail "a refused call should open no relay port: $(relay_sockets) open"
echo "ok: --srtp required refuses carol's plain RTP call with 488 ($out)"

kill -TERM "$server"; rc=0; wait "$server" || rc=$?
[ $rc -eq 0 ] || fail "server exit status $rc after SIGTERM"
echo "media_test: all passed"
