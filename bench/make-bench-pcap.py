#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Build a large benchmark capture from the shared Ethernet pcaps.

  bench/make-bench-pcap.py [--size-mb 300] [--out bench/data/bench.pcap]
                           [--shared ../shared]

Takes every classic-pcap, LINKTYPE_ETHERNET file (also .pcap.gz) under
<shared>/captures/zeek-traces and <shared>/suricata-verify, and appends them
again and again until the output reaches --size-mb.  Timestamps are shifted
so the whole file is monotonic (gaps within a file are kept up to 600 s); in repetition r every IPv4 packet (also under
802.1Q/802.1ad tags) has r XOR-ed into the 2nd byte of its source and
destination addresses, with the IPv4 header checksum updated incrementally (a
bad checksum stays bad), so each repetition's flows are distinct.  TCP/UDP
checksums are left alone: run the engine with -k none.  Output: classic pcap,
microsecond timestamps, little-endian, snaplen 262144.
"""

import argparse
import gzip
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINKTYPE_ETHERNET = 1
MAX_CAPLEN = 262144
GAP_US = 1000  # between two input files
MAX_GAP_US = 600 * 1000000  # longest gap kept between two packets of one file


def read_pcap(path):
    """(linktype, [(ts_us, wirelen, data)]) of a classic pcap, or None if the
    file is not a classic pcap.  A truncated file gives what precedes the break."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError):
        return None
    if len(raw) < 24:
        return None
    magic = raw[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        endian, nano = "<", False
    elif magic == b"\xa1\xb2\xc3\xd4":
        endian, nano = ">", False
    elif magic == b"\x4d\x3c\xb2\xa1":
        endian, nano = "<", True
    elif magic == b"\xa1\xb2\x3c\x4d":
        endian, nano = ">", True
    else:
        return None
    linktype = struct.unpack(endian + "I", raw[20:24])[0] & 0x0FFFFFFF
    rec = struct.Struct(endian + "IIII")
    pkts = []
    off = 24
    n = len(raw)
    while off + 16 <= n:
        sec, frac, caplen, wirelen = rec.unpack_from(raw, off)
        off += 16
        if caplen > MAX_CAPLEN or off + caplen > n:
            break
        us = frac // 1000 if nano else frac
        if us >= 1000000:
            break
        pkts.append((sec * 1000000 + us, max(wirelen, caplen), raw[off:off + caplen]))
        off += caplen
    return linktype, pkts


def csum_add(a, b):
    s = a + b
    return (s & 0xFFFF) + (s >> 16)


def ipv4_offset(data):
    """Offset of the IPv4 header in an Ethernet frame, or -1."""
    off = 12
    n = len(data)
    for _ in range(3):
        if off + 2 > n:
            return -1
        et = (data[off] << 8) | data[off + 1]
        if et in (0x8100, 0x88A8, 0x9100):
            off += 4
            continue
        if et == 0x0800:
            return off + 2
        return -1
    return -1


def rewrite(data, key):
    """Frame with key XOR-ed into the 2nd byte of the IPv4 source and
    destination, checksum updated per RFC 1624 (HC' = ~(~HC + ~m + m'))."""
    ip = ipv4_offset(data)
    if ip < 0 or ip + 20 > len(data) or (data[ip] >> 4) != 4:
        return data
    b = bytearray(data)
    hc = (b[ip + 10] << 8) | b[ip + 11]
    acc = (~hc) & 0xFFFF
    for word in (ip + 12, ip + 16):  # the word holding the address's 1st and 2nd bytes
        old = (b[word] << 8) | b[word + 1]
        b[word + 1] ^= key
        new = (b[word] << 8) | b[word + 1]
        acc = csum_add(acc, (~old) & 0xFFFF)
        acc = csum_add(acc, new)
    acc = csum_add(acc, 0)
    hc = (~acc) & 0xFFFF
    b[ip + 10] = hc >> 8
    b[ip + 11] = hc & 0xFF
    return bytes(b)


def collect(shared):
    files = []
    for sub in ("captures/zeek-traces", "suricata-verify"):
        top = os.path.join(shared, sub)
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for fn in sorted(filenames):
                if fn.endswith((".pcap", ".pcap.gz", ".cap", ".dmp", ".trace")):
                    files.append(os.path.join(dirpath, fn))
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mb", type=float, default=300, help="minimum size (default 300)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "data", "bench.pcap"))
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--start", type=int, default=1700000000, help="first timestamp (s)")
    args = ap.parse_args()

    if not os.path.isdir(os.path.join(args.shared, "captures")) and \
            not os.path.isdir(os.path.join(args.shared, "suricata-verify")):
        print("SKIP: shared captures not found at %s" % args.shared)
        return int(os.environ.get("BF_SKIP_RC", "0"))

    inputs = []
    total = 0
    seen = set()
    for path in collect(args.shared):
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        r = read_pcap(path)
        if r is None or r[0] != LINKTYPE_ETHERNET or not r[1]:
            continue
        pkts = r[1]
        inputs.append(pkts)
        total += sum(16 + len(p[2]) for p in pkts)
    if not inputs:
        print("error: no Ethernet classic pcap under %s" % args.shared, file=sys.stderr)
        return 1
    print("%d Ethernet captures, %.1f MB per repetition" % (len(inputs), total / 1e6))

    target = int(args.size_mb * 1e6)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".part"
    rec = struct.Struct("<IIII")
    written = 24
    npkts = 0
    cursor = args.start * 1000000
    rep = 0
    with open(tmp, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, MAX_CAPLEN, LINKTYPE_ETHERNET))
        while written < target:
            key = rep % 256
            for pkts in inputs:
                prev = pkts[0][0]
                t = cursor
                chunk = []
                for ts, wirelen, data in pkts:
                    # keep the input's gaps, but never backwards (monotonic)
                    # and at most MAX_GAP_US (some inputs hold bogus times)
                    t += min(max(ts - prev, 0), MAX_GAP_US)
                    prev = ts
                    if key:
                        data = rewrite(data, key)
                    chunk.append(rec.pack(t // 1000000, t % 1000000, len(data), wirelen))
                    chunk.append(data)
                out.write(b"".join(chunk))
                written += sum(len(c) for c in chunk)
                npkts += len(pkts)
                cursor = t + GAP_US
            rep += 1
            print("  repetition %d: %.0f MB" % (rep, written / 1e6), flush=True)
    os.replace(tmp, args.out)
    print("%s: %d packets, %.1f MB, %d repetitions" % (args.out, npkts, written / 1e6, rep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
