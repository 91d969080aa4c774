#!/usr/bin/env bash
# `sipwarden trunk|route|did ...`: trunks, the dial plan and DIDs in DATA_DIR/sipwarden.db. A trunk's
# password is stored only sealed (key in DATA_DIR/secret.key) and never appears in a file or an output;
# a trunk in use by a route cannot be removed; bad patterns, unknown trunks and unknown users are refused.
set -euo pipefail
bin=${SIPWARDEN:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
data="$tmp/var"
outputs="$tmp/outputs"  # every stdout and stderr of the run, searched for the password at the end
: > "$outputs"
sw() {
  local rc=0
  "$bin" "$@" --data-dir "$data" > "$tmp/out" 2> "$tmp/err" || rc=$?
  cat "$tmp/out" "$tmp/err" >> "$outputs"
  return $rc
}
expect_rc() {  # expected-status expected-stderr-text command...
  local want=$1 text=$2; shift 2
  local rc=0
  "$@" || rc=$?
  [ $rc -eq "$want" ] || fail "exit $rc (expected $want) for: $* ($(cat "$tmp/err"))"
  grep -qF -- "$text" "$tmp/err" || fail "stderr for '$*' was: $(cat "$tmp/err")"
}
password='Tr0nk-s3cret-XyZ-4471'

# --- help: every command explains its options.
for cmd in "trunk" "trunk add" "trunk list" "trunk remove" "route" "route add" "route list" "route remove" \
           "did" "did add" "did list" "did remove"; do
  # shellcheck disable=SC2086
  "$bin" $cmd --help > "$tmp/help" 2>&1 || fail "$cmd --help exited non-zero"
  grep -q -- "--data-dir" "$tmp/help" || [ "${cmd#* }" = "$cmd" ] || fail "$cmd --help has no --data-dir"
done
"$bin" trunk add --help > "$tmp/help"
for opt in --host --transport --username --password-stdin --register --expires --from-domain --address \
           --tel-uri --ruri-params --no-100rel --caller-id; do
  grep -q -- "$opt" "$tmp/help" || fail "trunk add --help does not explain $opt"
done
"$bin" route add --help > "$tmp/help"
for opt in --trunk --strip --prepend --priority; do
  grep -q -- "$opt" "$tmp/help" || fail "route add --help does not explain $opt"
done
grep -q -- "--to" <("$bin" did add --help) || fail "did add --help does not explain --to"

# --- trunk add: a registering trunk with its password from stdin; a plain IP trunk with options.
printf '%s\r\n' "$password" | sw trunk add sipgate --host sip.example.net --username acct42 \
  --password-stdin --register --expires 300 || fail "trunk add sipgate: $(cat "$tmp/err")"
grep -q "added trunk sipgate" "$tmp/out" || fail "add said: $(cat "$tmp/out")"
[ "$(stat -c %a "$data/secret.key")" = 600 ] || fail "secret.key mode $(stat -c %a "$data/secret.key")"
[ "$(tr -d '\n' < "$data/secret.key" | wc -c)" -eq 64 ] || fail "secret.key is not 64 hex digits"
sw trunk add gw6 --host '[::1]:5080' --transport tcp --tel-uri --ruri-params user=phone --no-100rel \
  --address 127.0.0.3/32 --address 2001:db8::/32 --caller-id '+49 30 1234-0' || fail "trunk add gw6: $(cat "$tmp/err")"

expect_rc 1 "trunk sipgate exists" sw trunk add sipgate --host other.example.net
expect_rc 1 "a trunk name has" sw trunk add "bad name" --host sip.example.net
expect_rc 1 "--host" sw trunk add t2 --host 'sip.example.net:99999'
expect_rc 1 "--host" sw trunk add t2 --host '[::1'
expect_rc 1 "--host" sw trunk add t2 --host 'exa mple.net'
expect_rc 1 "--address 10.0.0.0/33" sw trunk add t2 --host sip.example.net --address 10.0.0.0/33
expect_rc 1 "--register needs --username" sw trunk add t2 --host sip.example.net --register
expect_rc 1 "--register needs a password" sw trunk add t2 --host sip.example.net --register --username u
expect_rc 1 "no password on stdin" sw trunk add t2 --host sip.example.net --username u --password-stdin < /dev/null
expect_rc 1 "--caller-id" sw trunk add t2 --host sip.example.net --caller-id alice
expect_rc 2 "--expires" sw trunk add t2 --host sip.example.net --expires 30
expect_rc 2 "transport" sw trunk add t2 --host sip.example.net --transport sctp

# --- list: host:port, transport, register state, options; never the password.
sw trunk list || fail "trunk list: $(cat "$tmp/err")"
list=$(cat "$tmp/out")
echo "$list" | grep -Eq '^NAME +HOST +TRANSPORT +REGISTER +STATE +DETAIL +OPTIONS$' || fail "list header: $list"
echo "$list" | grep -Eq '^sipgate +sip\.example\.net:5060 +udp +yes +- +- +user=acct42 expires=300$' ||
  fail "list sipgate: $list"
echo "$list" | grep -Eq '^gw6 +\[::1\]:5080 +tcp +no +not registering +- +tel-uri ruri=user=phone no-100rel addresses=127\.0\.0\.3/32,2001:db8::/32 caller-id=\+493012340$' ||
  fail "list gw6: $list"
if command -v sqlite3 > /dev/null; then
  # A status as the running server writes it.
  now=$(date +%s)
  sqlite3 "$data/sipwarden.db" \
    "INSERT INTO trunk_status VALUES('sipgate', 'registered', 'sip:acct42@192.0.2.1', $((now + 250)), $now)"
  sw trunk list
  grep -Eq '^sipgate .* registered +expires in (24[0-9]|250)s ' "$tmp/out" || fail "registered status: $(cat "$tmp/out")"
  [ "$(sqlite3 "$data/sipwarden.db" "SELECT secret LIKE 'v1:%' FROM trunks WHERE name = 'sipgate'")" = 1 ] ||
    fail "the stored secret is not sealed"
else
  echo "sqlite3 not installed: the status and sealed-secret checks are skipped"
fi

# --- routes: patterns validated, trunks must exist; a trunk in use cannot be removed.
sw route add 0Z. --trunk sipgate --strip 1 --prepend +49 || fail "route add: $(cat "$tmp/err")"
sw route add 00x. --trunk gw6 --strip 2 --prepend + --priority 5 || fail "route add 00x.: $(cat "$tmp/err")"
sw route add 00X. --trunk sipgate --priority 20 || fail "route add 00X. via sipgate: $(cat "$tmp/err")"
expect_rc 1 "route 00X. via gw6 exists" sw route add 00X. --trunk gw6
expect_rc 1 "pattern 0.1:" sw route add 0.1 --trunk sipgate
expect_rc 1 "pattern [5-1]:" sw route add '[5-1]' --trunk sipgate
expect_rc 1 "pattern 0Y:" sw route add 0Y --trunk sipgate
expect_rc 1 "no such trunk nobody" sw route add 00. --trunk nobody
expect_rc 1 "--prepend" sw route add 1. --trunk sipgate --prepend 4+9
expect_rc 2 "--trunk" sw route add 1.
sw route list || fail "route list"
list=$(cat "$tmp/out")
echo "$list" | grep -Eq '^PATTERN +TRUNK +STRIP +PREPEND +PRIORITY +CLASS$' || fail "route list header: $list"
[ "$(echo "$list" | sed -n 2p | tr -s ' ')" = "00X. gw6 2 + 5 -" ] || fail "route list order: $list"
[ "$(echo "$list" | sed -n 3p | tr -s ' ')" = "00X. sipgate 0 - 20 -" ] || fail "route list order: $list"
[ "$(echo "$list" | sed -n 4p | tr -s ' ')" = "0Z. sipgate 1 +49 10 -" ] || fail "route list order: $list"

expect_rc 1 "routes use trunk sipgate" sw trunk remove sipgate
sw trunk list
grep -q '^sipgate ' "$tmp/out" || fail "a refused remove removed the trunk"
expect_rc 1 "no route 00X. via nobody" sw route remove 00X. --trunk nobody
sw route remove 00x. --trunk sipgate || fail "route remove one trunk: $(cat "$tmp/err")"
sw route list
grep -q '^00X\. *gw6' "$tmp/out" || fail "removing one trunk's route removed the other: $(cat "$tmp/out")"
sw route remove 0Z. || fail "route remove: $(cat "$tmp/err")"
expect_rc 1 "no route 0Z." sw route remove 0Z.
sw trunk remove sipgate || fail "trunk remove: $(cat "$tmp/err")"
grep -q "removed trunk sipgate" "$tmp/out" || fail "remove said: $(cat "$tmp/out")"
expect_rc 1 "no such trunk sipgate" sw trunk remove sipgate
expect_rc 1 "routes use trunk gw6" sw trunk remove gw6

# --- DIDs: only for existing users, one extension per number, normalized.
printf 'Ext-Alice-Passw0rd-77\n' | sw user add 201 --password-stdin || fail "user add: $(cat "$tmp/err")"
expect_rc 1 "no such user 999" sw did add +4930123456 --to 999
expect_rc 1 "not a phone number" sw did add 030-CALL-ME --to 201
sw did add '+49 (30) 123456' --to 201 || fail "did add: $(cat "$tmp/err")"
grep -q "DID +4930123456 rings 201" "$tmp/out" || fail "did add said: $(cat "$tmp/out")"
expect_rc 1 "DID +4930123456 rings 201 already" sw did add +4930123456 --to 201
sw did add 4930999 --to 201
sw did list
list=$(cat "$tmp/out")
[ "$(echo "$list" | sed -n 1p | tr -s ' ')" = "NUMBER USER" ] || fail "did list header: $list"
[ "$(echo "$list" | sed -n 2p | tr -s ' ')" = "+4930123456 201" ] || fail "did list: $list"
[ "$(echo "$list" | sed -n 3p | tr -s ' ')" = "4930999 201" ] || fail "did list: $list"
sw did remove +49-30-123456 || fail "did remove: $(cat "$tmp/err")"
expect_rc 1 "no such DID +4930123456" sw did remove +4930123456
sw did list
grep -q '+4930123456' "$tmp/out" && fail "did remove left the number"

# --- the password is nowhere: not in any file of DATA_DIR (the database, its journal, the key) nor in
# anything printed.
grep -rqF -- "$password" "$data" && fail "the password is stored in plain text under DATA_DIR"
grep -qF -- "$password" "$outputs" && fail "the password appeared in an output"
grep -qF -- "$password" <("$bin" trunk list --data-dir "$data" 2>&1) && fail "trunk list shows the password"
echo "trunk_cli: ok"
