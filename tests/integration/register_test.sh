#!/usr/bin/env bash
# The registrar on the real server: REGISTER with digest auth by sipp over UDP and TCP, a wrong password
# challenged again, an unknown user answered exactly like a wrong password, a stale nonce (stale=true), a
# replayed nonce count refused, removal of one contact and of all (Contact: *), 423 below --min-expires,
# several contacts with their q values, bindings kept across SIGTERM and kill -9 (location.db), and
# `user disable`/`user enable` taking effect on the running server, expired bindings removed from the file.
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
fail() { echo "FAIL: $*"; echo "--- server log"; cat "$tmp/server.log" 2>/dev/null || true; exit 1; }
command -v sipp >/dev/null || fail "sipp is not installed (scripts/deps installs sip-tester)"

data="$tmp/var"
pw="Reg-Test-pass-4821"
for u in alice bob carol dave erin frank grace hank ivan; do
  "$bin" user add "$u" --password-stdin --data-dir "$data" --domain example.test <<< "$pw" > /dev/null ||
    fail "user add $u"
done

free_port() {  # [udp|both]: a port free on 127.0.0.1 (for UDP and TCP with "both")
  python3 - "$1" <<'PY'
import socket, sys
for _ in range(50):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0)); p = u.getsockname()[1]
    t = socket.socket()
    try:
        if sys.argv[1] == "both":
            t.bind(("127.0.0.1", p))
        print(p); break
    except OSError:
        pass
    finally:
        t.close(); u.close()
PY
}
port=$(free_port both)
starts=0
start() {  # extra run options...
  starts=$((starts + 1))
  "$bin" run --data-dir "$data" --domain example.test --listen "udp:127.0.0.1:$port" --listen "tcp:127.0.0.1:$port" \
    --workers 2 --shutdown-grace 1 --log-level info "$@" >> "$tmp/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do [ "$(grep -c "sipwarden running" "$tmp/server.log")" -ge $starts ] && return; sleep 0.1; done
  fail "server did not start (run $starts)"
}
stop() {  # SIGTERM: exit status 0 within --shutdown-grace (1 s) and a little
  kill -TERM "$pid"
  for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "server still running 4 s after SIGTERM"
  local rc=0
  wait "$pid" || rc=$?
  pid=""
  [ $rc -eq 0 ] || fail "server exit status $rc after SIGTERM"
}
regs() { "$bin" registrations --data-dir "$data"; }

# The raw UDP client: builds REGISTERs and digest credentials itself (hashlib), one socket per session.
cat > "$tmp/sipc.py" <<'PY'
import hashlib, os, random, re, socket, subprocess, time

PORT = int(os.environ["PORT"])
DOMAIN = "example.test"
PW = os.environ["PW"]
HASH = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


class Response:
    def __init__(self, raw):
        self.raw = raw
        head = raw.split("\r\n\r\n", 1)[0].split("\r\n")
        parts = head[0].split(" ", 2)
        self.status, self.reason = int(parts[1]), parts[2]
        self.headers = [(n.strip(), v.strip()) for n, v in (line.split(":", 1) for line in head[1:])]

    def names(self):
        return [n for n, _ in self.headers]

    def values(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def challenges(self):
        return [parse_challenge(v) for v in self.values("WWW-Authenticate")]

    def contacts(self):  # {uri: {param: value}}
        out = {}
        for v in self.values("Contact"):
            m = re.match(r"<([^>]*)>(.*)$", v)
            assert m, "unexpected Contact form: " + v
            out[m.group(1)] = dict(p.split("=", 1) if "=" in p else (p, "") for p in m.group(2).split(";") if p)
        return out

    def __str__(self):
        return self.raw


def parse_challenge(value):  # -> (scheme, [(name, value)]) in the order sent
    scheme, rest = value.split(" ", 1)
    params = re.findall(r'\s*([A-Za-z0-9_-]+)=("(?:[^"\\]|\\.)*"|[^,\s]*)\s*(?:,|$)', rest)
    return scheme, [(n.lower(), v[1:-1] if v.startswith('"') else v) for n, v in params]


def shape(resp):  # the challenges with the nonce values left out
    return [(s, [(n, None if n == "nonce" else v) for n, v in ps]) for s, ps in resp.challenges()]


def param(challenge, name):
    return dict(challenge[1]).get(name)


class Session:
    """One REGISTER dialog-ish session: fixed Call-ID and From tag, CSeq counting up, one nonce at a time."""

    def __init__(self, user, password=PW, algorithm="SHA-256", call_id=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.lport = self.sock.getsockname()[1]
        self.user, self.password, self.algorithm = user, password, algorithm
        self.call_id = call_id or "%s-%016x@127.0.0.1" % (user, random.getrandbits(64))
        self.tag = "%08x" % random.getrandbits(32)
        self.cseq = 0
        self.nonce = None
        self.nc = 0
        self.last_authorization = None

    def request(self, contacts=(), expires=None, authorization=None):
        self.cseq += 1
        branch = "z9hG4bK%016x" % random.getrandbits(64)
        lines = ["REGISTER sip:%s SIP/2.0" % DOMAIN,
                 "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s" % (self.lport, branch),
                 "Max-Forwards: 70",
                 "From: <sip:%s@%s>;tag=%s" % (self.user, DOMAIN, self.tag),
                 "To: <sip:%s@%s>" % (self.user, DOMAIN),
                 "Call-ID: " + self.call_id,
                 "CSeq: %d REGISTER" % self.cseq]
        lines += ["Contact: " + c for c in contacts]
        if expires is not None:
            lines.append("Expires: %d" % expires)
        if authorization:
            lines.append("Authorization: " + authorization)
        lines += ["User-Agent: regtest/1.0", "Content-Length: 0"]
        data = ("\r\n".join(lines) + "\r\n\r\n").encode()
        # UDP: resend on T1 doubling until a final response with our branch arrives (about 8 s at most).
        wait = 0.5
        deadline = time.monotonic() + 8
        self.sock.sendto(data, ("127.0.0.1", PORT))
        while True:
            self.sock.settimeout(max(0.01, min(wait, deadline - time.monotonic())))
            try:
                r = Response(self.sock.recv(65536).decode())
            except socket.timeout:
                assert time.monotonic() < deadline, "no answer to REGISTER CSeq %d from %s" % (self.cseq, self.user)
                wait = min(wait * 2, 4)
                self.sock.sendto(data, ("127.0.0.1", PORT))
                continue
            if branch in r.values("Via")[0] and r.status >= 200:
                return r

    def challenge(self):
        """An unauthenticated REGISTER: its 401 gives the nonce for the chosen algorithm."""
        r = self.request()
        assert r.status == 401, "%s: unauthenticated REGISTER answered %d, expected 401" % (self.user, r.status)
        self.take(r)
        return r

    def take(self, resp):
        for c in resp.challenges():
            if param(c, "algorithm") == self.algorithm:
                self.nonce, self.nc = param(c, "nonce"), 0
                return
        raise AssertionError("no %s challenge in:\n%s" % (self.algorithm, resp))

    def authorization(self, password=None, nc=None):
        h = lambda s: HASH[self.algorithm](s.encode()).hexdigest()
        if nc is None:
            self.nc += 1
            nc = self.nc
        cnonce = "%016x" % random.getrandbits(64)
        uri = "sip:" + DOMAIN
        ha1 = h("%s:%s:%s" % (self.user, DOMAIN, password or self.password))
        ha2 = h("REGISTER:" + uri)
        response = h("%s:%s:%08x:%s:auth:%s" % (ha1, self.nonce, nc, cnonce, ha2))
        return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=%s, '
                'qop=auth, nc=%08x, cnonce="%s"' % (self.user, DOMAIN, self.nonce, uri, response, self.algorithm,
                                                     nc, cnonce))

    def register(self, contacts=(), expires=None, password=None):
        """REGISTER with credentials (a challenge first when no nonce is known yet)."""
        if self.nonce is None:
            self.challenge()
        self.last_authorization = self.authorization(password)
        return self.request(contacts, expires, self.last_authorization)


def ok(resp, what):
    assert resp.status == 200, "%s: got %d %s, expected 200:\n%s" % (what, resp.status, resp.reason, resp)
    return resp


def registrations():  # [(user, contact, source, transport, expires_in, user_agent)]
    out = subprocess.run([os.environ["SW"], "registrations", "--data-dir", os.environ["DATA"]],
                         check=True, capture_output=True, text=True).stdout
    if out.strip() == "no registrations":
        return []
    rows = [line.split(None, 5) for line in out.splitlines()[1:] if line.strip()]
    return [(r[0], r[1], r[2], r[3], int(r[4]), r[5] if len(r) > 5 else "") for r in rows]


def bindings_of(user):
    return [r for r in registrations() if r[0] == user + "@" + DOMAIN]


def stored_contacts(db_path, aor_like="%"):  # the contacts location.db holds, read past the server
    import sqlite3
    db = sqlite3.connect(db_path)
    try:
        return sorted(r[0] for r in db.execute("SELECT contact FROM bindings WHERE aor LIKE ?", (aor_like,)))
    finally:
        db.close()
PY
export PORT=$port PW=$pw SW=$bin DATA=$data PYTHONPATH=$tmp PYTHONDONTWRITEBYTECODE=1

start --md5-first   # sipp 3.6 answers only the first challenge, and only MD5

# --- 1. sipp registers with digest auth over UDP, then over TCP; the binding names where it came from.
inject() {  # user password -> a sipp injection file
  printf 'SEQUENTIAL\n%s;[authentication username=%s password=%s];example.test\n' "$1" "$1" "$2" > "$tmp/$1.inf"
}
sip() {  # scenario transport user password local-port
  local sc=$1 tr=$2 u=$3
  inject "$u" "$4"
  sipp -sf "$here/sipp/$sc.xml" "127.0.0.1:$port" -i 127.0.0.1 -p "$5" -t "$tr" -m 1 -inf "$tmp/$u.inf" \
    -timeout 10 -timeout_error -nostdin -trace_err -error_file "$tmp/$sc-$u.err" > "$tmp/$sc-$u.out" 2>&1 ||
    { cat "$tmp/$sc-$u.err" 2>/dev/null; fail "sipp $sc over $tr for $u"; }
}
row() {  # user: the user's lines of `registrations`
  regs | grep "^$1@example.test " || true
}
uport=$(free_port udp)
sip register_auth u1 alice "$pw" "$uport"
line=$(row alice)
echo "$line" | grep -Eq "^alice@example.test +sip:alice@127.0.0.1:$uport;transport=UDP +udp:127.0.0.1:$uport +udp +(359[0-9]|3600) +sipp-register$" ||
  fail "UDP registration of alice not listed as expected: '$line'"
tport=$(free_port both)
sip register_auth t1 bob "$pw" "$tport"
line=$(row bob)
echo "$line" | grep -Eq "^bob@example.test +sip:bob@127.0.0.1:$tport;transport=TCP +tcp:127.0.0.1:$tport +tcp +(359[0-9]|3600) +sipp-register$" ||
  fail "TCP registration of bob not listed as expected: '$line'"
echo "ok 1: sipp registered over UDP and TCP"

# --- 2. a wrong password: challenged again with 401 (the scenario expects it), nothing registered.
sip register_wrong_password u1 carol "Wrong-Pass-word-99" "$(free_port udp)"
[ -z "$(row carol)" ] || fail "a wrong password registered carol: $(row carol)"
echo "ok 2: wrong password answered 401, nothing registered"

# --- 3. an unknown user is answered exactly like a known user with a wrong password.
python3 - <<'PY' || fail "unknown user vs wrong password (see above)"
from sipc import *
for alg in ("MD5", "SHA-256"):
    answers = {}
    for user in ("carol", "nosuchuser"):
        s = Session(user, password="Wrong-Pass-word-99", algorithm=alg)
        first = s.challenge()
        assert [param(c, "algorithm") for c in first.challenges()] == ["MD5", "SHA-256", "SHA-512-256"], \
            "with --md5-first the challenges should be MD5, SHA-256, SHA-512-256:\n%s" % first
        answers[user] = s.register(["<sip:%s@127.0.0.1:5999>" % user], 3600)
    a, b = answers["carol"], answers["nosuchuser"]
    assert a.status == 401, "%s: wrong password answered %d, expected 401:\n%s" % (alg, a.status, a)
    assert (a.status, a.reason) == (b.status, b.reason), \
        "%s: wrong password got '%d %s', unknown user got '%d %s'" % (alg, a.status, a.reason, b.status, b.reason)
    assert a.names() == b.names(), \
        "%s: header names differ:\n  wrong password: %s\n  unknown user:   %s" % (alg, a.names(), b.names())
    assert shape(a) == shape(b), \
        "%s: WWW-Authenticate differ:\n  wrong password: %s\n  unknown user:   %s" % (alg, shape(a), shape(b))
    assert len(a.challenges()) == 3, "%s: expected 3 challenges, got:\n%s" % (alg, a)
    for c in a.challenges() + b.challenges():
        assert param(c, "stale") is None, "%s: a wrong password must not be called stale:\n%s" % (alg, a)
assert not bindings_of("carol") and not bindings_of("nosuchuser"), "something got registered: %s" % registrations()
PY
echo "ok 3: unknown user and wrong password answered alike"

# --- 5. replay: the same Authorization (same nonce, same nc) on a new REGISTER is refused.
python3 - <<'PY' || fail "replayed credentials (see above)"
from sipc import *
s = Session("dave")
contact = "<sip:dave@127.0.0.1:5998>"
ok(s.register([contact], 3600), "dave's first REGISTER")
r = s.request([contact], 3600, s.last_authorization)   # new CSeq and branch, the same credentials
assert r.status == 401, "a replayed nc was answered %d %s, expected 401:\n%s" % (r.status, r.reason, r)
r = ok(s.register([contact], 3600), "the next nc on the same nonce")
assert "sip:dave@127.0.0.1:5998" in r.contacts(), "dave's contact not in the 200:\n%s" % r
PY
echo "ok 5: replayed nonce count refused"

# --- 6. Expires: 0 removes one contact; Contact: * with Expires: 0 removes them all.
python3 - <<'PY' || fail "unregister (see above)"
from sipc import *
s = Session("erin")
c1, c2 = "sip:erin@127.0.0.1:5101", "sip:erin@127.0.0.1:5102"
r = ok(s.register(["<%s>" % c1, "<%s>" % c2], 600), "erin registers two contacts")
assert set(r.contacts()) == {c1, c2}, "the 200 should list both contacts:\n%s" % r
assert sorted(b[1] for b in bindings_of("erin")) == [c1, c2], "registrations: %s" % bindings_of("erin")
r = ok(s.register(["<%s>" % c1], 0), "Expires: 0 for one contact")
assert list(r.contacts()) == [c2], "after removing %s the 200 should list only %s:\n%s" % (c1, c2, r)
assert [b[1] for b in bindings_of("erin")] == [c2], "registrations still lists: %s" % bindings_of("erin")
s2 = Session("erin")   # another Call-ID
r = ok(s2.register(["*"], 0), "Contact: * with Expires: 0")
assert not r.values("Contact"), "after Contact: * the 200 still lists contacts:\n%s" % r
assert not bindings_of("erin"), "registrations still lists erin: %s" % bindings_of("erin")
PY
echo "ok 6: unregister one contact and all"

# --- 7. too brief: 423 with Min-Expires: 60, nothing registered; 60 itself is accepted.
python3 - <<'PY' || fail "423 Interval Too Brief (see above)"
from sipc import *
s = Session("frank")
for how, contact, expires in (("Expires: 10", "<sip:frank@127.0.0.1:5201>", 10),
                              ("contact ;expires=10", "<sip:frank@127.0.0.1:5201>;expires=10", 3600)):
    r = s.register([contact], expires)
    assert r.status == 423, "%s answered %d %s, expected 423:\n%s" % (how, r.status, r.reason, r)
    assert r.values("Min-Expires") == ["60"], "%s: Min-Expires %s, expected 60:\n%s" % (how, r.values("Min-Expires"), r)
assert not bindings_of("frank"), "a refused registration was stored: %s" % bindings_of("frank")
r = ok(s.register(["<sip:frank@127.0.0.1:5201>"], 60), "Expires: 60 (the minimum)")
assert r.contacts()["sip:frank@127.0.0.1:5201"].get("expires") in ("60", "59"), "expected expires=60:\n%s" % r
ok(s.register(["<sip:frank@127.0.0.1:5201>"], 0), "frank unregisters")
PY
echo "ok 7: 423 with Min-Expires: 60"

# --- 8. several contacts from different Call-IDs: the second 200 lists both, q values kept.
python3 - <<'PY' || fail "several contacts (see above)"
from sipc import *
c1, c2 = "sip:frank@127.0.0.1:5301", "sip:frank@127.0.0.1:5302"
r = ok(Session("frank").register(["<%s>;q=0.7" % c1], 1800), "frank's first phone")
assert list(r.contacts()) == [c1], "the first 200 should list only %s:\n%s" % (c1, r)
r = ok(Session("frank").register(["<%s>;q=0.25" % c2], 900), "frank's second phone (another Call-ID)")
got = r.contacts()
assert set(got) == {c1, c2}, "the second 200 should list both contacts:\n%s" % r
assert got[c1].get("q") == "0.7" and got[c2].get("q") == "0.25", "q values not kept:\n%s" % r
assert 1790 <= int(got[c1]["expires"]) <= 1800 and 890 <= int(got[c2]["expires"]) <= 900, "expires:\n%s" % r
assert sorted(b[1] for b in bindings_of("frank")) == [c1, c2], "registrations: %s" % bindings_of("frank")
PY
echo "ok 8: two contacts listed with their q values"

# --- 10. `user disable` on the running server: REGISTER refused, bindings gone; `user enable` restores.
python3 - <<'PY' || fail "grace's registration (see above)"
from sipc import *
ok(Session("grace").register(["<sip:grace@127.0.0.1:5401>"], 3600), "grace registers")
assert bindings_of("grace"), "grace not listed"
PY
"$bin" user disable grace --data-dir "$data" > /dev/null || fail "user disable grace"
disabled_at=$(date +%s%N)
sleep 1
python3 - <<'PY' || fail "a disabled user (see above)"
from sipc import *
r = Session("grace").register(["<sip:grace@127.0.0.1:5401>"], 3600)
assert r.status == 401, "1 s after user disable, grace's REGISTER got %d %s, expected 401:\n%s" % (r.status, r.reason, r)
w = Session("carol", password="Wrong-Pass-word-99").register(["<sip:carol@127.0.0.1:5999>"], 3600)
assert r.names() == w.names() and shape(r) == shape(w), "a disabled user is answered unlike a wrong password:\n%s\n%s" % (r, w)
PY
gone=false
while [ $(( ($(date +%s%N) - disabled_at) / 1000000 )) -lt 2000 ]; do
  [ -z "$(row grace)" ] && { gone=true; break; }
  sleep 0.1
done
$gone || fail "2 s after user disable, grace's binding is still listed: $(row grace)"
"$bin" user enable grace --data-dir "$data" > /dev/null || fail "user enable grace"
sleep 1
python3 - <<'PY' || fail "an enabled user again (see above)"
from sipc import *
ok(Session("grace").register(["<sip:grace@127.0.0.1:5402>"], 3600), "1 s after user enable, grace's REGISTER")
assert [b[1] for b in bindings_of("grace")] == ["sip:grace@127.0.0.1:5402"], "registrations: %s" % bindings_of("grace")
PY
echo "ok 10: user disable/enable take effect on the running server"

# --- 9a. persistence across a graceful stop: register hank, SIGTERM, start again on the same data.
python3 - <<'PY' || fail "hank's registration (see above)"
from sipc import *
ok(Session("hank").register(["<sip:hank@127.0.0.1:5501>"], 3600), "hank registers")
PY
stop
# Remaining lifetimes are whole seconds: let one pass so the restored expiry must be below 3600.
sleep 1.1
start --nonce-lifetime 2
line=$(row hank)
echo "$line" | grep -Eq '^hank@example.test +sip:hank@127.0.0.1:5501 +udp:127.0.0.1:[0-9]+ +udp +[0-9]+ +regtest/1.0$' ||
  fail "after a restart hank's binding is not listed: '$line'"
[ -n "$(row alice)" ] && [ -n "$(row bob)" ] || fail "after a restart the sipp bindings are gone: $(regs)"
python3 - <<'PY' || fail "REGISTER without Contact after a restart (see above)"
from sipc import *
s = Session("hank")
first = s.challenge()
assert [param(c, "algorithm") for c in first.challenges()] == ["SHA-256", "SHA-512-256", "MD5"], \
    "without --md5-first the challenges should be SHA-256, SHA-512-256, MD5:\n%s" % first
r = ok(s.register(), "hank's REGISTER without Contact after the restart")
got = r.contacts()
assert list(got) == ["sip:hank@127.0.0.1:5501"], "the 200 should list hank's binding:\n%s" % r
assert 0 < int(got["sip:hank@127.0.0.1:5501"]["expires"]) < 3600, "expires should be counting down:\n%s" % r
PY
echo "ok 9a: bindings survive SIGTERM and a restart"

# --- 4. stale nonce (--nonce-lifetime 2): right credentials on an old nonce -> 401 with stale=true.
python3 - <<'PY' || fail "stale nonce (see above)"
from sipc import *
s = Session("dave")
s.challenge()
old = s.nonce
time.sleep(3)
w = s.request(["<sip:dave@127.0.0.1:5998>"], 3600, s.authorization(password="Wrong-Pass-word-99"))
assert w.status == 401 and all(param(c, "stale") is None for c in w.challenges()), \
    "a wrong password on an old nonce must be a plain 401 (no stale):\n%s" % w
r = s.register(["<sip:dave@127.0.0.1:5998>"], 3600)
assert r.status == 401, "right credentials on a 3 s old nonce answered %d, expected 401:\n%s" % (r.status, r)
cs = r.challenges()
assert len(cs) == 3 and all(param(c, "stale") == "true" for c in cs), "expected stale=true on every challenge:\n%s" % r
s.take(r)
assert s.nonce != old, "the stale answer repeated the old nonce"
ok(s.register(["<sip:dave@127.0.0.1:5998>"], 3600), "the fresh nonce from the stale challenge")
PY
echo "ok 4: stale nonce answered 401 with stale=true"

# --- 9b. kill -9 right after a 200: both bindings are still there, their expiry counting down.
python3 - "$pid" <<'PY' || fail "ivan's registration (see above)"
import signal, sys
from sipc import *
r = ok(Session("ivan").register(["<sip:ivan@127.0.0.1:5601>"], 600), "ivan registers")
os.kill(int(sys.argv[1]), signal.SIGKILL)   # at once: the 200 promises the binding is on disk
assert r.contacts()["sip:ivan@127.0.0.1:5601"]["expires"] == "600", "ivan should be granted 600:\n%s" % r
PY
rc=0; { wait "$pid"; } 2>/dev/null || rc=$?; pid=""   # (no "Killed" notice from bash)
[ $rc -eq 137 ] || fail "the server was not killed by SIGKILL (status $rc)"
sleep 1.1   # so that the remaining time must have gone down
start
python3 - <<'PY' || fail "bindings after kill -9 (see above)"
from sipc import *
for user, contact, granted in (("hank", "sip:hank@127.0.0.1:5501", 3600), ("ivan", "sip:ivan@127.0.0.1:5601", 600)):
    b = bindings_of(user)
    assert [x[1] for x in b] == [contact], "after kill -9 and a restart %s is listed as %s" % (user, b)
    assert 0 < b[0][4] < granted, "%s's expiry should count down from %d, shows %d" % (user, granted, b[0][4])
r = ok(Session("ivan").register(), "ivan's REGISTER without Contact after kill -9")
assert 0 < int(r.contacts()["sip:ivan@127.0.0.1:5601"]["expires"]) < 600, "ivan's 200:\n%s" % r
PY
echo "ok 9b: bindings survive kill -9"

# --- 9c. a refresh that only extends a binding is answered at once and written within
# --refresh-write-delay (default 1 s): SIGTERM writes it, kill -9 loses it but not the binding, which
# keeps its stored expiry; with 0 it is on disk before its 200.
stop
cat > "$tmp/refresh.py" <<'PY'
import sqlite3, time
from sipc import *
C = "sip:ivan@127.0.0.1:5602"
def stored():  # the expiry location.db holds for ivan's second phone, read past the server
    db = sqlite3.connect(os.path.join(os.environ["DATA"], "location.db"))
    try:
        r = db.execute("SELECT expires_at FROM bindings WHERE contact = ?", (C,)).fetchone()
    finally:
        db.close()
    return r[0] if r else None
def near(value, target, what):
    assert value is not None and abs(value - target) <= 3, "%s: location.db holds %s, expected about %d" % (what, value, target)
def refresh():  # a new source (written first), then a refresh from it that only extends the binding
    s = Session("ivan")
    ok(s.register(["<%s>" % C], 600), "ivan's second phone from a new port")
    t = time.time()
    near(stored(), t + 600, "a binding from a new source is on disk before its 200")
    ok(s.register(["<%s>" % C], 3600), "its refresh")
    return t
PY
start --refresh-write-delay 10
python3 - <<'PY' || fail "refresh written at SIGTERM (see above)"
from refresh import *
t = refresh()
near(stored(), t + 600, "a refresh with --refresh-write-delay 10, just answered")
PY
stop
python3 - <<'PY' || fail "refresh after SIGTERM (see above)"
from refresh import *
near(stored(), time.time() + 3600, "the refresh after SIGTERM")
PY
start --refresh-write-delay 10
python3 - "$pid" <<'PY' || fail "refresh and kill -9 (see above)"
import signal, sys
from refresh import *
t = refresh()
os.kill(int(sys.argv[1]), signal.SIGKILL)
open(os.path.join(os.environ["DATA"], "t0"), "w").write(str(t))
PY
rc=0; { wait "$pid"; } 2>/dev/null || rc=$?; pid=""
[ $rc -eq 137 ] || fail "the server was not killed by SIGKILL (status $rc)"
start --refresh-write-delay 0
python3 - <<'PY' || fail "refresh lost by kill -9, binding kept; --refresh-write-delay 0 (see above)"
from refresh import *
t = float(open(os.path.join(os.environ["DATA"], "t0")).read())
near(stored(), t + 600, "after kill -9 the binding keeps the expiry it had before the refresh")
b = [x for x in bindings_of("ivan") if x[1] == C]
assert b and 590 <= b[0][4] <= 600, "ivan's second phone after kill -9: %s" % bindings_of("ivan")
refresh()
near(stored(), time.time() + 3600, "with --refresh-write-delay 0 the refresh is on disk before its 200")
PY
stop
start
python3 - <<'PY' || fail "refresh written within a second by default (see above)"
from refresh import *
refresh()
deadline = time.time() + 5
while abs(stored() - (time.time() + 3600)) > 3 and time.time() < deadline:
    time.sleep(0.05)
near(stored(), time.time() + 3600, "5 s after a refresh (default: written within 1 s)")
PY
echo "ok 9c: a refresh is written within --refresh-write-delay; SIGTERM writes it, kill -9 keeps the binding"

# --- 10. expired bindings leave location.db: a row that expired while the server was down goes at the
# start, one that expires while it runs goes with the sweep (each shard every 16 s); refreshed ones stay.
stop
python3 - "$data/location.db" <<'PY' || fail "planting an expired row"
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
db.execute("INSERT INTO bindings(aor, contact, call_id, cseq, q, expires_at, registered_at) "
           "VALUES('alice@example.test', 'sip:alice@127.0.0.1:5999', 'old-call', 1, 1000, ?, ?)",
           (int(time.time()) - 5, int(time.time()) - 3605))
db.commit()
PY
start --min-expires 2
python3 - "$data/location.db" <<'PY' || fail "expired bindings in location.db (see above)"
import sys, time
from sipc import *
rows = lambda: stored_contacts(sys.argv[1], "alice@%")
deadline = time.time() + 5
while "sip:alice@127.0.0.1:5999" in rows() and time.time() < deadline:
    time.sleep(0.1)
assert "sip:alice@127.0.0.1:5999" not in rows(), "the row expired before the start is still there: %s" % rows()
s = Session("alice")
ok(s.register(["<sip:alice@127.0.0.1:5701>"], 2), "alice registers for 2 s")
ok(Session("alice").register(["<sip:alice@127.0.0.1:5702>"], 3600), "alice's second phone for an hour")
assert "sip:alice@127.0.0.1:5701" in rows(), "the 200 came before the row was written: %s" % rows()
deadline = time.time() + 25
while "sip:alice@127.0.0.1:5701" in rows() and time.time() < deadline:
    time.sleep(0.2)
left = rows()
assert "sip:alice@127.0.0.1:5701" not in left, "25 s after its expiry the row is still there: %s" % left
assert "sip:alice@127.0.0.1:5702" in left, "the sweep removed a binding that had not expired: %s" % left
PY
echo "ok 10: expired bindings leave location.db"

# --- 11. the disk refuses: another process holds location.db's write lock past the 5 s busy timeout.
# Two REGISTERs while it is held: a commit that started under the lock gets 500 (storage) for its
# REGISTERs, without Contacts, and nothing of them is on disk or left in memory (dave's refresh of a
# binding he already had is undone to the stored expiry, his new contact and erin's are gone: a query
# REGISTER lists what memory holds). Both usually share one commit; when the second reached the writer
# after the first commit had started (a loaded machine), its own commit waits for the lock, which goes
# 6.5 s in, and it gets 200 with its rows written. The first commit always fails. Once the lock is gone
# the same phones register (200, the rows written).
python3 - "$data/location.db" <<'PY' || fail "REGISTER while location.db is locked (see above)"
import sqlite3, sys, threading, time
from sipc import *
rows = lambda: stored_contacts(sys.argv[1])
kept = "<sip:dave@127.0.0.1:5810>"
phones = [(Session("dave"), [kept, "<sip:dave@127.0.0.1:5811>"]), (Session("erin"), ["<sip:erin@127.0.0.1:5812>"])]
ok(phones[0][0].register([kept], 600), "dave's first contact, before the disk is locked")
for s, _ in phones:
    s.challenge()
lock = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
lock.execute("BEGIN IMMEDIATE")
answers, at = {}, {}
def register(i):
    s, c = phones[i]
    answers[i] = s.register(c, 3600)
    at[i] = time.monotonic()
started = time.monotonic()
threads = [threading.Thread(target=register, args=(i,)) for i in range(2)]
for t in threads: t.start()
time.sleep(6.5)
released = time.monotonic()
lock.execute("ROLLBACK")
lock.close()
for t in threads: t.join()
refused = [i for i, r in answers.items() if r.status != 200]
assert refused, "no REGISTER was refused while the disk was locked: %s" % [(r.status, r.reason) for r in answers.values()]
left = rows()
assert kept[1:-1] in left, "dave's stored binding went: %s" % left
for i, r in answers.items():
    new = phones[i][1][1:] if i == 0 else phones[i][1]
    if r.status == 200:
        assert at[i] >= released, "a REGISTER was answered 200 while the disk was locked"
        for c in new:
            assert c[1:-1] in left, "a binding answered 200 is not on disk: %s" % left
        continue
    assert r.status == 500 and "storage" in r.reason, "a REGISTER with the disk locked got %d %s" % (r.status, r.reason)
    assert not r.values("Contact"), "the 500 lists Contacts:\n%s" % r
    assert at[i] - started >= 4.5, "answered before the busy timeout"
    for c in new:
        assert c[1:-1] not in left, "a refused binding was written: %s" % left
dave = ok(phones[0][0].register([], None), "dave's query").contacts()
if 0 in refused:
    assert phones[0][1][1][1:-1] not in dave and kept[1:-1] in dave, "memory holds what the refused REGISTER made: %s" % dave
    assert 590 <= int(dave[kept[1:-1]]["expires"]) <= 600, "the refused refresh stayed in memory: %s" % dave
erin = ok(phones[1][0].register([], None), "erin's query").contacts()
if 1 in refused:
    assert not erin, "memory holds erin's refused binding: %s" % erin
for s, c in phones:
    ok(s.register(c, 3600), "the same phone once the disk is free")
left = rows()
for c in phones[0][1] + phones[1][1]:
    assert c[1:-1] in left, "the binding is not on disk after its 200: %s" % left
assert int(ok(phones[0][0].register([], None), "dave's query").contacts()[kept[1:-1]]["expires"]) > 3500
PY
echo "ok 11: a locked location.db gives 500 (storage) to the REGISTERs of a commit it refuses, memory put back as stored, then 200 again"
stop
echo "register_test: all passed"
