"""Free ports on 127.0.0.1 for a test, checked by binding them.
  free_ports.py triple   a port p with p, p+1 and p+2 free for UDP and TCP (a baresip: SIP, TLS, ctrl)
  free_ports.py range N  the first of N consecutive UDP ports, from an even one, all free (a relay range)"""
import random
import socket
import sys


def free(p, kinds=(socket.SOCK_DGRAM, socket.SOCK_STREAM)):
    for kind in kinds:
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            return False
        finally:
            s.close()
    return True


def triple():
    for _ in range(200):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        if p < 65000 and free(p) and free(p + 1) and free(p + 2):
            return p
    raise SystemExit("no free port")


def port_range(n):
    for _ in range(200):
        base = random.randrange(30000, 60000 - n) & ~1
        held = []
        try:
            for p in range(base, base + n):  # all held at once: the range is free as a whole
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                held.append(s)
                s.bind(("127.0.0.1", p))
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
        return base
    raise SystemExit("no free port range")


print(triple() if sys.argv[1] == "triple" else port_range(int(sys.argv[2])))
