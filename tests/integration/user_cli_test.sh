#!/usr/bin/env bash
# `sipwarden user ...` and `sipwarden registrations`: accounts in DATA_DIR/sipwarden.db. Passwords are
# generated strong or refused when weak, shown only once when generated, and never stored or listed; an
# import is all or nothing and fast.
set -euo pipefail
bin=${SIPWARDEN:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
data="$tmp/var"
sw() { "$bin" "$@" --data-dir "$data"; }
have_sqlite3=false
command -v sqlite3 >/dev/null && have_sqlite3=true
ha1() {  # user -> the stored SHA-256 HA1
  sqlite3 "$data/sipwarden.db" "SELECT ha1_sha256 FROM users WHERE name = '$1'"
}

expect_rc() {  # expected-status expected-stderr-text command...
  local want=$1 text=$2; shift 2
  set +e
  "$@" > "$tmp/out" 2> "$tmp/err"; local rc=$?
  set -e
  [ $rc -eq "$want" ] || fail "exit $rc (expected $want) for: $* ($(cat "$tmp/err"))"
  grep -qF -- "$text" "$tmp/err" || fail "stderr for '$*' was: $(cat "$tmp/err")"
}

# --- add with a generated password: printed once, long, and acceptable to the policy itself.
out=$(sw user add 201 --name "Alice Smith" --domain example.com)
[ "$(echo "$out" | grep -c '^password for 201: ')" -eq 1 ] || fail "generated password not printed once: $out"
pw201=$(echo "$out" | sed -n 's/^password for 201: //p')
[ ${#pw201} -ge 20 ] || fail "generated password too short: ${#pw201}"
[[ "$pw201" =~ [a-z] && "$pw201" =~ [A-Z] && "$pw201" =~ [0-9] && "$pw201" =~ [^a-zA-Z0-9] ]] ||
  fail "generated password lacks a character class"
echo "$pw201" | sw user passwd 201 --password-stdin &> /dev/null && fail "the current password was accepted again"
[ "$(stat -c %a "$data")" = 700 ] || fail "data folder mode $(stat -c %a "$data")"
[ "$(stat -c %a "$data/sipwarden.db")" = 600 ] || fail "database mode $(stat -c %a "$data/sipwarden.db")"

# --- weak passwords refused with the reason, and nothing added.
expect_rc 1 "at least 12 characters" sw user add 202 --password-stdin <<< "Sh0rt-pw"
expect_rc 1 "two kinds of characters" sw user add 202 --password-stdin <<< "onlylowercaseletters"
expect_rc 1 "must not contain the user name" sw user add 2024 --password-stdin <<< "Xy-2024-secret-pw"
expect_rc 1 "common password" sw user add 202 --password-stdin <<< "Password1234"
expect_rc 1 "from the display name" sw user add 202 --name "Bartholomew Jones" --password-stdin <<< "bartholomew-99-X"
expect_rc 1 "no password on stdin" sw user add 202 --password-stdin < /dev/null
sw user list | grep -q '^202 ' && fail "a refused user was stored"

# --- a password from stdin (CRLF tolerated), --no-md5, duplicates, bad names.
printf 'Good-Pass-word-77\r\n' | sw user add bob --password-stdin --no-md5 | grep -q "added user bob" ||
  fail "add with --password-stdin"
expect_rc 1 "user 201 exists" sw user add 201
expect_rc 1 "a user name has only" sw user add "al ice"
expect_rc 2 "the store's realm is example.com" sw user add carol --realm other.example
expect_rc 2 "required" sw user add

# --- list: names and flags, never a hash or a password.
list=$(sw user list)
echo "$list" | grep -Eq '^201 +Alice Smith +yes +yes$' || fail "list: $list"
echo "$list" | grep -Eq '^bob +- +yes +no$' || fail "list (no MD5): $list"
echo "$list" | grep -Eq '[0-9a-f]{32}' && fail "list shows a hash: $list"
echo "$list" | grep -qF -- "$pw201" && fail "list shows a password"

# --- passwd changes the stored hash and keeps the MD5 setting.
if $have_sqlite3; then before=$(ha1 bob); fi
out=$(sw user passwd bob)
echo "$out" | grep -q '^password for bob: ' || fail "passwd did not print the new password: $out"
pwbob=$(echo "$out" | sed -n 's/^password for bob: //p')
if $have_sqlite3; then
  after=$(ha1 bob)
  [ -n "$after" ] && [ "$before" != "$after" ] || fail "passwd did not change the stored HA1"
  [ "$(sqlite3 "$data/sipwarden.db" "SELECT md5_allowed || ':' || ha1_md5 FROM users WHERE name = 'bob'")" = "0:" ] ||
    fail "passwd changed the MD5 setting"
else
  echo "sqlite3 not installed: the stored-hash comparison is skipped"
fi
expect_rc 1 "no such user nobody" sw user passwd nobody
expect_rc 1 "at least 12" sw user passwd bob --password-stdin <<< "short"

# --- disable, enable, remove.
sw user disable 201 > /dev/null
sw user list | grep -Eq '^201 +Alice Smith +no ' || fail "disable not shown"
sw user enable 201 > /dev/null
sw user list | grep -Eq '^201 +Alice Smith +yes ' || fail "enable not shown"
sw user remove bob > /dev/null
sw user list | grep -q '^bob ' && fail "remove left the user"
expect_rc 1 "no such user bob" sw user remove bob
expect_rc 1 "no such user bob" sw user disable bob

# --- import: 10,000 users in one go, quickly.
{
  echo "# extension,password,display name"
  for i in $(seq 0 9998); do echo "user$i,Bench-Pa55word-2026"; done
  echo ""
  echo ' callee , Bench-Pa55word-2026 , "Callee, The ""Second"""'
} > "$tmp/users.csv"
start=$(date +%s%N)
out=$(sw user import "$tmp/users.csv")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$out" = "imported 10000 users" ] || fail "import said: $out"
[ $ms -lt 10000 ] || fail "import of 10,000 users took $ms ms"
echo "imported 10,000 users in $ms ms"
# The header line, 201 and the 10,000 imported.
lines=$(sw user list | wc -l)
[ "$lines" -eq 10002 ] || fail "list has $lines lines, expected 10002"
# (grep -q would stop reading early and, under pipefail, fail the pipeline: read the list whole first.)
sw user list > "$tmp/list"
grep -Eq '^callee +Callee, The "Second" +yes +yes$' "$tmp/list" || fail "quoted display name"
expect_rc 1 "users.csv:3: user user1 exists" sw user import "$tmp/users.csv"
sw user import "$tmp/users.csv" --replace | grep -q "imported 10000 users" || fail "import --replace"

# --- a bad line rejects the whole file, naming the line; nothing is stored.
for i in $(seq 1 9999); do
  if [ "$i" -eq 5000 ]; then echo "new$i,password"; else echo "new$i,Bench-Pa55word-2026"; fi
done > "$tmp/bad.csv"
expect_rc 1 "bad.csv:5000: user new5000: password refused" sw user import "$tmp/bad.csv"
[ "$(grep -c '^' "$tmp/err")" -eq 2 ] || fail "expected one bad line and a summary: $(cat "$tmp/err")"
sw user list > "$tmp/list"
grep -q '^new' "$tmp/list" && fail "a rejected import stored users"
printf 'a1,Bench-Pa55word-2026\nb1,Bench-Pa55word-2026,x,y\na1,Other-Pa55word-2026\nc1\n' > "$tmp/bad2.csv"
expect_rc 1 "bad2.csv:2: expected extension,password[,display name] but found 4 fields" sw user import "$tmp/bad2.csv"
grep -qF "bad2.csv:3: user a1 is also on line 1" "$tmp/err" || fail "duplicate: $(cat "$tmp/err")"
grep -qF "bad2.csv:4: expected" "$tmp/err" || fail "one field: $(cat "$tmp/err")"
expect_rc 2 "" sw user import "$tmp/missing.csv"

# --- the clear-text passwords are nowhere in the database files.
for f in "$data"/sipwarden.db*; do
  for pw in "$pw201" "$pwbob" "Good-Pass-word-77" "Bench-Pa55word-2026"; do
    [ "$(grep -caF -- "$pw" "$f" || true)" -eq 0 ] || fail "a clear-text password is in $f"
  done
done

# --- registrations.
[ "$(sw registrations)" = "no registrations" ] || fail "registrations on an empty store"
[ "$("$bin" registrations --data-dir "$tmp/none")" = "no registrations" ] || fail "registrations without a store"
[ -e "$tmp/none" ] && fail "registrations made a data folder"
if $have_sqlite3; then
  now=$(date +%s)
  # The registrar keeps its bindings in DATA_DIR/location.db, made by the server with the same schema as
  # sipwarden.db: this test makes it as a copy without the users.
  sqlite3 "$data/sipwarden.db" "VACUUM INTO '$data/location.db'"
  sqlite3 "$data/location.db" "DELETE FROM users; DELETE FROM meta;
      INSERT INTO bindings(aor, contact, call_id, cseq, q, expires_at, registered_at,
      path, source, connection, user_agent, instance) VALUES
      ('201@example.com', 'sip:201@192.0.2.7:5062', 'c1', 1, 1000, $((now + 300)), $now, '',
       'tcp:192.0.2.7:40001', 3, 'Phone/1.0', ''),
      ('201@example.com', 'sip:201@192.0.2.8:5060', 'c2', 1, 1000, $((now - 5)), $now, '',
       'udp:192.0.2.8:5060', 0, 'Old/1.0', '')"
  regs=$(sw registrations)
  echo "$regs" | grep -Eq '^201@example.com +sip:201@192.0.2.7:5062 +tcp:192.0.2.7:40001 +tcp +(29[0-9]|300) +Phone/1.0$' ||
    fail "registrations: $regs"
  echo "$regs" | grep -q "Old/1.0" && fail "an expired binding was listed"
else
  echo "sqlite3 not installed: the registrations listing check is skipped"
fi
echo "user_cli_test: all passed"
