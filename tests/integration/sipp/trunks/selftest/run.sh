#!/usr/bin/env bash
# Self-test of the trunk scenarios without sipwarden: every scenario that trunk_test.sh runs is played
# against a sipp scenario of this folder that does sipwarden's part as the specification describes it
# (sw_*.xml), on loopback addresses. It shows that sipp 3.6 accepts the XML and that the message flows
# complete; it says nothing about sipwarden. Not run by ctest: `bash tests/integration/sipp/trunks/selftest/run.sh`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sc=$(dirname "$here")
tmp=$(mktemp -d)
bg=()
cleanup() {
  for p in "${bg[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/*.err; do [ -s "$f" ] && { echo "== $f"; head -20 "$f"; }; done; exit 1; }
free_port() {  # IP: a UDP and TCP port free on IP
  python3 - "$1" <<'PY'
import socket, sys
for _ in range(50):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((sys.argv[1], 0)); p = u.getsockname()[1]
    t = socket.socket()
    try:
        t.bind((sys.argv[1], p)); print(p); break
    except OSError:
        pass
    finally:
        t.close(); u.close()
PY
}
wait_bound() {  # IP PORT udp|tcp: until a socket listens there (at most 5 s)
  local opt=-uln; [ "$3" = tcp ] && opt=-tln
  for _ in $(seq 50); do ss -H $opt "src $1:$2" 2>/dev/null | grep -q . && return 0; sleep 0.1; done
  fail "nothing listens on $1:$2/$3"
}
md5() { printf '%s' "$1" | md5sum | cut -d' ' -f1; }
digest() {  # user pw method uri nonce nc cnonce
  local ha1 ha2; ha1=$(md5 "$1:provider.test:$2"); ha2=$(md5 "$3:$4")
  md5 "$ha1:$5:$6:$7:auth:$ha2"
}
pw="Trunk-Prov-pass-7731"
printf 'SEQUENTIAL\n201;[authentication username=201 password=Trunk-Test-pass-7731];example.test\n' > "$tmp/201.inf"
n=0
pair() {  # UAS-SCENARIO UAS-IP TRANSPORT UAC-SCENARIO UAC-IP [UAC ARGS...]: UAS and UAC both succeed
  local uas=$1 ip=$2 tr=$3 uac=$4 uip=$5 p t=u1 proto=udp; shift 5
  [ "$tr" = t ] && { t=t1; proto=tcp; }
  n=$((n + 1))
  p=$(free_port "$ip")
  sipp -sf "$uas" -i "$ip" -p "$p" -t $t -m 1 -nostdin -timeout 20 -timeout_error \
    -trace_err -error_file "$tmp/$n-uas.err" > "$tmp/$n-uas.out" 2>&1 &
  local up=$!; bg+=("$up")
  wait_bound "$ip" "$p" $proto
  local k=() a
  for a in "$@"; do k+=("${a//@PORT@/$p}"); done
  sipp "$ip:$p" -sf "$uac" -i "$uip" -t $t -m 1 -nostdin -timeout 20 -timeout_error \
    -trace_err -error_file "$tmp/$n-uac.err" "${k[@]}" > "$tmp/$n-uac.out" 2>&1 || fail "$(basename "$uac") against $(basename "$uas")"
  local rc=0; wait $up || rc=$?
  [ $rc -eq 0 ] || fail "$(basename "$uas") (against $(basename "$uac")) exit status $rc"
  echo "ok: $(basename "$uas") <- $(basename "$uac")"
}
cn=0a1b2c3d
reg_keys() {  # dom: the digest responses for the emulated REGISTERs
  echo -key dom "$1" -key user acme-reg -key cnonce $cn \
    -key r1 "$(digest acme-reg $pw REGISTER "sip:$1" nonce1a2b3c4d 00000001 $cn)" \
    -key r2 "$(digest acme-reg $pw REGISTER "sip:$1" nonce5e6f7a8b 00000001 $cn)" \
    -key r3 "$(digest acme-reg $pw REGISTER "sip:$1" nonce1a2b3c4d 00000002 $cn)"
}
# shellcheck disable=SC2046
pair "$sc/provider_register.xml" 127.0.0.2 u "$here/sw_register_rechallenged.xml" 127.0.0.1 $(reg_keys provider.test) -key cparams ""
# shellcheck disable=SC2046
pair "$sc/provider_register.xml" 127.0.0.2 t "$here/sw_register_reuse.xml" 127.0.0.1 $(reg_keys 127.0.0.2) -key cparams ";transport=tcp"
pair "$sc/provider_register_403.xml" 127.0.0.2 u "$here/sw_register_403.xml" 127.0.0.1 -key dom 127.0.0.2 -key user acme-bad -key cparams ""
pair "$sc/provider_407_answer.xml" 127.0.0.2 u "$here/sw_call_auth.xml" 127.0.0.1 -key ruri "sip:+49301234567@127.0.0.2:@PORT@;user=phone"
pair "$sc/provider_401_answer.xml" 127.0.0.2 u "$here/sw_call_auth.xml" 127.0.0.1 -key ruri "sip:+49301234568@127.0.0.2:@PORT@;user=phone"
pair "$sc/provider_answer.xml" 127.0.0.3 u "$here/sw_call_plain.xml" 127.0.0.1 -key ruri "sip:+49555123456@127.0.0.3:@PORT@"
pair "$sc/provider_no100rel.xml" 127.0.0.2 u "$here/sw_call_plain.xml" 127.0.0.1 -key ruri "sip:+49900123456@127.0.0.2:@PORT@"
pair "$sc/provider_100rel_bye.xml" 127.0.0.2 u "$here/sw_call_100rel.xml" 127.0.0.1 -key ruri "tel:+49800123456"
pair "$sc/provider_503.xml" 127.0.0.2 u "$here/sw_call_503.xml" 127.0.0.1 -key ruri "sip:+49555123456@127.0.0.2:@PORT@"
pair "$here/sw_phone_side.xml" 127.0.0.1 u "$sc/phone_call.xml" 127.0.0.1 -inf "$tmp/201.inf" -s 0301234567 -cid_str 'phonecall-%u-%p@%s'
pair "$here/sw_phone_side_bye.xml" 127.0.0.1 u "$sc/phone_call_wait_bye.xml" 127.0.0.1 -inf "$tmp/201.inf" -s 0800123456 -cid_str 'phonecall-%u-%p@%s'
pair "$here/sw_phone_side_100rel.xml" 127.0.0.1 u "$sc/phone_call_100rel.xml" 127.0.0.1 -inf "$tmp/201.inf" -s 0701234567 -cid_str 'phonecall-%u-%p@%s'
pair "$here/sw_inbound.xml" 127.0.0.1 u "$sc/provider_call_in.xml" 127.0.0.3 -key ruri "sip:+4930123456@127.0.0.1:@PORT@;user=phone" -cid_str 'provcall-%u-%p@%s'
pair "$here/sw_inbound.xml" 127.0.0.1 u "$sc/provider_call_in.xml" 127.0.0.3 -key ruri "tel:+4930123456" -cid_str 'provcall-%u-%p@%s'
pair "$here/sw_refuse_404.xml" 127.0.0.1 u "$sc/provider_call_in_404.xml" 127.0.0.3 -key ruri "sip:+4930999999@127.0.0.1:@PORT@;user=phone"
pair "$here/sw_refuse_407.xml" 127.0.0.1 u "$sc/provider_call_in_rogue.xml" 127.0.0.4 -key ruri "sip:+4930123456@127.0.0.1:@PORT@;user=phone"
pair "$sc/phone_answer_in.xml" 127.0.0.1 u "$here/sw_to_phone.xml" 127.0.0.1
echo "selftest: all $n scenario pairs completed"
