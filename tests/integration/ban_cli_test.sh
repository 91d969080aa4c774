#!/usr/bin/env bash
# `sipwarden ban list|add|remove` and `sipwarden acl list|add|remove`: bans and allow/deny networks in
# DATA_DIR/sipwarden.db. Addresses and networks are checked and kept in one normal form; a ban shows when
# it ends, and an ended one is shown as expired; an invalid address or network is refused with exit 1.
set -euo pipefail
bin=${SIPWARDEN:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
data="$tmp/var"
sw() {
  local rc=0
  "$bin" "$@" --data-dir "$data" > "$tmp/out" 2> "$tmp/err" || rc=$?
  return $rc
}
expect_rc() {  # expected-status expected-stderr-text command...
  local want=$1 text=$2; shift 2
  local rc=0
  "$@" || rc=$?
  [ $rc -eq "$want" ] || fail "exit $rc (expected $want) for: $* ($(cat "$tmp/err"))"
  grep -qF -- "$text" "$tmp/err" || fail "stderr for '$*' was: $(cat "$tmp/err")"
}
row() {  # the listing's line for the first column $1, spaces squeezed
  awk -v k="$1" '$1 == k' "$tmp/out" | tr -s ' '
}

# --- help: every command explains itself and its options.
for cmd in "ban" "ban list" "ban add" "ban remove" "acl" "acl list" "acl add" "acl remove"; do
  # shellcheck disable=SC2086
  "$bin" $cmd --help > "$tmp/help" 2>&1 || fail "$cmd --help exited non-zero"
  grep -q -- "--data-dir" "$tmp/help" || [ "${cmd#* }" = "$cmd" ] || fail "$cmd --help has no --data-dir"
done
"$bin" ban add --help > "$tmp/help"
for opt in --for --reason "default 3600"; do
  grep -q -- "$opt" "$tmp/help" || fail "ban add --help does not explain $opt"
done
"$bin" acl add --help > "$tmp/help"
for opt in --allow --deny --user; do
  grep -q -- "$opt" "$tmp/help" || fail "acl add --help does not explain $opt"
done

# --- ban add: addresses of both families, normalised; bad ones refused.
sw ban list || fail "ban list on a new store: $(cat "$tmp/err")"
grep -qx "no bans" "$tmp/out" || fail "empty list said: $(cat "$tmp/out")"
sw ban add 192.0.2.7 --reason "password guessing" || fail "ban add: $(cat "$tmp/err")"
grep -Eq '^banned 192\.0\.2\.7 for 1h 0m 0s \(until [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}Z\)$' "$tmp/out" ||
  fail "ban add said: $(cat "$tmp/out")"
sw ban add ::ffff:198.51.100.9 --for 120 || fail "ban add mapped: $(cat "$tmp/err")"
grep -q "^banned 198.51.100.9 for 2m 0s" "$tmp/out" || fail "a mapped address was not written as IPv4: $(cat "$tmp/out")"
sw ban add '[2001:DB8::1]' --for 172800 --reason scanner || fail "ban add IPv6: $(cat "$tmp/err")"
grep -q "^banned 2001:db8::1 for 2d 0h" "$tmp/out" || fail "ban add IPv6 said: $(cat "$tmp/out")"
for bad in 192.0.2.0/24 example.com 999.1.1.1 "192.0.2.7:5060" ""; do
  expect_rc 1 "not an IP address" sw ban add "$bad"
done
expect_rc 2 "--for" sw ban add 192.0.2.8 --for 0
expect_rc 2 "--for" sw ban add 192.0.2.8 --for soon
expect_rc 1 "--reason: at most 200" sw ban add 192.0.2.8 --reason "$(printf 'x%.0s' {1..201})"
expect_rc 2 "ADDRESS" sw ban add

# --- list: when each ban ends and how much is left; an ended ban shows as expired.
sw ban add 203.0.113.5 --for 1 --reason short || fail "ban add --for 1: $(cat "$tmp/err")"
sleep 2
sw ban list || fail "ban list: $(cat "$tmp/err")"
head -1 "$tmp/out" | grep -Eq '^ADDRESS +UNTIL +EXPIRES +COUNT +REASON$' || fail "list header: $(cat "$tmp/out")"
[ "$(wc -l < "$tmp/out")" -eq 5 ] || fail "list has not four bans: $(cat "$tmp/out")"
row 192.0.2.7 | grep -Eq '^192\.0\.2\.7 [0-9-]+ [0-9:]+Z in (59m 5[0-9]s|1h 0m 0s) 1 password guessing$' ||
  fail "list 192.0.2.7: $(cat "$tmp/out")"
row 198.51.100.9 | grep -Eq ' in (1m 5[0-9]s|2m 0s) 1 manual$' || fail "list 198.51.100.9: $(cat "$tmp/out")"
row 2001:db8::1 | grep -Eq ' in (1d 23h|2d 0h) 1 scanner$' || fail "list 2001:db8::1: $(cat "$tmp/out")"
row 203.0.113.5 | grep -Eq ' expired 1 short$' || fail "an ended ban is not shown as expired: $(cat "$tmp/out")"

# --- banning again sets the new end and counts.
sw ban add 192.0.2.7 --for 60 --reason again || fail "ban add again: $(cat "$tmp/err")"
sw ban list
row 192.0.2.7 | grep -Eq ' in (5[0-9]s|1m 0s) 2 again$' || fail "a repeated ban: $(cat "$tmp/out")"

# --- remove: by any spelling of the address; a second remove is refused.
sw ban remove ::ffff:198.51.100.9 || fail "ban remove: $(cat "$tmp/err")"
grep -qx "removed the ban of 198.51.100.9" "$tmp/out" || fail "remove said: $(cat "$tmp/out")"
expect_rc 1 "no ban for 198.51.100.9" sw ban remove 198.51.100.9
expect_rc 1 "not an IP address" sw ban remove bogus
sw ban list
row 198.51.100.9 | grep -q . && fail "a removed ban is still listed: $(cat "$tmp/out")"
row 192.0.2.7 | grep -q . || fail "remove took another ban: $(cat "$tmp/out")"

# --- acl: networks normalised, kinds exclusive, per-user entries only for users that exist.
sw acl list || fail "acl list: $(cat "$tmp/err")"
grep -qx "no acl entries" "$tmp/out" || fail "empty acl said: $(cat "$tmp/out")"
sw acl add 10.1.2.3/8 --allow || fail "acl add: $(cat "$tmp/err")"
grep -qx "acl allow 10.0.0.0/8" "$tmp/out" || fail "acl add said: $(cat "$tmp/out")"
expect_rc 1 "acl allow 10.0.0.0/8 exists" sw acl add 10.0.0.0/8 --allow
expect_rc 1 "--allow or --deny" sw acl add 172.16.0.0/12
expect_rc 2 "excludes" sw acl add 172.16.0.0/12 --allow --deny
expect_rc 1 "10.0.0.0/33: not a network" sw acl add 10.0.0.0/33 --deny
expect_rc 1 "bogus: not a network" sw acl add 172.16.0.0/12 bogus --deny
sw acl add 192.0.2.0/24 2001:db8::/32 --deny || fail "acl add two: $(cat "$tmp/err")"
expect_rc 1 "no such user 201" sw acl add 10.0.0.0/8 --allow --user 201
printf 'Ext-Alice-Passw0rd-77\n' | sw user add 201 --password-stdin || fail "user add: $(cat "$tmp/err")"
sw acl add 10.0.0.0/8 --allow --user 201 || fail "acl add --user: $(cat "$tmp/err")"
grep -qx "acl allow 10.0.0.0/8 for 201" "$tmp/out" || fail "acl add --user said: $(cat "$tmp/out")"
sw acl list
[ "$(sed -n 1p "$tmp/out" | tr -s ' ')" = "KIND NETWORK USER" ] || fail "acl list header: $(cat "$tmp/out")"
[ "$(sed -n 2p "$tmp/out" | tr -s ' ')" = "allow 10.0.0.0/8 -" ] || fail "acl list: $(cat "$tmp/out")"
[ "$(sed -n 3p "$tmp/out" | tr -s ' ')" = "deny 192.0.2.0/24 -" ] || fail "acl list: $(cat "$tmp/out")"
[ "$(sed -n 4p "$tmp/out" | tr -s ' ')" = "deny 2001:db8::/32 -" ] || fail "acl list: $(cat "$tmp/out")"
[ "$(sed -n 5p "$tmp/out" | tr -s ' ')" = "allow 10.0.0.0/8 201" ] || fail "acl list: $(cat "$tmp/out")"
grep -q "172.16" "$tmp/out" && fail "a refused add wrote part of its networks: $(cat "$tmp/out")"

# --- a ban of an exempt address is kept but said to have no effect.
sw ban add 10.9.9.9 || fail "ban add exempt: $(cat "$tmp/err")"
grep -q "note: 10.9.9.9 is in an allow network" "$tmp/out" || fail "no note for an exempt ban: $(cat "$tmp/out")"

# --- acl remove: one kind, both kinds, the user's own.
sw acl remove 192.0.2.0/24 || fail "acl remove: $(cat "$tmp/err")"
grep -qx "removed acl 192.0.2.0/24" "$tmp/out" || fail "acl remove said: $(cat "$tmp/out")"
expect_rc 1 "no acl entry 192.0.2.0/24" sw acl remove 192.0.2.0/24
expect_rc 1 "no acl deny 10.0.0.0/8" sw acl remove 10.0.0.0/8 --deny
sw acl remove 10.0.0.0/8 --allow --user 201 || fail "acl remove --user: $(cat "$tmp/err")"
sw acl list
grep -q " 201$" "$tmp/out" && fail "the user's entry is still listed: $(cat "$tmp/out")"
grep -q "^allow  *10.0.0.0/8" "$tmp/out" || fail "removing the user's entry took the global one: $(cat "$tmp/out")"

if command -v sqlite3 > /dev/null; then
  [ "$(sqlite3 "$data/sipwarden.db" "SELECT count FROM bans WHERE address = '192.0.2.7'")" = 2 ] ||
    fail "the stored count of 192.0.2.7"
  sqlite3 "$data/sipwarden.db" "INSERT INTO acl(cidr, kind) VALUES('10.0.0.0/8', 'maybe')" 2> /dev/null &&
    fail "the acl table took a kind that is neither allow nor deny"
else
  echo "sqlite3 not installed: the table checks are skipped"
fi
echo "ban_cli: ok"
