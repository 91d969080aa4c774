#!/usr/bin/env bash
# `sipwarden cdr`: call detail records in DATA_DIR/cdr.db, written through the real CdrWriter by the
# test-only tests/tools/cdr_fill (the engine writes them in production): the table, the CSV (RFC 4180),
# --since (Unix seconds, ISO local time, ages), --user, --external, --limit; and the rows a process had
# submitted survive its kill -9 (the writer commits within about 100 ms, without being stopped).
set -euo pipefail
bin=${SIPWARDEN:?}
fill=${CDR_FILL:-$(dirname "$bin")/tests/cdr_fill}
[ -x "$fill" ] || { echo "FAIL: no cdr_fill at $fill"; exit 1; }
tmp=$(mktemp -d)
crash_pid=
cleanup() {
  if [ -n "$crash_pid" ]; then kill -9 "$crash_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
export TZ=UTC  # the table and the ISO --since are in local time
data="$tmp/var"
cdr() {
  local rc=0
  "$bin" cdr "$@" --data-dir "$data" > "$tmp/out" 2> "$tmp/err" || rc=$?
  return $rc
}
# The first field (the call id) of every CSV record, space separated: the order of the rows.
csv_calls() { tail -n +2 "$tmp/out" | cut -d, -f1 | tr -d '\r' | tr '\n' ' '; }

# --- help explains every option.
"$bin" cdr --help > "$tmp/help"
for opt in --since --user --external --csv --limit --data-dir; do
  grep -q -- "$opt" "$tmp/help" || fail "cdr --help does not explain $opt"
done
"$bin" --help | grep -q "cdr" || fail "sipwarden --help does not list cdr"

# --- no store yet: no records, and listing does not create one.
cdr || fail "cdr without a store: $(cat "$tmp/err")"
[ "$(cat "$tmp/out")" = "no call records" ] || fail "empty listing said: $(cat "$tmp/out")"
[ ! -e "$data" ] || fail "listing created $data"
cdr --csv || fail "cdr --csv without a store"
[ "$(wc -l < "$tmp/out")" -eq 1 ] || fail "empty CSV is not just the header: $(cat "$tmp/out")"

# --- five calls: two old internal/outbound ones with fixed times, three in the last quarter hour.
mkdir -p "$data"
now=$(date +%s%3N)
t1=1577869200000  # 2020-01-01T09:00:00Z
t2=1577966400000  # 2020-01-02T12:00:00Z
t3=$((now - 600000)) t4=$((now - 300000)) t5=$((now - 60000))
T=$'\t'
{
  echo "start${T}c1${T}$t1${T}201${T}202${T}202${T}internal${T}-${T}udp:10.0.0.5:5060${T}Phone/1${T}-"
  echo "answer${T}c1${T}$((t1 + 2000))"
  echo "end${T}c1${T}$((t1 + 62000))${T}200${T}caller hung up"
  echo "start${T}c2${T}$t2${T}201${T}0301234567${T}0-0301234567${T}outbound${T}sipgate${T}tls:10.0.0.5:5061${T}Yealink, \"T46\"${T}allowed: national"
  echo "answer${T}c2${T}$((t2 + 5000))"
  echo "end${T}c2${T}$((t2 + 3605500))${T}200${T}callee hung up"
  echo "start${T}c3${T}$t3${T}+4930555${T}203${T}203${T}inbound${T}sipgate${T}udp:192.0.2.9:5060${T}-${T}-"
  echo "end${T}c3${T}$((t3 + 20000))${T}487${T}487 cancelled"
  echo "start${T}c4${T}$t4${T}203${T}204${T}204${T}internal${T}-${T}udp:10.0.0.6:5060${T}-${T}-"
  echo "end${T}c5${T}$t5${T}200${T}max duration"
} | "$fill" "$data" fill || fail "cdr_fill fill"
[ "$(stat -c %a "$data/cdr.db")" = 600 ] || fail "cdr.db mode $(stat -c %a "$data/cdr.db")"

# --- the table: header, newest first, durations, dashes for what is not known.
cdr || fail "cdr: $(cat "$tmp/err")"
head -1 "$tmp/out" | grep -qE '^START +CALLER +CALLEE +DIALLED +DIRECTION +TRUNK +DURATION +RESULT +REASON +VERDICT +SOURCE$' \
  || fail "table header: $(head -1 "$tmp/out")"
[ "$(wc -l < "$tmp/out")" -eq 6 ] || fail "table has not 5 rows: $(cat "$tmp/out")"
grep -qE '^2020-01-02 12:00:00 +201 +0301234567 +0-0301234567 +outbound +sipgate +1:00:00 +200 +callee hung up +allowed: national +tls:10.0.0.5:5061$' "$tmp/out" \
  || fail "outbound row: $(cat "$tmp/out")"
grep -qE '^2020-01-01 09:00:00 +201 +202 +202 +internal +- +0:01:00 +200 +caller hung up +- +udp:10.0.0.5:5060$' "$tmp/out" \
  || fail "internal row: $(cat "$tmp/out")"
grep -qE ' +\+4930555 +203 +203 +inbound +sipgate +0:00:00 +487 +487 cancelled ' "$tmp/out" || fail "inbound row: $(cat "$tmp/out")"
grep -qE ' +203 +204 +204 +internal +- +- +- +- +- +udp:10.0.0.6:5060$' "$tmp/out" || fail "running call: $(cat "$tmp/out")"
grep -qE '^[0-9-]+ [0-9:]+ +- +- +- +- +- +0:00:00 +200 +max duration +- +-$' "$tmp/out" || fail "end without start: $(cat "$tmp/out")"
[ "$(sed -n 2p "$tmp/out" | grep -c 'max duration')" -eq 1 ] || fail "newest is not first: $(cat "$tmp/out")"

# --- CSV: a header line, CRLF, RFC 4180 quoting, newest first, ISO times.
cdr --csv || fail "cdr --csv: $(cat "$tmp/err")"
[ "$(head -1 "$tmp/out")" = $'call,start,answer,end,duration_ms,caller,callee,dialled,direction,trunk,source,user_agent,result,reason,verdict\r' ] \
  || fail "CSV header: $(head -1 "$tmp/out")"
[ "$(csv_calls)" = "c5 c4 c3 c2 c1 " ] || fail "CSV order: $(csv_calls)"
grep -qxF $'c2,2020-01-02T12:00:00.000+00:00,2020-01-02T12:00:05.000+00:00,2020-01-02T13:00:05.500+00:00,3600500,201,0301234567,0-0301234567,outbound,sipgate,tls:10.0.0.5:5061,"Yealink, ""T46""",200,callee hung up,allowed: national\r' "$tmp/out" \
  || fail "CSV c2 row: $(grep '^c2,' "$tmp/out")"
grep -qE $'^c4,[^,]+,,,0,203,204,204,internal,,udp:10.0.0.6:5060,,,,\r$' "$tmp/out" || fail "CSV running call: $(grep '^c4,' "$tmp/out")"
# Python's csv module reads it back to 15 fields a row, the quoted user agent whole.
python3 - "$tmp/out" <<'PY' || fail "python csv could not read it back"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
assert len(rows) == 6 and all(len(r) == 15 for r in rows), rows
assert rows[4][11] == 'Yealink, "T46"', rows[4]
PY

# --- filters.
cdr --csv --user 201 && [ "$(csv_calls)" = "c2 c1 " ] || fail "--user 201: $(csv_calls)"
cdr --csv --user 203 && [ "$(csv_calls)" = "c4 c3 " ] || fail "--user 203 (caller or callee): $(csv_calls)"
cdr --csv --user 20 && [ "$(csv_calls)" = "" ] || fail "--user 20 matched a prefix: $(csv_calls)"
cdr --csv --external && [ "$(csv_calls)" = "c3 c2 " ] || fail "--external: $(csv_calls)"
cdr --csv --since 2020-01-02T00:00 && [ "$(csv_calls)" = "c5 c4 c3 c2 " ] || fail "--since ISO: $(csv_calls)"
cdr --csv --since "2020-01-02 12:00:01" && [ "$(csv_calls)" = "c5 c4 c3 " ] || fail "--since ISO seconds: $(csv_calls)"
cdr --csv --since 1577869201 && [ "$(csv_calls)" = "c5 c4 c3 c2 " ] || fail "--since Unix seconds: $(csv_calls)"
cdr --csv --since 1h && [ "$(csv_calls)" = "c5 c4 c3 " ] || fail "--since 1h: $(csv_calls)"
cdr --csv --since 7m && [ "$(csv_calls)" = "c5 c4 " ] || fail "--since 7m: $(csv_calls)"
cdr --csv --since 1h --user 203 --external && [ "$(csv_calls)" = "c3 " ] || fail "combined: $(csv_calls)"
cdr --csv --limit 2 && [ "$(csv_calls)" = "c5 c4 " ] || fail "--limit 2: $(csv_calls)"
grep -q "showing the newest 2 records" "$tmp/err" || fail "--limit 2 gave no note: $(cat "$tmp/err")"
cdr --csv --limit 0 && [ "$(csv_calls)" = "c5 c4 c3 c2 c1 " ] || fail "--limit 0: $(csv_calls)"
[ ! -s "$tmp/err" ] || fail "--limit 0 wrote to stderr: $(cat "$tmp/err")"
cdr --user 999 && [ "$(cat "$tmp/out")" = "no call records" ] || fail "no match: $(cat "$tmp/out")"

rc=0; cdr --since yesterday || rc=$?
[ $rc -eq 2 ] || fail "--since yesterday exited $rc"
grep -q "since" "$tmp/err" || fail "--since yesterday said: $(cat "$tmp/err")"
rc=0; cdr --since 2026-02-30 || rc=$?
[ $rc -eq 2 ] || fail "--since 2026-02-30 exited $rc"

# --- a corrupt store is an error (2), not "no records".
mkdir -p "$tmp/bad" && echo "not a database" > "$tmp/bad/cdr.db"
rc=0; "$bin" cdr --data-dir "$tmp/bad" > "$tmp/out" 2> "$tmp/err" || rc=$?
[ $rc -eq 2 ] || fail "corrupt cdr.db exited $rc"
grep -q "cdr.db" "$tmp/err" || fail "corrupt cdr.db said: $(cat "$tmp/err")"

# --- kill -9: what a process submitted through the writer (and never flushed) is on disk.
crash="$tmp/crash"
mkdir -p "$crash"
n=500
"$fill" "$crash" crash $n > "$tmp/crash.out" 2> "$tmp/crash.err" &
crash_pid=$!
for _ in $(seq 100); do
  grep -q "submitted $n" "$tmp/crash.out" && break
  kill -0 "$crash_pid" 2>/dev/null || fail "cdr_fill crash exited: $(cat "$tmp/crash.err")"
  sleep 0.1
done
grep -q "submitted $n" "$tmp/crash.out" || fail "cdr_fill crash did not submit"
kill -9 "$crash_pid"
rc=0; { wait "$crash_pid"; } 2> /dev/null || rc=$?  # no "Killed" notice
crash_pid=
[ $rc -eq 137 ] || fail "cdr_fill was not killed by SIGKILL (exit $rc)"
"$bin" cdr --csv --limit 0 --data-dir "$crash" > "$tmp/out" 2> "$tmp/err" || fail "cdr after kill: $(cat "$tmp/err")"
rows=$(grep -c '^crash-' "$tmp/out" || true)
[ "$rows" -eq $n ] || fail "$rows of $n rows survived kill -9"

echo "cdr_cli: ok"
