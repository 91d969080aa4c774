#!/usr/bin/env bash
# Calls through the proxy between sipp phones (scenarios in sipp/calls/, written for sipwarden), over UDP
# and over TCP: a basic call, busy, no answer (Timer C: 408), CANCEL while ringing, forking to two
# contacts (the first answer wins, the other is cancelled), forwarding always / on busy / on no answer
# with the 181 and its Call-Info checked and History-Info/Diversion at the callee, a chain of two
# forwards, MESSAGE, a spoofed From refused, and a TCP caller calling a UDP callee (two Record-Routes).
set -euo pipefail
bin=${SIPWARDEN:?}
here=$(cd "$(dirname "$0")" && pwd)
sc=$here/sipp/calls
tmp=$(mktemp -d)
pid=""
bg=()
cleanup() {
  for p in "${bg[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; { wait "$pid"; } 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- server log"; tail -${LOGLINES:-30} "$tmp/server.log" 2>/dev/null || true; exit 1; }
command -v sipp >/dev/null || fail "sipp is not installed (scripts/deps installs sip-tester)"

pw="Sipp-Calls-pass-5519"
data="$tmp/var"
free_port() {  # a port free for UDP and TCP on 127.0.0.1
  python3 - <<'PY'
import socket
for _ in range(50):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0)); p = u.getsockname()[1]
    t = socket.socket()
    try:
        t.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        t.close(); u.close()
PY
}
cases="call busy noanswer cancel fork fwdalways fwdbusy fwdnoanswer chain message spoof mixed"
{
  for tr in u t; do for c in $cases; do for r in a b c d; do echo "$c$tr$r,$pw"; done; done; done
} > "$tmp/users.csv"
"$bin" user import "$tmp/users.csv" --data-dir "$data" --domain example.test > /dev/null || fail "user import"
port=$(free_port)
"$bin" run --data-dir "$data" --domain example.test --listen "udp:127.0.0.1:$port" --listen "tcp:127.0.0.1:$port" \
  --md5-first --timer-c 2 --workers 2 --shutdown-grace 1 --log-level info ${SIPTRACE:-} > "$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "sipwarden running" "$tmp/server.log" && break; sleep 0.1; done
grep -q "sipwarden running" "$tmp/server.log" || fail "server did not start"

inf() {  # user -> injection file for sipp (sipp 3.6 needs the whole [authentication] in one field)
  printf 'SEQUENTIAL\n%s;[authentication username=%s password=%s];example.test\n' "$1" "$1" "$pw" > "$tmp/$1.inf"
  echo "$tmp/$1.inf"
}
t_of() { [ "$1" = t ] && echo t1 || echo u1; }

callee() {  # scenario user transport(u|t): a sipp callee listening on a port of its own, registered
  local s=$1 user=$2 tr=$3 p
  p=$(free_port)
  sipp -sf "$sc/$s.xml" -i 127.0.0.1 -p "$p" -t "$(t_of "$tr")" -m 1 -nostdin -timeout 30 -timeout_error \
    -trace_err -error_file "$tmp/$user-$s-$p.err" > "$tmp/$user-$s-$p.out" 2>&1 &
  bg+=($!)
  echo "$s $user $!" >> "$tmp/callees"
  local contact="127.0.0.1:$p"
  [ "$tr" = t ] && contact="$contact;transport=tcp"
  sleep 0.2
  sipp "127.0.0.1:$port" -sf "$sc/register.xml" -inf "$(inf "$user")" -key contact "$contact" -i 127.0.0.1 -t u1 \
    -m 1 -nostdin -timeout 10 -timeout_error -trace_err -error_file "$tmp/reg-$user-$p.err" > "$tmp/reg-$user-$p.out" 2>&1 ||
    { cat "$tmp/reg-$user-$p.err" 2>/dev/null | head -20; fail "registering $user for $s"; }
}
caller() {  # scenario user callee transport
  local s=$1 user=$2 to=$3 tr=$4
  sipp "127.0.0.1:$port" -sf "$sc/$s.xml" -inf "$(inf "$user")" -s "$to" -i 127.0.0.1 -t "$(t_of "$tr")" -m 1 \
    -nostdin -timeout 20 -timeout_error -trace_err -error_file "$tmp/$user-$s.err" > "$tmp/$user-$s.out" 2>&1 ||
    { cat "$tmp/$user-$s.err" 2>/dev/null | head -30; for f in "$tmp"/*-*.err; do echo "== $f"; head -20 "$f"; done; fail "$s: caller $user to $to over $tr"; }
}
callees_done() {  # every callee sipp of this case ends with success
  while read -r s user p; do
    local rc=0
    wait "$p" || rc=$?
    [ $rc -eq 0 ] || { cat "$tmp/$user-$s-"*.err 2>/dev/null | head -30; fail "callee $user ($s) exit status $rc"; }
  done < "$tmp/callees"
  : > "$tmp/callees"
  bg=()
}
: > "$tmp/callees"
fwd() { "$bin" forward set "$@" --data-dir "$data" > /dev/null || fail "forward set $*"; }

# Forwarding rules first (they take effect within a second).
for tr in u t; do
  fwd "fwdalways${tr}b" --always "fwdalways${tr}c"
  fwd "fwdbusy${tr}b" --busy "fwdbusy${tr}c"
  fwd "fwdnoanswer${tr}b" --no-answer 1 "fwdnoanswer${tr}c"
  fwd "chain${tr}b" --always "chain${tr}c"
  fwd "chain${tr}c" --always "chain${tr}d"
done
sleep 1.1

for tr in u t; do
  callee callee_answer "call${tr}b" "$tr"; caller caller_call "call${tr}a" "call${tr}b" "$tr"; callees_done
  echo "ok: basic call over $tr"
  callee callee_busy "busy${tr}b" "$tr"; caller caller_busy "busy${tr}a" "busy${tr}b" "$tr"; callees_done
  echo "ok: busy over $tr"
  callee callee_ring "noanswer${tr}b" "$tr"; caller caller_noanswer "noanswer${tr}a" "noanswer${tr}b" "$tr"; callees_done
  echo "ok: no answer (Timer C, 408) over $tr"
  callee callee_ring "cancel${tr}b" "$tr"; caller caller_cancel "cancel${tr}a" "cancel${tr}b" "$tr"; callees_done
  echo "ok: CANCEL while ringing over $tr"
  callee callee_answer "fork${tr}b" "$tr"; callee callee_ring "fork${tr}b" "$tr"
  caller caller_call "fork${tr}a" "fork${tr}b" "$tr"; callees_done
  echo "ok: forking, first answer wins, the other branch cancelled, over $tr"
  callee callee_forwarded "fwdalways${tr}c" "$tr"; caller caller_forwarded "fwdalways${tr}a" "fwdalways${tr}b" "$tr"; callees_done
  echo "ok: forward always with 181 over $tr"
  callee callee_busy "fwdbusy${tr}b" "$tr"; callee callee_forwarded "fwdbusy${tr}c" "$tr"
  caller caller_forwarded "fwdbusy${tr}a" "fwdbusy${tr}b" "$tr"; callees_done
  echo "ok: forward on busy with 181 over $tr"
  callee callee_ring "fwdnoanswer${tr}b" "$tr"; callee callee_forwarded "fwdnoanswer${tr}c" "$tr"
  caller caller_forwarded "fwdnoanswer${tr}a" "fwdnoanswer${tr}b" "$tr"; callees_done
  echo "ok: forward on no answer with 181 over $tr"
  callee callee_forwarded "chain${tr}d" "$tr"; caller caller_forwarded_chain "chain${tr}a" "chain${tr}b" "$tr"
  callees_done
  echo "ok: a chain of two forwards over $tr"
  callee callee_message "message${tr}b" "$tr"; caller caller_message "message${tr}a" "message${tr}b" "$tr"; callees_done
  echo "ok: MESSAGE over $tr"
  caller caller_spoof "spoof${tr}a" "spoof${tr}b" "$tr"
  echo "ok: spoofed From refused (403) over $tr"
done
callee callee_answer_2rr "mixedub" u; caller caller_call "mixedta" "mixedub" t; callees_done
echo "ok: a TCP caller calls a UDP callee (two Record-Route entries)"

kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?; pid=""
[ $rc -eq 0 ] || fail "exit status $rc after SIGTERM"
echo "call_sipp_test: all passed"
