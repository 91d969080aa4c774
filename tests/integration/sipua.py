"""A small SIP user agent over UDP for integration tests: it registers with digest auth, places calls
through the proxy (answering 407), answers them, follows route sets, and lets the test look at every
message. Plain sockets and hashlib; nothing is mocked on the server's side.

Environment: PORT (the server's UDP port on 127.0.0.1), DOMAIN, PW (every user's password).
"""
import hashlib
import os
import random
import re
import socket
import time

PORT = int(os.environ["PORT"])
DOMAIN = os.environ.get("DOMAIN", "example.test")
PW = os.environ["PW"]
SERVER = ("127.0.0.1", PORT)


def rand(bits=64):
    return "%0*x" % (bits // 4, random.getrandbits(bits))


class Msg:
    def __init__(self, raw, source=None):
        self.raw = raw
        self.source = source
        head, _, self.body = raw.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.start = lines[0]
        self.headers = []
        for line in lines[1:]:
            n, _, v = line.partition(":")
            self.headers.append((n.strip(), v.strip()))
        parts = self.start.split(" ", 2)
        if parts[0] == "SIP/2.0":
            self.status, self.reason, self.method, self.uri = int(parts[1]), parts[2], None, None
        else:
            self.status, self.reason, self.method, self.uri = None, None, parts[0], parts[1]

    def values(self, name):
        out = []
        for n, v in self.headers:
            if n.lower() == name.lower():
                out += split_list(v) if name.lower() in ("via", "record-route", "route") else [v]
        return out

    def first(self, name):
        v = self.values(name)
        return v[0] if v else None

    @property
    def cseq_method(self):
        return self.first("CSeq").split()[1]

    @property
    def call_id(self):
        return self.first("Call-ID")

    def to_tag(self):
        m = re.search(r";\s*tag=([^;>\s]+)", self.first("To"))
        return m.group(1) if m else None

    def __str__(self):
        return self.raw


def split_list(v):
    out, depth, quoted, cur = [], 0, False, ""
    for c in v:
        if c == '"':
            quoted = not quoted
        if not quoted and c == "<":
            depth += 1
        if not quoted and c == ">":
            depth -= 1
        if c == "," and depth == 0 and not quoted:
            out.append(cur.strip())
            cur = ""
        else:
            cur += c
    if cur.strip():
        out.append(cur.strip())
    return out


def uri_of(name_addr):
    m = re.search(r"<([^>]*)>", name_addr)
    return m.group(1) if m else name_addr.split(";")[0]


def hostport_of(uri):
    m = re.match(r"sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>]+)(?::(\d+))?", uri)
    return m.group(1).strip("[]"), int(m.group(2) or 5060)


def challenge_params(value):
    scheme, rest = value.split(" ", 1)
    params = re.findall(r'\s*([A-Za-z0-9_-]+)=("(?:[^"\\]|\\.)*"|[^,\s]*)\s*(?:,|$)', rest)
    return {n.lower(): (v[1:-1] if v.startswith('"') else v) for n, v in params}


def digest(user, password, method, uri, challenge, algorithm="SHA-256"):
    h = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}[algorithm]
    hx = lambda s: h(s.encode()).hexdigest()
    realm, nonce, cnonce = challenge["realm"], challenge["nonce"], rand()
    ha1 = hx("%s:%s:%s" % (user, realm, password))
    resp = hx("%s:%s:00000001:%s:auth:%s" % (ha1, nonce, cnonce, hx("%s:%s" % (method, uri))))
    return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=%s, qop=auth, '
            'nc=00000001, cnonce="%s"' % (user, realm, nonce, uri, resp, algorithm, cnonce))


SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"


class Phone:
    """One phone: a UDP socket, a user name, and what it has received but not yet looked at."""

    def __init__(self, user, password=PW, contact_user=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.user, self.password = user, password
        self.contact = "sip:%s@127.0.0.1:%d" % (contact_user or user, self.port)
        self.inbox = []
        self.cseq = 0

    def close(self):
        self.sock.close()

    # ---- raw I/O ----
    def send(self, text, to=SERVER):
        self.sock.sendto(text.encode(), to)

    def recv(self, timeout=3.0, match=None, what="a message"):
        """The first message (kept or new) for which match(msg) is true; others stay in the inbox."""
        deadline = time.monotonic() + timeout
        while True:
            for i, m in enumerate(self.inbox):
                if match is None or match(m):
                    return self.inbox.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("%s: no %s within %.1f s; inbox: %s" %
                                     (self.user, what, timeout, [m.start for m in self.inbox]))
            self.sock.settimeout(left)
            try:
                data, src = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            self.inbox.append(Msg(data.decode(), src))

    def quiet(self, seconds, match=None):
        """Asserts nothing matching arrives for `seconds`."""
        try:
            m = self.recv(seconds, match)
        except AssertionError:
            return
        raise AssertionError("%s: unexpected %s" % (self.user, m.start))

    def response(self, call_id, method, status=None, timeout=3.0):
        def match(m):
            return (m.status is not None and m.call_id == call_id and m.cseq_method == method and
                    (status is None or m.status == status or (status == "final" and m.status >= 200)))
        return self.recv(timeout, match, "%s response %s to %s" % (status or "any", method, call_id))

    def request(self, method, timeout=3.0, call_id=None):
        def match(m):
            return m.method == method and (call_id is None or m.call_id == call_id)
        return self.recv(timeout, match, method)

    # ---- building ----
    def via(self, branch=None):
        return "SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport" % (self.port, branch or "z9hG4bK" + rand())

    def build(self, method, uri, call_id, from_tag, to, cseq, extra=(), body="", ctype="application/sdp",
              branch=None):
        lines = ["%s %s SIP/2.0" % (method, uri), "Via: " + self.via(branch), "Max-Forwards: 70",
                 "From: <sip:%s@%s>;tag=%s" % (self.user, DOMAIN, from_tag), "To: " + to, "Call-ID: " + call_id,
                 "CSeq: %d %s" % (cseq, method), "Contact: <%s>" % self.contact]
        lines += list(extra)
        if body:
            lines.append("Content-Type: " + ctype)
        lines.append("Content-Length: %d" % len(body.encode()))
        return "\r\n".join(lines) + "\r\n\r\n" + body

    def reply(self, req, status, reason="", tag=None, extra=(), body=""):
        """A response to req as a UAS: Via, From, To (+tag), Call-ID, CSeq, and Record-Route on 18x/2xx."""
        lines = ["SIP/2.0 %d %s" % (status, reason or {100: "Trying", 180: "Ringing", 200: "OK", 486: "Busy Here",
                                                        487: "Request Terminated", 480: "Temporarily Unavailable",
                                                        603: "Decline"}.get(status, "Whatever"))]
        lines += ["Via: " + v for v in req.values("Via")]
        lines.append("From: " + req.first("From"))
        to = req.first("To")
        if tag and "tag=" not in to:
            to += ";tag=" + tag
        lines.append("To: " + to)
        lines += ["Call-ID: " + req.call_id, "CSeq: " + req.first("CSeq")]
        if 100 < status < 300:
            lines += ["Record-Route: " + r for r in req.values("Record-Route")]
            lines.append("Contact: <%s>" % self.contact)
        lines += list(extra)
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append("Content-Length: %d" % len(body.encode()))
        text = "\r\n".join(lines) + "\r\n\r\n" + body
        # Responses go to the top Via's received/rport (RFC 3581), here always the server.
        self.send(text, req.source)
        return text

    # ---- procedures ----
    def register(self, replace=False, expires=300, q=None):
        """REGISTER this phone's contact; replace=True first removes every binding of the user (Contact: *),
        so that phones of earlier tests do not ring."""
        if replace:
            self._register("*", 0)
        return self._register("<%s>%s" % (self.contact, ";q=%s" % q if q else ""), expires)

    def _register(self, contact, expires):
        call_id, tag = rand() + "@reg", rand(32)
        uri = "sip:" + DOMAIN
        auth = None
        for _ in range(2):
            self.cseq += 1
            extra = ["Expires: %d" % expires]
            if auth:
                extra.append("Authorization: " + auth)
            text = self.build("REGISTER", uri, call_id, tag, "<sip:%s@%s>" % (self.user, DOMAIN), self.cseq, extra)
            text = text.replace("Contact: <%s>" % self.contact, "Contact: " + contact)
            self.send(text)
            r = self.response(call_id, "REGISTER", "final")
            if r.status == 401:
                auth = digest(self.user, self.password, "REGISTER", uri,
                              challenge_params(r.values("WWW-Authenticate")[0]))
                continue
            assert r.status == 200, "%s: REGISTER %s answered %s" % (self.user, contact, r.start)
            return r
        raise AssertionError("%s: REGISTER still challenged" % self.user)

    def call(self, target, authenticate=True, extra=(), method="INVITE", body=SDP, from_user=None):
        """Sends an INVITE (or MESSAGE ...) to sip:target@DOMAIN, answering the first 407. Returns the Call."""
        c = Call(self, target, method)
        c.from_user = from_user or self.user
        c.send(extra, body)
        if authenticate:
            r = self.response(c.call_id, method, "final")
            assert r.status == 407, "%s: first %s to %s answered %s, expected 407" % (self.user, method, target, r.start)
            c.ack_non2xx(r)
            ch = challenge_params(r.values("Proxy-Authenticate")[0])
            c.cseq += 1
            c.send(list(extra) + ["Proxy-Authorization: " + digest(self.user, self.password, method, c.uri, ch)], body)
        return c


class Call:
    def __init__(self, phone, target, method="INVITE"):
        self.phone, self.method = phone, method
        self.uri = target if ":" in target else "sip:%s@%s" % (target, DOMAIN)
        self.call_id = rand() + "@" + phone.user
        self.tag = rand(32)
        self.cseq = 1
        self.branch = None
        self.route = []
        self.remote = None
        self.to_tag = None
        self.from_user = phone.user

    def send(self, extra=(), body=SDP):
        self.branch = "z9hG4bK" + rand()
        text = self.phone.build(self.method, self.uri, self.call_id, self.tag, "<%s>" % self.uri, self.cseq, extra,
                                body if self.method == "INVITE" else (body or ""),
                                "application/sdp" if self.method == "INVITE" else "text/plain", self.branch)
        if self.from_user != self.phone.user:
            text = text.replace("From: <sip:%s@" % self.phone.user, "From: <sip:%s@" % self.from_user, 1)
        self.invite_text = text
        self.phone.send(text)

    def final(self, timeout=5.0):
        return self.phone.response(self.call_id, self.method, "final", timeout)

    def ack_non2xx(self, r):
        lines = ["ACK %s SIP/2.0" % self.uri, "Via: " + self.phone.via(self.branch), "Max-Forwards: 70",
                 "From: <sip:%s@%s>;tag=%s" % (self.from_user, DOMAIN, self.tag), "To: " + r.first("To"),
                 "Call-ID: " + self.call_id, "CSeq: %d ACK" % self.cseq, "Content-Length: 0"]
        self.phone.send("\r\n".join(lines) + "\r\n\r\n")

    def established(self, ok):
        """Takes the route set and remote target from a 2xx (RFC 3261 12.1.2)."""
        self.route = list(reversed(ok.values("Record-Route")))
        self.remote = uri_of(ok.first("Contact"))
        self.to_tag = ok.to_tag()

    def in_dialog(self, method, cseq=None, body=""):
        branch = "z9hG4bK" + rand()
        lines = ["%s %s SIP/2.0" % (method, self.remote), "Via: " + self.phone.via(branch), "Max-Forwards: 70"]
        lines += ["Route: " + r for r in self.route]
        lines += ["From: <sip:%s@%s>;tag=%s" % (self.from_user, DOMAIN, self.tag),
                  "To: <%s>;tag=%s" % (self.uri, self.to_tag), "Call-ID: " + self.call_id,
                  "CSeq: %d %s" % (cseq or self.cseq, method), "Content-Length: %d" % len(body)]
        text = "\r\n".join(lines) + "\r\n\r\n" + body
        # The first hop: the top Route (the proxy), else the remote target itself.
        to = hostport_of(uri_of(self.route[0])) if self.route else hostport_of(self.remote)
        self.phone.send(text, to)
        return text

    def ack(self):
        self.in_dialog("ACK")

    def bye(self):
        self.cseq += 1
        return self.in_dialog("BYE")

    def cancel(self):
        lines = ["CANCEL %s SIP/2.0" % self.uri, "Via: " + self.phone.via(self.branch), "Max-Forwards: 70",
                 "From: <sip:%s@%s>;tag=%s" % (self.from_user, DOMAIN, self.tag), "To: <%s>" % self.uri,
                 "Call-ID: " + self.call_id, "CSeq: %d CANCEL" % self.cseq, "Content-Length: 0"]
        self.phone.send("\r\n".join(lines) + "\r\n\r\n")
        return self.phone.response(self.call_id, "CANCEL", "final")


class Callee:
    """The answering side of one call as a phone sees it."""

    def __init__(self, phone, invite):
        self.phone, self.invite, self.tag = phone, invite, rand(32)

    def ring(self):
        return self.phone.reply(self.invite, 180, tag=self.tag)

    def answer(self, status=200, body=SDP):
        return self.phone.reply(self.invite, status, tag=self.tag, body=body if status == 200 else "")


def incoming(phone, method="INVITE", timeout=3.0, call_id=None):
    return Callee(phone, phone.request(method, timeout, call_id))
