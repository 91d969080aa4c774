#!/usr/bin/env bash
# The toll-fraud guard on the real server (issue 7 parts 4-5): phones (sipua.py on 127.0.0.1) call out
# through a trunk whose provider is a plain UDP socket on 127.0.0.2. Checks, each on the wire: an
# internal-only user refused an external call (403 with a Reason, nothing reaches the provider) while an
# emergency number still goes out; a high-risk prefix and a premium number refused, and allowed within a
# second of `user rights --allow-prefix`; the concurrent-call limit; a burst of international calls and
# calls to many new countries flagging the detector, suspending the user (alert logged once, event in
# `user alerts`, SUSPENDED in `user rights`); the suspension surviving a restart and lifted by `user
# unsuspend`; a weekend rule (business hours that exclude today: only the after-hours group calls out);
# the verdicts in the call records.
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
fail() { echo "FAIL: $*"; echo "--- server log"; tail -${LOGLINES:-40} "$tmp/server.log" 2>/dev/null || true; exit 1; }
udp_port() {
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$1"
}

data="$tmp/var"
pw="Toll-Test-pass-5182"
export PW=$pw DATA=$data SIPWARDEN=$bin
sw() { "$bin" "$@" --data-dir "$data" > "$tmp/out" 2> "$tmp/err" || fail "$* ($(cat "$tmp/err"))"; }
for u in 201 202 203 204 205 206 207; do
  "$bin" user add "$u" --password-stdin --data-dir "$data" --domain example.test <<< "$pw" > /dev/null || fail "user add $u"
done
p_prov=$(udp_port 127.0.0.2)
export P_PROV=$p_prov
sw trunk add prov --host "127.0.0.2:$p_prov" --no-100rel
sw route add '00X.' --trunk prov --strip 2 --prepend +
sw route add '0[1-9]X.' --trunk prov --strip 1 --prepend +49
sw route add '112' --trunk prov
sw user rights 201 --class international
sw user rights 202 --class internal
sw user rights 203 --group night
sw user rights 205 --class international --max-concurrent 2
sw user rights 206 --class international
sw user rights 207 --class international
grep -q "class: international" "$tmp/out" || fail "user rights does not show the class: $(cat "$tmp/out")"
expect_refused() {  # message, command...
  local msg=$1; shift
  if "$bin" "$@" --data-dir "$data" > "$tmp/out" 2> "$tmp/err"; then fail "$* was accepted"; fi
  grep -q -- "$msg" "$tmp/err" || fail "$*: expected '$msg', got: $(cat "$tmp/err")"
}
expect_refused "--class premium" user rights 201 --class premium
expect_refused "no such user 299" user rights 299 --class local
expect_refused "--allow-prefix 88a" user rights 201 --allow-prefix 88a
expect_refused "which user" user rights --class local
# A later change of one right leaves the others as they were.
sw user rights 203 --premium
sw user rights 203 --group night
grep -q "premium: allowed" "$tmp/out" || fail "a later user rights took the premium right away: $(cat "$tmp/out")"
sw user rights 203 --no-premium
grep -q "premium: no" "$tmp/out" || fail "--no-premium: $(cat "$tmp/out")"
"$bin" user unsuspend 203 --data-dir "$data" > "$tmp/out" || fail "user unsuspend 203"
grep -q "not suspended" "$tmp/out" || fail "unsuspend of a user never suspended: $(cat "$tmp/out")"
echo "ok: user rights stores classes, groups and limits and refuses bad values"

cat > "$tmp/toll.toml" <<EOF
[detector]
burst_min = 5
new_countries = 3
EOF
start() {  # extra flags...
  "$bin" run --config "$tmp/toll.toml" --data-dir "$data" --domain example.test --listen "udp:127.0.0.1:$port" \
    --country-code 49 --workers 2 --t1-ms 100 --shutdown-grace 1 --log-level info "$@" >> "$tmp/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do grep -q "sipwarden running" "$tmp/server.log" && break; sleep 0.1; done
  grep -q "sipwarden running" "$tmp/server.log" || fail "server did not start"
}
stop() {
  kill -TERM "$pid"; wait "$pid" || fail "server exit status $?"; pid=""
  : > "$tmp/server.log.old"; cat "$tmp/server.log" >> "$tmp/server.log.old"; : > "$tmp/server.log"
}
port=$(udp_port 127.0.0.1)
export PORT=$port
start

cat > "$tmp/peers.py" <<'PY'
import os, socket, sys, time
sys.path.insert(0, os.environ["HERE"])
from sipua import SDP, Callee, Phone, incoming, rand

P_PROV = int(os.environ["P_PROV"])

class Provider(Phone):
    def __init__(self):
        super().__init__("prov")
        self.sock.close()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.2", P_PROV))
        self.ip, self.port = "127.0.0.2", P_PROV
        self.contact = "sip:gw@127.0.0.2:%d" % P_PROV

    def via(self, branch=None):
        return "SIP/2.0/UDP 127.0.0.2:%d;branch=%s;rport" % (P_PROV, branch or "z9hG4bK" + rand())

def refused(phone, number, why):
    """The call is answered 403 with a Reason naming `why`, and the provider sees nothing."""
    c = phone.call(number)
    r = c.final()
    assert r.status == 403, "%s -> %s: %s" % (phone.user, number, r.start)
    reason = r.first("Reason") or ""
    assert reason.startswith("SIP ;cause=403 ;text=") and why in reason, "%s -> %s: Reason %r" % (phone.user, number, reason)
    c.ack_non2xx(r)
    return r

def goes_out(phone, prov, number, expect_uri=None, status=486):
    """The call reaches the provider (which answers `status`), and the phone gets that answer."""
    c = phone.call(number)
    inv = prov.request("INVITE", timeout=3)
    if expect_uri:
        assert inv.uri.startswith(expect_uri), inv.uri
    cl = Callee(prov, inv)
    cl.answer(status)
    if status >= 300:
        prov.request("ACK")
    r = c.final()
    assert r.status == status, "%s -> %s: %s" % (phone.user, number, r.start)
    if status >= 300:
        c.ack_non2xx(r)
    return c, inv, cl, r
PY
run() {  # name: the python on stdin, after peers.py
  local name=$1
  { cat "$tmp/peers.py"; cat; } | HERE="$here" python3 - || fail "$name (see above)"
  echo "ok: $name"
}

run "an internal-only user is refused external calls (403 with a Reason) but may call 112" <<'PY'
prov = Provider()
a = Phone("202")
refused(a, "0301234567", "external calls not allowed")
refused(a, "0044201234567", "external calls not allowed")
prov.quiet(0.3, lambda m: m.method == "INVITE")
goes_out(a, prov, "112", "sip:112@")
PY

run "a high-risk prefix and a premium number are refused; --allow-prefix lifts the block within a second" <<'PY'
import subprocess
prov = Provider()
a = Phone("201")
goes_out(a, prov, "0044201234567", "sip:+44201234567@")
refused(a, "008816123456", "high-risk")
refused(a, "09001234567", "premium")
refused(a, "00539876543", "high-risk")
prov.quiet(0.3, lambda m: m.method == "INVITE")
subprocess.run([os.environ["SIPWARDEN"], "user", "rights", "201", "--allow-prefix", "+881", "--data-dir",
                os.environ["DATA"]], check=True, stdout=subprocess.DEVNULL)
time.sleep(1.0)
goes_out(a, prov, "008816123456", "sip:+8816123456@")
refused(a, "00539876543", "high-risk")
PY

run "the concurrent-call limit: a third call while two are up is refused, allowed again after a hang-up" <<'PY'
prov = Provider()
a = Phone("205")
calls = []
for n in ("0044201111111", "0044202222222"):
    c, inv, cl, ok = goes_out(a, prov, n, status=200)
    c.established(ok); c.ack(); prov.request("ACK")
    calls.append((c, inv))
refused(a, "0044203333333", "2 concurrent")
c, inv = calls.pop()
c.bye()
bye = prov.request("BYE")
prov.reply(bye, 200)
a.response(c.call_id, "BYE", 200)
time.sleep(0.2)
c3, inv3, cl3, ok3 = goes_out(a, prov, "0044203333333", status=486)
PY

run "a burst of international calls flags the detector and suspends the user's external calls" <<'PY'
prov = Provider()
a = Phone("206")
for i in range(5):
    goes_out(a, prov, "00442071234%03d" % i, "sip:+442071234")
refused(a, "00442071234999", "suspended")
refused(a, "0301234567", "suspended")
prov.quiet(0.3, lambda m: m.method == "INVITE")
# Calls inside the company are not external: still allowed (201 is not registered: 480, not 403).
c = a.call("201")
r = c.final()
assert r.status in (404, 480), r.start
c.ack_non2xx(r)
PY

run "calls to three new countries within an hour flag the detector" <<'PY'
prov = Provider()
a = Phone("207")
goes_out(a, prov, "0033123456789", "sip:+33123456789@")
goes_out(a, prov, "0039123456789", "sip:+39123456789@")
refused(a, "0034123456789", "suspended")
PY

sleep 1
for u in 206 207; do
  sw user rights $u
  grep -q "external calls: SUSPENDED" "$tmp/out" || fail "user rights $u does not show the suspension: $(cat "$tmp/out")"
done
sw user alerts 206
grep -q "burst" "$tmp/out" || fail "user alerts 206 shows no burst: $(cat "$tmp/out")"
sw user alerts 207
grep -q "new countries" "$tmp/out" || fail "user alerts 207 shows no new countries: $(cat "$tmp/out")"
n=$(grep -c "ALERT toll fraud: user 206: burst" "$tmp/server.log" || true)
[ "$n" = 1 ] || fail "the burst alert was logged $n times, not once"
grep -q "refused (403): external calls not allowed for this user" "$tmp/server.log" || fail "refused call not logged"
echo "ok: the alerts are logged once, stored as events, and the suspensions shown"

sw cdr --csv
csv="$tmp/cdr.csv"; tr -d '\r' < "$tmp/out" > "$csv"
check_verdict() {  # caller callee verdict (records: call,start,answer,end,duration,caller,callee,...)
  grep -E "^[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,$1,$2,[^,]*,outbound,.*,$3\$" "$csv" | grep -q . ||
    fail "no record $1 -> $2 with verdict '$3': $(grep ",$1," "$csv" | head -5)"
}
check_verdict 202 0301234567 "refused: class"
check_verdict 202 112 emergency
check_verdict 201 008816123456 "refused: high-risk"
check_verdict 201 008816123456 allowed
check_verdict 201 09001234567 "refused: premium"
check_verdict 201 00539876543 "refused: high-risk"
check_verdict 205 0044203333333 "refused: limit concurrent"
check_verdict 206 00442071234999 "refused: suspended"
check_verdict 201 0044201234567 allowed
grep -q ',403,external calls not allowed for this user,refused: class$' "$csv" ||
  fail "the refusal's reason is not in the record"
echo "ok: the call records carry the guard's verdicts"

# ---- restart with a weekend rule: business hours that leave out today and tomorrow ----
sw user rights 206 --group night
sw user rights 207 --group night
stop
days=(Sun Mon Tue Wed Thu Fri Sat)
today=$(date +%w)
hours=""
for d in 0 1 2 3 4 5 6; do
  if [ "$d" != "$today" ] && [ "$d" != $(( (today + 1) % 7 )) ]; then hours+="${hours:+, }${days[$d]} 00:00-24:00"; fi
done
start --business-hours "$hours" --after-hours-group night
run "after the restart: still suspended; outside business hours only the after-hours group calls out" <<'PY'
prov = Provider()
refused(Phone("206"), "0044201234567", "suspended")
refused(Phone("204"), "0301234567", "outside business hours")
goes_out(Phone("203"), prov, "0301234567", "sip:+49301234567@")
goes_out(Phone("202"), prov, "112", "sip:112@")
PY
sw user unsuspend 206
grep -q "allowed again" "$tmp/out" || fail "user unsuspend: $(cat "$tmp/out")"
sleep 1
run "user unsuspend and --group reach the running server within a second" <<'PY'
prov = Provider()
goes_out(Phone("206"), prov, "0044201234567", "sip:+44201234567@")
refused(Phone("207"), "0044201234567", "suspended")
PY
sw user alerts 206
grep -q "lifted by the administrator" "$tmp/out" || fail "user alerts does not show the unsuspension: $(cat "$tmp/out")"
stop
echo "PASS"
