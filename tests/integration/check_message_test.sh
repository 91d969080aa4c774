#!/usr/bin/env bash
# The real binary on the RFC 4475 files: output format, verdicts and exit status.
set -euo pipefail
bin=${SIPWARDEN:?}
data=${TESTDATA:?}
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

out=$("$bin" check-message "$data/rfc4475/wsinv.dat" "$data/rfc4475/esc01.dat") || fail "valid files must exit 0"
[ "$out" = "$data/rfc4475/wsinv.dat: ok
$data/rfc4475/esc01.dat: ok" ] || fail "unexpected output: $out"

set +e
out=$("$bin" check-message "$data/rfc4475/wsinv.dat" "$data/rfc4475/badvers.dat" "$data/rfc4475/unkscm.dat" \
      "$data/rfc4475/scalar02.dat" "$data/rfc4475/test.dat")
rc=$?
set -e
[ $rc -eq 1 ] || fail "exit status $rc with invalid files, expected 1"
echo "$out" | grep -qx "$data/rfc4475/badvers.dat: 505 Version Not Supported" || fail "badvers: $out"
echo "$out" | grep -qx "$data/rfc4475/unkscm.dat: 416 Unsupported URI Scheme" || fail "unkscm: $out"
echo "$out" | grep -qx "$data/rfc4475/scalar02.dat: 400 Bad Request - Invalid CSeq number" || fail "scalar02: $out"
echo "$out" | grep -q "^$data/rfc4475/test.dat: 400 " || fail "test.dat: $out"

# Every torture file gets exactly one line; none crashes the binary.
set +e
"$bin" check-message "$data"/rfc4475/*.dat > "$tmp/all.txt"
rc=$?
set -e
[ $rc -eq 1 ] || fail "exit status $rc on the whole set"
[ "$(wc -l < "$tmp/all.txt")" -eq 50 ] || fail "expected 50 lines, got $(wc -l < "$tmp/all.txt")"
[ "$(grep -c ': ok$' "$tmp/all.txt")" -eq 24 ] || fail "expected 24 ok: $(grep -c ': ok$' "$tmp/all.txt")"

# An oversized message is refused with 513 without being read whole.
head -c 200000 /dev/zero | tr '\0' 'A' > "$tmp/big.sip"
set +e
out=$("$bin" check-message "$tmp/big.sip"); rc=$?
set -e
[ $rc -eq 1 ] && [ "$out" = "$tmp/big.sip: 513 Message Too Large" ] || fail "oversize: $out"

# Missing files and --help.
if "$bin" check-message "$tmp/none.sip" >/dev/null 2>&1; then fail "a missing file must fail"; fi
"$bin" --help | grep -q "check-message" || fail "--help lists check-message"
"$bin" check-message --help | grep -q "CODE REASON" || fail "check-message --help explains the output"
echo "check_message_test: all passed"
