#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write a spoofed SYN flood capture: N distinct source addresses, one SYN
each, toward one victim.

  bench/synflood.py [--count 5000000] [--out bench/data/synflood.pcap]
                    [--victim 192.0.2.10] [--port 80] [--pps 1000000]

Sources are 10.0.0.0/8 (then 11/8, 12/8, ... past 16M) scrambled with an odd
multiplier so that consecutive packets do not hash alike.  IPv4 and TCP
checksums are correct.  Classic pcap, microseconds, Ethernet, 58-byte frames
(TCP with an MSS option), streamed to the file in chunks.
"""

import argparse
import ipaddress
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRAMBLE = 0x9E3779B1  # odd: i -> i*K mod 2^24 is a bijection
CHUNK = 65536


def fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def words_sum(b):
    if len(b) % 2:
        b += b"\0"
    return sum(struct.unpack("!%dH" % (len(b) // 2), b))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=5000000, help="packets = distinct sources")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "data", "synflood.pcap"))
    ap.add_argument("--victim", default="192.0.2.10")
    ap.add_argument("--port", type=int, default=80)
    ap.add_argument("--pps", type=float, default=1e6, help="packet rate in the timestamps")
    ap.add_argument("--start", type=int, default=1700000000, help="first timestamp (s)")
    args = ap.parse_args()
    if args.count < 1 or args.count > 200 * (1 << 24):
        ap.error("--count out of range")

    dst = int(ipaddress.IPv4Address(args.victim))
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    tcp_len = 24
    ip_len = 20 + tcp_len
    # IPv4 header with src = 0 and checksum = 0: the constant part of the sum
    ip_hdr = struct.pack("!BBHHHBBHII", 0x45, 0, ip_len, 0x1234, 0x4000, 64, 6, 0, 0, dst)
    ip_base = words_sum(ip_hdr)
    # TCP SYN with sport = 0, seq = 0, checksum = 0, MSS 1460
    tcp_hdr = struct.pack("!HHIIBBHHH", 0, args.port, 0, 0, (6 << 4), 0x02, 64240, 0, 0) + \
        bytes.fromhex("020405b4")
    pseudo = struct.pack("!IIBBH", 0, dst, 0, 6, tcp_len)
    tcp_base = words_sum(pseudo) + words_sum(tcp_hdr)

    frame = bytearray(eth + ip_hdr + tcp_hdr)
    flen = len(frame)
    rec = bytearray(16 + flen)
    struct.pack_into("<II", rec, 8, flen, flen)
    rec[16:] = frame
    rec_len = len(rec)
    # offsets in a record
    o_ts = 0
    o_ipsum = 16 + 14 + 10
    o_src = 16 + 14 + 12
    o_sport = 16 + 14 + 20
    o_seq = o_sport + 4
    o_tcpsum = o_sport + 16

    step_us = 1e6 / args.pps
    t0 = args.start * 1000000
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".part"
    pack_ts = struct.Struct("<II").pack_into
    pack_u16 = struct.Struct("!H").pack_into
    pack_u32 = struct.Struct("!I").pack_into
    with open(tmp, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        i = 0
        n = args.count
        while i < n:
            m = min(CHUNK, n - i)
            buf = bytearray(rec_len * m)
            off = 0
            for j in range(i, i + m):
                src = ((10 + (j >> 24)) << 24) | ((j * SCRAMBLE) & 0xFFFFFF)
                sport = 1024 + (j % 64512)
                seq = (j * 2654435761) & 0xFFFFFFFF
                t = t0 + int(j * step_us)
                buf[off:off + rec_len] = rec
                pack_ts(buf, off + o_ts, t // 1000000, t % 1000000)
                pack_u32(buf, off + o_src, src)
                pack_u16(buf, off + o_sport, sport)
                pack_u32(buf, off + o_seq, seq)
                s_hi, s_lo = src >> 16, src & 0xFFFF
                pack_u16(buf, off + o_ipsum, (~fold(ip_base + s_hi + s_lo)) & 0xFFFF)
                pack_u16(buf, off + o_tcpsum, (~fold(tcp_base + s_hi + s_lo + sport +
                                                     (seq >> 16) + (seq & 0xFFFF))) & 0xFFFF)
                off += rec_len
            out.write(buf)
            i += m
    os.replace(tmp, args.out)
    print("%s: %d SYN packets from %d sources to %s:%d, %.1f MB"
          % (args.out, n, n, args.victim, args.port, os.path.getsize(args.out) / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
