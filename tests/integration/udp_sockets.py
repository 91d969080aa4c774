"""Prints how many UDP sockets process PID has bound to ports LO..HI (IPv4 and IPv6), from /proc: only
that process's sockets count, whatever else runs on the machine.  Usage: udp_sockets.py PID LO HI"""
import os
import sys

pid, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
mine = set()
for fd in os.listdir("/proc/%s/fd" % pid):
    try:
        link = os.readlink("/proc/%s/fd/%s" % (pid, fd))
    except OSError:
        continue
    if link.startswith("socket:["):
        mine.add(link[8:-1])
n = 0
for table in ("/proc/net/udp", "/proc/net/udp6"):
    for line in open(table).read().splitlines()[1:]:
        cols = line.split()
        if cols[9] in mine and lo <= int(cols[1].split(":")[1], 16) <= hi:
            n += 1
print(n)
