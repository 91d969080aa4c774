#!/usr/bin/env bash
# `sipwarden run --config FILE`: settings from TOML, flags win over the file, unknown keys and bad values
# stop the start with a message naming the key.
set -euo pipefail
bin=${SIPWARDEN:?}
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

expect_refused() {  # file-content expected-text
  printf '%s\n' "$1" > "$tmp/bad.toml"
  set +e
  out=$("$bin" run --config "$tmp/bad.toml" --data-dir "$tmp/var" 2>&1); rc=$?
  set -e
  [ $rc -eq 2 ] || fail "exit $rc for: $1"
  echo "$out" | grep -qF "$2" || fail "message for '$1' was: $out"
}
expect_refused 'listne = ["udp:127.0.0.1:5060"]' "listne: unknown setting"
expect_refused 't1_ms = "fast"' "t1_ms: must be a number"
expect_refused 't1_ms = 5' "t1_ms: must be between"
expect_refused 'log_level = "loud"' "log_level: must be one of"
expect_refused '[tls]
keyfile = "x"' "tls.keyfile: unknown setting"
expect_refused 'listen = "udp:127.0.0.1:5060"' "listen: must be a list of strings"
expect_refused 'listen = ["udp:127.0.0.1"]' "missing port"
expect_refused 'listen = [' "bad.toml:"
expect_refused 'sip_dscp = 70' "sip_dscp: must be a DSCP from 0 to 63"
expect_refused 'refresh_write_delay = 11' "refresh_write_delay: must be between"
expect_refused 'refresh_write_delay = "soon"' "refresh_write_delay: must be a number"
expect_refused '[media]
dscp = 64' "media.dscp: must be a DSCP from 0 to 63"
expect_refused '[media]
dscp = "ef"' "media.dscp: must be a DSCP"

port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
cat > "$tmp/good.toml" <<TOML
# sipwarden configuration
listen = ["udp:127.0.0.1:1"]
domains = ["config.test"]
data_dir = "$tmp/from-config"
log_level = "debug"
t1_ms = 250
shutdown_grace = 1
sip_dscp = 40
refresh_write_delay = 0.5
[media]
dscp = 34
[tls]
verify_client = false
TOML
# The file's listen is overridden by the flag; its data_dir is used.
"$bin" run --config "$tmp/good.toml" --listen "udp:127.0.0.1:$port" > "$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "sipwarden running" "$tmp/server.log" && break; sleep 0.1; done
grep -q "listening on udp:127.0.0.1:$port" "$tmp/server.log" || fail "flag did not win: $(cat "$tmp/server.log")"
grep -q "data in $tmp/from-config" "$tmp/server.log" || fail "data_dir from the file not used"
[ -d "$tmp/from-config" ] || fail "data folder not made"
# The server's answers leave with the file's DSCP (40 -> TOS byte 0xa0).
tos=$(python3 - "$port" <<'PY'
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
s.bind(("127.0.0.1", 0))
s.settimeout(3)
me = s.getsockname()[1]
msg = (f"OPTIONS sip:config.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK-dscp-1;rport\r\n"
       f"Max-Forwards: 70\r\nFrom: <sip:probe@config.test>;tag=1\r\nTo: <sip:config.test>\r\n"
       f"Call-ID: dscp-probe\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
s.sendto(msg.encode(), ("127.0.0.1", port))
data, anc, flags, addr = s.recvmsg(65536, socket.CMSG_SPACE(4))
print(next((d[0] for level, kind, d in anc if level == socket.IPPROTO_IP and kind == socket.IP_TOS), -1),
      data.split(b"\r\n")[0].decode())
PY
)
[ "${tos%% *}" = 160 ] || fail "the answer's TOS byte: $tos (want 160: DSCP 40)"
kill -TERM "$pid"; wait "$pid" || fail "exit status after SIGTERM"; pid=""
echo "config_test: all passed"
