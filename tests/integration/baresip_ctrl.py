"""Driving baresip 1.0 from a test through its ctrl_tcp module: JSON commands in netstrings, events on
the same connection (REAL-CLIENTS.md)."""
import json
import socket
import time


class Ctrl:
    def __init__(self, port):
        for _ in range(50):
            try:
                self.s = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                time.sleep(0.1)
        self.buf, self.events = b"", []

    def send(self, command, params=""):
        j = json.dumps({"command": command, "params": params, "token": command}).encode()
        self.s.sendall(b"%d:%s," % (len(j), j))

    def wait(self, kind, timeout=10):
        """The first event of this type (kept or new); others stay for later waits."""
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("type") == kind:
                    return self.events.pop(i)
            left = deadline - time.monotonic()
            assert left > 0, "no %s event; saw %s" % (kind, [(e.get("type"), e.get("param")) for e in self.events])
            self.s.settimeout(left)
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                continue
            assert data, "ctrl connection closed"
            self.buf += data
            while b":" in self.buf:
                n, rest = self.buf.split(b":", 1)
                if len(rest) < int(n) + 1:
                    break
                self.events.append(json.loads(rest[:int(n)]))
                self.buf = rest[int(n) + 1:]
