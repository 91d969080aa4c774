# Prepended to each case of b2bua_test.sh: sipua's phones, and providers (the same plain UDP user agents
# bound to another loopback address and a port the trunk was configured with).
import hashlib
import os
import re
import socket
import sys
import time

from sipua import SDP, Callee, Phone, challenge_params, hostport_of, incoming, rand, uri_of

P_PROV, P_TEL = int(os.environ["P_PROV"]), int(os.environ["P_TEL"])
P_DOWN, P_BACKUP = int(os.environ["P_DOWN"]), int(os.environ["P_BACKUP"])
PORT = int(os.environ["PORT"])


class Provider(Phone):
    def __init__(self, ip, port):
        super().__init__("prov")
        self.sock.close()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, port))
        self.ip, self.port = ip, self.sock.getsockname()[1]
        self.contact = "sip:gw@%s:%d" % (ip, self.port)

    def via(self, branch=None):
        return "SIP/2.0/UDP %s:%d;branch=%s;rport" % (self.ip, self.port, branch or "z9hG4bK" + rand())
