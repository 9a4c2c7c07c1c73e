#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/engine/flood_test.sh BEFFROI: a spoofed SYN flood from 5,000,000
# distinct sources (bench/synflood.py) must leave Beffroi's peak RSS within
# its configured caps plus a fixed allowance for code, rings and buffers, and
# the final stats must account for every packet: each SYN either got a flow
# or was counted as refused by the flow memcap.  FLOOD_COUNT to change.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
beffroi=$1
count=${FLOOD_COUNT:-5000000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bf-flood.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$root/bench/synflood.py" --count "$count" --out "$tmp/flood.pcap" >/dev/null
cat >"$tmp/caps.yaml" <<EOF2
flow:
  memcap: 32mb
stream:
  memcap: 16mb
defrag:
  memcap: 8mb
outputs:
  eve:
    flow: no
EOF2
mkdir "$tmp/log"
/usr/bin/time -f '%M' -o "$tmp/rss" "$beffroi" -r "$tmp/flood.pcap" -l "$tmp/log" -c "$tmp/caps.yaml" \
    -k none -q --threads 2
rss_kib=$(tail -n1 "$tmp/rss")
/usr/bin/python3 - "$tmp/log/eve.json" "$rss_kib" "$count" <<'PY'
import json, sys
eve, rss_kib, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
last = None
for line in open(eve):
    ev = json.loads(line)
    if ev.get("event_type") == "stats":
        last = ev["stats"]
caps_mib = 32 + 16 + 8
allowance_mib = 96   # binary, libraries, 2 x 8 MiB rings, hash buckets, EVE buffers
rss_mib = rss_kib / 1024
fl = last["flow"]
print(f"peak RSS {rss_mib:.1f} MiB (caps {caps_mib} MiB + allowance {allowance_mib} MiB)")
print(f"packets {last['decoder']['pkts']}, flows created {fl['total']}, refused by memcap {fl['memcap']},"
      f" evicted {fl['mgr']['flows_evicted']}, emergency entered {fl['emerg_mode_entered']}")
ok = True
if last["decoder"]["pkts"] != count:
    print("FAIL: not every packet was decoded"); ok = False
if fl["total"] + fl["memcap"] != count:
    print("FAIL: flows created + refused != SYNs"); ok = False
if fl["memcap"] + fl["mgr"]["flows_evicted"] == 0:
    print("FAIL: the cap never bit: the test does not test anything"); ok = False
if rss_mib > caps_mib + allowance_mib:
    print("FAIL: RSS above caps + allowance"); ok = False
print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
sys.exit(0 if ok else 1)
PY
