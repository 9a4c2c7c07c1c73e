#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Writes seed inputs for fuzz_ssh / fuzz_ftp / fuzz_rdp (record format of
# fuzz/app_fuzz.h) into <outdir>/{ssh,ftp,rdp}/.  Usage: app_seeds.py outdir
import os, struct, sys

def recs(parts):
    out = b""
    for d, data in parts:
        for i in range(0, len(data), 200):
            c = data[i:i + 200]
            out += bytes([d, len(c) - 1]) + c
    return out

def pkt(payload):
    pad = 8 - ((5 + len(payload)) % 8)
    if pad < 4:
        pad += 8
    return struct.pack(">IB", 1 + len(payload) + pad, pad) + payload + b"\0" * pad

def kexinit(lists):
    p = bytes([20]) + bytes(range(16))
    for l in lists:
        p += struct.pack(">I", len(l)) + l.encode()
    return pkt(p + b"\0" + b"\0" * 4)

cl = ["curve25519-sha256,ext-info-c", "ssh-ed25519", "aes128-ctr", "aes128-ctr",
      "hmac-sha2-256", "hmac-sha2-256", "none", "none", "", ""]
ssh = recs([(1, b"SSH-2.0-OpenSSH_8.4\r\n"), (0, b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
            (1, kexinit(cl)), (0, kexinit(cl)), (0, pkt(bytes([30]) + b"k" * 40)),
            (1, pkt(bytes([31]) + b"r" * 100) + pkt(bytes([21])) + b"e" * 50),
            (0, pkt(bytes([21])) + b"s" * 64), (1, b"a" * 64), (0, b"n" * 80), (1, b"f" * 80),
            (0, b"p" * 96), (1, b"f" * 80), (0, b"p" * 96), (1, b"o" * 48)])
ftp = recs([(1, b"220-Hi\r\n220 ready\r\n"), (0, b"USER bob\r\n"), (1, b"331 pw\r\n"),
            (0, b"PASS x\r\n"), (1, b"530 no\r\n"), (0, b"PASV\r\n"),
            (1, b"227 Entering Passive Mode (1,2,3,4,5,6)\r\n"), (0, b"PORT 1,2,3,4,5,6\r\n"),
            (1, b"200 ok\r\n"), (0, b"EPSV\r\n"), (1, b"229 ok (|||6446|)\r\n"),
            (0, b"EPRT |1|1.2.3.4|99|\r\n"), (1, b"200 ok\r\n"), (0, b"RETR a\r\n"),
            (1, b"150 go\r\n226 done\r\n"), (0, b"AUTH TLS\r\n"), (1, b"234 ok\r\n")])
cr = (bytes([3, 0, 0, 0x33, 0x2e, 0xe0, 0, 0, 0, 0, 0]) + b"Cookie: mstshash=administrator\r\n"
      + bytes([1, 0, 8, 0, 3, 0, 0, 0]))
cc = bytes([3, 0, 0, 0x13, 0x0e, 0xd0, 0, 0, 0x12, 0x34, 0, 2, 0x1f, 8, 0, 2, 0, 0, 0])
fail = bytes([3, 0, 0, 0x13, 0x0e, 0xd0, 0, 0, 0x12, 0x34, 0, 3, 0, 8, 0, 5, 0, 0, 0])
rdp = recs([(0, cr), (1, cc), (0, b"\x16\x03\x01\x00\x05hello"), (1, b"\x16\x03\x01")])
rdp2 = recs([(0, cr), (1, fail)])
for name, seeds in (("ssh", [ssh]), ("ftp", [ftp]), ("rdp", [rdp, rdp2])):
    d = os.path.join(sys.argv[1], name)
    os.makedirs(d, exist_ok=True)
    for i, s in enumerate(seeds):
        open(os.path.join(d, "seed%d" % i), "wb").write(s)
