#!/usr/bin/env bash
# SIP trunks, with sipp playing the providers (sipp/trunks/provider_*.xml, UAS on 127.0.0.2 and 127.0.0.3,
# UAC bound to 127.0.0.3 for calls coming in) and the company's phones on 127.0.0.1 (sipp/trunks/phone_*.xml):
#   registration of trunks (401 challenge, 200, the refresh at half the lifetime; over UDP and TCP;
#   403: failed in `trunk list`, retried after the back-off), outbound calls through the dial plan (strip and
#   prepend, sip: with and without Request-URI parameters, tel:, caller ID from the extension / a DID /
#   --caller-id, the INVITE challenged with 407 and with 401, a B2BUA's own dialog: new Call-ID, one Via,
#   its Contact, no Record-Route, no phone credentials), 100rel towards the provider (183 + PRACK) and
#   towards a phone that requires it, --no-100rel, failover to the next trunk on 503, calls from a trunk
#   to DIDs (sip: and tel: Request-URIs), an unknown DID (404), and a DID called from a host that is no
#   trunk (407, nothing rings).
# The scenarios check what they can with <ereg check_it>; exact values (URIs, tags, CSeq, digest responses,
# timings) are compared here on the message dumps (-trace_msg). sipp/trunks/selftest/run.sh plays every
# scenario against a sipp stand-in for sipwarden, without the server.
set -euo pipefail
bin=${SIPWARDEN:?}
here=$(cd "$(dirname "$0")" && pwd)
sc=$here/sipp/trunks
tmp=$(mktemp -d)
pid=""
bg=()
cleanup() {
  for p in "${bg[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; { wait "$pid"; } 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$tmp"/*.err; do [ -s "$f" ] && { echo "--- $(basename "$f")"; head -c 3000 "$f"; echo; }; done
  echo "--- trunk list"; "$bin" trunk list --data-dir "$data" 2>&1 | head -20 || true
  echo "--- server log"; tail -"${LOGLINES:-40}" "$tmp/server.log" 2>/dev/null || true
  exit 1
}
command -v sipp >/dev/null || fail "sipp is not installed (scripts/deps installs sip-tester)"
command -v ss >/dev/null || fail "ss (iproute2) is needed to see when a sipp listens"

pw="Trunk-Test-pass-7731"   # the phones (extensions 201-204)
ppw="Trunk-Prov-pass-7731"  # the provider accounts; the scenarios' verifyauth knows it too
data="$tmp/var"
free_port() {  # [IP] [N]: N ports (default 1) free for UDP and TCP on IP (default 127.0.0.1), all different
  python3 - "${1:-127.0.0.1}" "${2:-1}" <<'PY'
import socket, sys
ip, n, held, out = sys.argv[1], int(sys.argv[2]), [], []
while len(out) < n:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((ip, 0)); p = u.getsockname()[1]
    t = socket.socket()
    try:
        t.bind((ip, p)); out.append(p); held += [u, t]
    except OSError:
        t.close(); u.close()
print(" ".join(map(str, out)))
PY
}
wait_bound() {  # IP PORT [udp|tcp]: until a socket is bound there (5 s at most)
  local opt=-uln; [ "${3:-udp}" = tcp ] && opt=-tln
  for _ in $(seq 100); do ss -H $opt "src $1:$2" 2>/dev/null | grep -q . && return 0; sleep 0.05; done
  fail "nothing listens on $1:$2/${3:-udp}"
}

# ---- message dumps (sipp -trace_msg) ----
nth() {  # DUMP START [N]: the Nth distinct message (retransmissions skipped) the sipp run received that
         # starts with START (CRs removed); status 1 if there is none
  python3 - "$@" <<'PY'
import re, sys
path, start = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 1
try:
    text = open(path, errors="replace").read().replace("\r", "")
except OSError:
    sys.exit(1)
seen = []
for chunk in re.split(r"^-{20,} \d{4}-\d\d-\d\d [0-9:.]+\n", text, flags=re.M):
    head, _, msg = chunk.partition("\n")
    msg = msg.strip("\n") + "\n"
    if "message received" not in head or not msg.startswith(start) or msg in seen:
        continue
    seen.append(msg)
    if len(seen) == n:
        sys.stdout.write(msg)
        sys.exit(0)
sys.exit(1)
PY
}
count() {  # DUMP START: how many distinct messages starting with START the sipp run received
  local i=0
  while nth "$1" "$2" $((i + 1)) > /dev/null; do i=$((i + 1)); done
  echo $i
}
msg() {  # DUMP START [N]: as nth, but a missing message fails the test
  nth "$@" || fail "$(basename "$1"): no message '$2' #${3:-1} received"
}
hdrs() { sed '/^$/q' <<< "$1"; }                                   # MSG: its start line and headers
hval() { hdrs "$1" | sed -n "s/^$2: *//Ip" | head -1; }          # MSG NAME: the first NAME's value
cseq() { hval "$1" CSeq | cut -d' ' -f1; }                        # MSG: its CSeq number
has() {  # MSG ERE WHAT: a line of MSG's headers matches ERE
  hdrs "$1" | grep -Eq -- "$2" || { echo "--- message:"; hdrs "$1"; fail "$3"; }
}
hasnt() {  # MSG ERE WHAT: no line of MSG (headers and body) matches ERE
  ! grep -Eq -- "$2" <<< "$1" || { echo "--- message:"; printf '%s' "$1"; fail "$3"; }
}
digest_uri() {  # MSG HEADER METHOD USER PASSWORD: checks the digest response in HEADER; prints its uri
  python3 - "$@" <<'PY'
import hashlib, re, sys
msg, header, method, user, pw = sys.argv[1:6]
line = next((l for l in msg.split("\n") if l.lower().startswith(header.lower() + ":")), None)
if line is None:
    sys.exit("no %s header" % header)
p = {k.lower(): v.strip('"') for k, v in re.findall(r'([A-Za-z-]+)=("[^"]*"|[^,\s]+)', line)}
md5 = lambda s: hashlib.md5(s.encode()).hexdigest()
ha1, ha2 = md5("%s:%s:%s" % (user, p.get("realm"), pw)), md5("%s:%s" % (method, p.get("uri")))
if "qop" in p:
    want = md5("%s:%s:%s:%s:%s:%s" % (ha1, p.get("nonce"), p.get("nc"), p.get("cnonce"), p["qop"], ha2))
else:
    want = md5("%s:%s:%s" % (ha1, p.get("nonce"), ha2))
if p.get("username") != user:
    sys.exit("%s: username %s, expected %s" % (header, p.get("username"), user))
if p.get("response") != want:
    sys.exit("%s: response %s, expected %s" % (header, p.get("response"), want))
print(p["uri"])
PY
}
ruri() { head -1 <<< "$1" | cut -d' ' -f2; }                      # MSG: its Request-URI

# ---- sipp runs ----
declare -A run_pid
provider() {  # NAME SCENARIO IP PORT [u1|t1]: a provider sipp (UAS) in the background, dump in NAME.msg
  local name=$1 s=$2 ip=$3 p=$4 t=${5:-u1}
  sipp -sf "$sc/$s.xml" -i "$ip" -p "$p" -t "$t" -m 1 -nostdin -timeout "${TIMEOUT:-20}" -timeout_error \
    -trace_msg -message_file "$tmp/$name.msg" -trace_err -error_file "$tmp/$name.err" > "$tmp/$name.out" 2>&1 &
  run_pid[$name]=$!
  bg+=($!)
  wait_bound "$ip" "$p" "$([ "$t" = t1 ] && echo tcp || echo udp)"
}
finished() {  # NAME: waits for the background sipp NAME; it must have succeeded
  local rc=0
  wait "${run_pid[$1]}" || rc=$?
  [ $rc -eq 0 ] || fail "sipp $1 exit status $rc (see $1.err)"
}
inf() {  # user -> injection file for sipp (sipp 3.6 needs the whole [authentication] in one field)
  printf 'SEQUENTIAL\n%s;[authentication username=%s password=%s];example.test\n' "$1" "$1" "$pw" > "$tmp/$1.inf"
  echo "$tmp/$1.inf"
}
phone() {  # NAME SCENARIO USER NUMBER: phone USER (UAC on 127.0.0.1) dials NUMBER; must succeed
  local name=$1 s=$2 user=$3 number=$4 rc=0
  sipp "127.0.0.1:$port" -sf "$sc/$s.xml" -inf "$(inf "$user")" -s "$number" -i 127.0.0.1 -t u1 -m 1 -nostdin \
    -timeout 20 -timeout_error -cid_str 'phonecall-%u-%p@%s' -trace_msg -message_file "$tmp/$name.msg" \
    -trace_err -error_file "$tmp/$name.err" > "$tmp/$name.out" 2>&1 || rc=$?
  [ $rc -eq 0 ] || fail "phone $user ($s) dialling $number: sipp exit status $rc"
}
caller_in() {  # NAME SCENARIO IP RURI: a provider (UAC bound to IP) calls RURI at sipwarden; must succeed
  local name=$1 s=$2 ip=$3 uri=$4 rc=0
  sipp "127.0.0.1:$port" -sf "$sc/$s.xml" -key ruri "$uri" -i "$ip" -t u1 -m 1 -nostdin -timeout 20 \
    -timeout_error -cid_str 'provcall-%u-%p@%s' -trace_msg -message_file "$tmp/$name.msg" \
    -trace_err -error_file "$tmp/$name.err" > "$tmp/$name.out" 2>&1 || rc=$?
  [ $rc -eq 0 ] || fail "$s from $ip to $uri: sipp exit status $rc"
}
trunk_line() {  # NAME: the trunk's line of `trunk list`
  "$bin" trunk list --data-dir "$data" 2>&1 | grep -E "^$1 " || true
}
wait_trunk() {  # NAME ERE WHAT: until the trunk's line matches ERE (5 s at most)
  for _ in $(seq 50); do trunk_line "$1" | grep -Eq -- "$2" && return 0; sleep 0.1; done
  fail "$3; trunk list says: $(trunk_line "$1")"
}
pass() { echo "PASS: $*"; }

# ---- the company: phones, trunks, dial plan, DIDs; then the registrars; then the server ----
printf '%s,%s\n' 201 "$pw" 202 "$pw" 203 "$pw" 204 "$pw" > "$tmp/users.csv"
"$bin" user import "$tmp/users.csv" --data-dir "$data" --domain example.test > /dev/null || fail "user import"
# 201 calls a 0900 number (premium rate in Germany); the many test calls of one phone would look like a
# burst to the toll-fraud detector, which toll_test.sh checks on its own.
"$bin" user rights 201 --premium --data-dir "$data" > /dev/null || fail "user rights 201 --premium"
printf '[limits]\nper_minute = 0\nper_hour = 0\n[detector]\nenabled = false\n' > "$tmp/toll.toml"
read -r port p_202 <<< "$(free_port 127.0.0.1 2)"
read -r p_reg p_regtcp p_403 p_prov p_telco p_norel p_fo1 <<< "$(free_port 127.0.0.2 7)"
p_fo2=$(free_port 127.0.0.3)
add() {  # what...: one administration command (the providers' password on stdin, for those that read it)
  "$bin" "$@" --data-dir "$data" <<< "$ppw" > "$tmp/admin.out" 2>&1 || { cat "$tmp/admin.out"; fail "$*"; }
}
add trunk add reg --host "127.0.0.2:$p_reg" --register --username acme-reg --password-stdin --expires 60 \
  --from-domain provider.test
add trunk add regtcp --host "127.0.0.2:$p_regtcp" --transport tcp --register --username acme-reg --password-stdin \
  --expires 60
add trunk add reg403 --host "127.0.0.2:$p_403" --register --username acme-bad --password-stdin --expires 60
add trunk add prov --host "127.0.0.2:$p_prov" --username acme-out --password-stdin --from-domain provider.test \
  --ruri-params user=phone
add trunk add telco --host "127.0.0.2:$p_telco" --tel-uri
add trunk add norel --host "127.0.0.2:$p_norel" --no-100rel --caller-id +4930999000
add trunk add fo1 --host "127.0.0.2:$p_fo1"
# fo2's own address list keeps 127.0.0.3 from counting as a trunk address through it: calls from 127.0.0.3
# must be accepted because of carrier's --address alone.
add trunk add fo2 --host "127.0.0.3:$p_fo2" --address 127.0.0.8
add trunk add carrier --host 127.0.0.9:5060 --address 127.0.0.3
add route add '0[1-9]X.' --trunk prov --strip 1 --prepend +49
add route add '0800X.' --trunk telco --strip 1 --prepend +49
add route add '0900X.' --trunk norel --strip 1 --prepend +49
add route add '0555X.' --trunk fo1 --strip 1 --prepend +49 --priority 1
add route add '0555X.' --trunk fo2 --strip 1 --prepend +49 --priority 2
add did add +4930123456 --to 202
add did add +4930123457 --to 203
# The registrars listen before the server starts: the first REGISTERs find them. (`trunk add` accepts
# --expires from 60 on; the provider grants 10 s in its 200, so the refresh is due after about 5 s.)
TIMEOUT=30 provider reg provider_register 127.0.0.2 "$p_reg"
TIMEOUT=30 provider regtcp provider_register 127.0.0.2 "$p_regtcp" t1
provider reg403 provider_register_403 127.0.0.2 "$p_403"
"$bin" run --config "$tmp/toll.toml" --country-code 49 --data-dir "$data" --domain example.test \
  --listen "udp:127.0.0.1:$port" --listen "tcp:127.0.0.1:$port" --md5-first --t1-ms 100 --workers 2 --shutdown-grace 1 --log-level info ${SIPTRACE:-} > "$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "sipwarden running" "$tmp/server.log" && break; sleep 0.1; done
grep -q "sipwarden running" "$tmp/server.log" || fail "server did not start"

# ---- the cases ----
case_register_forbidden() {
  finished reg403
  local r; r=$(msg "$tmp/reg403.msg" "REGISTER ")
  has "$r" "^REGISTER sip:127\.0\.0\.2(:$p_403)? SIP/2\.0$" "REGISTER of a trunk without --from-domain: sip:HOST"
  has "$r" "^From: *<sip:acme-bad@127\.0\.0\.2(:$p_403)?>;tag=" "From of the REGISTER"
  # The retry after the back-off must find a registrar again.
  provider reg403b provider_register_403 127.0.0.2 "$p_403"
  wait_trunk reg403 " failed .*403" "a trunk answered 403 must be failed with 403 in DETAIL"
  pass "registration answered 403: trunk list shows failed, 403"
}

case_register_refresh() {
  local name tr dom r1 r2 r3 c
  for name in reg regtcp; do
    finished "$name"
    # DOMAIN: --from-domain, else the trunk's host (here with or without its port)
    if [ $name = reg ]; then tr=""; dom="provider\.test"; else tr=";transport=tcp"; dom="127\.0\.0\.2(:$p_regtcp)?"; fi
    r1=$(msg "$tmp/$name.msg" "REGISTER " 1); r2=$(msg "$tmp/$name.msg" "REGISTER " 2)
    r3=$(msg "$tmp/$name.msg" "REGISTER " 3)
    has "$r1" "^REGISTER sip:$dom SIP/2\.0$" "$name: REGISTER sip:DOMAIN"
    has "$r1" "^From: *<sip:acme-reg@$dom>;tag=" "$name: From <sip:acme-reg@DOMAIN>"
    has "$r1" "^To: *<sip:acme-reg@$dom>$" "$name: To <sip:acme-reg@DOMAIN>"
    has "$r1" "^Contact: *<sip:acme-reg@127\.0\.0\.1:$port$tr>" "$name: Contact <sip:acme-reg@127.0.0.1:$port$tr>"
    [ -n "$tr" ] || hasnt "$(hdrs "$r1")" "transport=tcp" "$name: a UDP trunk's Contact has no transport=tcp"
    has "$r1" "^Expires: *60$" "$name: Expires: 60 (--expires)"
    [ "$(cseq "$r2")" -eq $(($(cseq "$r1") + 1)) ] || fail "$name: CSeq of the REGISTER with credentials is not +1"
    [ "$(hval "$r2" Call-ID)" = "$(hval "$r1" Call-ID)" ] || fail "$name: the REGISTERs do not share a Call-ID"
    [ "$(cseq "$r3")" -gt "$(cseq "$r2")" ] || fail "$name: the refresh does not raise the CSeq"
    c=$(digest_uri "$r2" Authorization REGISTER acme-reg "$ppw" 2>&1) || fail "$name: $c"
    [ "$c" = "$(ruri "$r2")" ] || fail "$name: digest uri $c, expected the Request-URI $(ruri "$r2")"
    wait_trunk $name " registered( |$)" "$name: registered after 200"
  done
  pass "registration: 401 challenge, credentials, 200 granting 10 s, refresh 2-8 s later (UDP, TCP); trunk list shows registered"
}

case_register_backoff() {
  finished reg403b
  python3 - "$tmp/reg403.msg" "$tmp/reg403b.msg" <<'PY' || fail "the retry after 403 did not come after the 5 s back-off"
import datetime, re, sys
def first_received(path):
    m = re.search(r"^-{20,} (\d{4}-\d\d-\d\d [0-9:.]+)\n[A-Z]+ message received", open(path).read(), re.M)
    return datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
gap = (first_received(sys.argv[2]) - first_received(sys.argv[1])).total_seconds()
print("retry after 403: %.1f s" % gap)
sys.exit(0 if 4.0 <= gap <= 8.0 else 1)
PY
  pass "registration answered 403 is retried after the back-off (about 5 s)"
}

check_b2bua_invite() {  # MSG WHAT: sipwarden's own dialog towards a provider
  local m=$1
  hasnt "$(hval "$m" Call-ID)" "phonecall" "$2: the provider got the phone's Call-ID"
  [ "$(hdrs "$m" | grep -Eic '^(Via|v):')" -eq 1 ] || { hdrs "$m"; fail "$2: not exactly one Via"; }
  has "$m" "^Via: *SIP/2\.0/UDP 127\.0\.0\.1:$port;" "$2: the Via is not sipwarden's"
  has "$m" "^Contact: *<sip:([^@>]*@)?127\.0\.0\.1:${port}[;>]" "$2: the Contact is not sipwarden's"
  hasnt "$(hdrs "$m")" "^(Record-Route|Proxy-Authorization|Authorization):" "$2: Record-Route or credentials"
}

case_outbound_407() {
  provider prov provider_407_answer 127.0.0.2 "$p_prov"
  phone out407 phone_call 201 0301234567
  finished prov
  local i1 i2 ack u
  i1=$(msg "$tmp/prov.msg" "INVITE " 1); i2=$(msg "$tmp/prov.msg" "INVITE " 2); ack=$(msg "$tmp/prov.msg" "ACK " 1)
  check_b2bua_invite "$i1" "first INVITE"
  has "$i1" "^INVITE sip:\+49301234567@127\.0\.0\.2(:$p_prov)?;user=phone SIP/2\.0$" \
    "Request-URI: strip 1, prepend +49, @host, --ruri-params user=phone"
  has "$i1" "^To: *<sip:\+49301234567@127\.0\.0\.2(:$p_prov)?(;user=phone)?>$" "To names the number"
  has "$i1" "^From: *(\"[^\"]*\" *)?<sip:201@provider\.test>;tag=" "From: the extension @ --from-domain"
  has "$i1" "^Supported:.*100rel" "Supported: 100rel offered by default"
  [ "$(cseq "$ack")" = "$(cseq "$i1")" ] || fail "the ACK of the 407 has another CSeq than the INVITE"
  [ "$(cseq "$i2")" -eq $(($(cseq "$i1") + 1)) ] || fail "the INVITE with credentials has not CSeq+1"
  [ "$(hval "$i2" Call-ID)" = "$(hval "$i1" Call-ID)" ] || fail "the INVITE with credentials has another Call-ID"
  u=$(digest_uri "$i2" Proxy-Authorization INVITE acme-out "$ppw" 2>&1) || fail "INVITE credentials: $u"
  [ "$u" = "$(ruri "$i2")" ] || fail "Proxy-Authorization uri $u is not the Request-URI $(ruri "$i2")"
  has "$(msg "$tmp/prov.msg" "BYE ")" "^BYE " "the provider gets the BYE"
  pass "outbound call: dial plan, B2BUA dialog, INVITE challenged with 407, phone hangs up"
}

case_outbound_401() {
  provider prov401 provider_401_answer 127.0.0.2 "$p_prov"
  phone out401 phone_call 201 0301234568
  finished prov401
  local i1 i2 u
  i1=$(msg "$tmp/prov401.msg" "INVITE " 1); i2=$(msg "$tmp/prov401.msg" "INVITE " 2)
  check_b2bua_invite "$i1" "first INVITE"
  [ "$(cseq "$i2")" -eq $(($(cseq "$i1") + 1)) ] || fail "the INVITE with credentials has not CSeq+1"
  u=$(digest_uri "$i2" Authorization INVITE acme-out "$ppw" 2>&1) || fail "INVITE credentials: $u"
  [ "$u" = "$(ruri "$i2")" ] || fail "Authorization uri $u is not the Request-URI $(ruri "$i2")"
  pass "outbound call: INVITE challenged with 401, Authorization verified"
}

case_outbound_tel_100rel() {
  provider telco provider_100rel_bye 127.0.0.2 "$p_telco"
  phone outtel phone_call_wait_bye 203 0800123456
  finished telco
  local i pr
  i=$(msg "$tmp/telco.msg" "INVITE "); pr=$(msg "$tmp/telco.msg" "PRACK ")
  check_b2bua_invite "$i" "INVITE"
  has "$i" "^INVITE tel:\+49800123456 SIP/2\.0$" "--tel-uri: Request-URI tel:+49800123456 (the more specific route)"
  has "$i" "^To: *<tel:\+49800123456>$" "--tel-uri: To <tel:+49800123456>"
  has "$i" "^From: *(\"[^\"]*\" *)?<sip:\+4930123457@127\.0\.0\.2(:$p_telco)?>;tag=" "From: the caller's DID @ host"
  has "$pr" "^RAck: *1 $(cseq "$i") INVITE$" "PRACK: RAck 1 $(cseq "$i") INVITE"
  [ "$(cseq "$pr")" -gt "$(cseq "$i")" ] || fail "the PRACK's CSeq is not above the INVITE's"
  [ "$(hval "$pr" Call-ID)" = "$(hval "$i" Call-ID)" ] || fail "the PRACK is not in the INVITE's dialog"
  pass "outbound call: tel: URI, DID as caller ID, reliable 183 PRACKed, the provider hangs up"
}

case_outbound_no100rel() {
  provider norel provider_no100rel 127.0.0.2 "$p_norel"
  phone outnorel phone_call 201 0900123456
  finished norel
  local i; i=$(msg "$tmp/norel.msg" "INVITE ")
  check_b2bua_invite "$i" "INVITE"
  has "$i" "^INVITE sip:\+49900123456@127\.0\.0\.2(:$p_norel)? SIP/2\.0$" "Request-URI sip:+49900123456@host"
  has "$i" "^From: *(\"[^\"]*\" *)?<sip:\+4930999000@127\.0\.0\.2(:$p_norel)?>;tag=" "From: --caller-id"
  hasnt "$i" "100rel" "--no-100rel: 100rel in the INVITE"
  [ "$(count "$tmp/norel.msg" "PRACK ")" -eq 0 ] || fail "--no-100rel: a PRACK"
  pass "outbound call: --no-100rel (no 100rel, no PRACK), --caller-id"
}

case_phone_requires_100rel() {
  provider prov100 provider_answer 127.0.0.2 "$p_prov"
  phone out100rel phone_call_100rel 204 0701234567
  finished prov100
  local i r
  i=$(msg "$tmp/prov100.msg" "INVITE ")
  check_b2bua_invite "$i" "INVITE"
  has "$i" "^From: *(\"[^\"]*\" *)?<sip:204@provider\.test>;tag=" "From: the extension"
  r=$(nth "$tmp/out100rel.msg" "SIP/2.0 180 " || nth "$tmp/out100rel.msg" "SIP/2.0 183 ") ||
    fail "the phone got no 18x"
  has "$r" "^Require: *.*100rel" "the 18x towards the phone requires 100rel"
  has "$r" "^RSeq: *[0-9]+$" "the 18x towards the phone has an RSeq"
  pass "a phone requiring 100rel gets a reliable 18x, PRACK answered 200, then 200"
}

case_failover() {
  provider fo1 provider_503 127.0.0.2 "$p_fo1"
  provider fo2 provider_answer 127.0.0.3 "$p_fo2"
  phone outfo phone_call 201 0555123456
  finished fo1
  finished fo2
  local i1 a1 i2
  i1=$(msg "$tmp/fo1.msg" "INVITE "); a1=$(msg "$tmp/fo1.msg" "ACK "); i2=$(msg "$tmp/fo2.msg" "INVITE ")
  has "$i1" "^INVITE sip:\+49555123456@127\.0\.0\.2(:$p_fo1)? SIP/2\.0$" "the first trunk (priority 1) first"
  [ "$(cseq "$a1")" = "$(cseq "$i1")" ] || fail "the ACK of the 503 has another CSeq"
  check_b2bua_invite "$i2" "INVITE to the second trunk"
  has "$i2" "^INVITE sip:\+49555123456@127\.0\.0\.3(:$p_fo2)? SIP/2\.0$" "then the second trunk"
  [ "$(count "$tmp/outfo.msg" "SIP/2.0 503")" -eq 0 ] || fail "the phone saw the 503"
  pass "failover: 503 from the first trunk (ACKed), the call connects through the second"
}

case_inbound_sip() {
  provider ph202a phone_answer_in 127.0.0.1 "$p_202"
  local rc=0
  sipp "127.0.0.1:$port" -sf "$here/sipp/calls/register.xml" -inf "$(inf 202)" -key contact "127.0.0.1:$p_202" \
    -i 127.0.0.1 -t u1 -m 1 -nostdin -timeout 10 -timeout_error -trace_err -error_file "$tmp/reg202.err" \
    > "$tmp/reg202.out" 2>&1 || rc=$?
  [ $rc -eq 0 ] || fail "registering 202: sipp exit status $rc"
  # A host that is no trunk: challenged like any client, and the phone must not ring (its sipp takes one
  # INVITE, and checks it is the provider's call below).
  caller_in stranger provider_call_in_rogue 127.0.0.4 "sip:+4930123456@127.0.0.1:$port;user=phone"
  caller_in insip provider_call_in 127.0.0.3 "sip:+4930123456@127.0.0.1:$port;user=phone"
  finished ph202a
  [ "$(count "$tmp/ph202a.msg" "INVITE ")" -eq 1 ] || fail "phone 202 got more than the one INVITE"
  local i; i=$(msg "$tmp/ph202a.msg" "INVITE ")
  has "$i" "^From: *(\"[^\"]*\" *)?<(sip:\+4917012345@[^>]+|tel:\+4917012345)>;tag=" "From: the provider's caller"
  [ "$(hval "$i" Call-ID)" != "$(hval "$(msg "$tmp/insip.msg" "SIP/2.0 200")" Call-ID)" ] ||
    fail "phone 202 got the provider's Call-ID"
  has "$(msg "$tmp/ph202a.msg" "BYE ")" "^BYE " "the provider's BYE reaches the phone"
  pass "inbound call from a trunk address to a DID (sip:...;user=phone) rings 202; from another host: 407, nothing rings"
}

case_inbound_tel() {
  provider ph202b phone_answer_in 127.0.0.1 "$p_202"
  caller_in intel provider_call_in 127.0.0.3 "tel:+4930123456"
  finished ph202b
  pass "inbound call to a DID with a tel: Request-URI rings 202"
}

case_inbound_unknown() {
  caller_in in404 provider_call_in_404 127.0.0.3 "sip:+4930999999@127.0.0.1:$port;user=phone"
  pass "inbound call from a trunk to an unknown number: 404"
}

case_register_forbidden
case_register_refresh
case_register_backoff
case_outbound_407
case_outbound_401
case_outbound_tel_100rel
case_outbound_no100rel
case_phone_requires_100rel
case_failover
case_inbound_sip
case_inbound_tel
case_inbound_unknown

kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?; pid=""
[ $rc -eq 0 ] || fail "exit status $rc after SIGTERM"
echo "trunk_test: all passed"
