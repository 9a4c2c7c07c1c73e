#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/synflood.sh [pcap]: does Beffroi hold its memory caps under a spoofed
# SYN flood?  Makes bench/data/synflood.pcap (bench/synflood.py, 5M sources;
# SYNFLOOD_COUNT to change) when missing, runs
#   beffroi -r PCAP -l TMPDIR -c CAPS.yaml -k none -q --threads N
# with small caps (SYNFLOOD_FLOW_MEMCAP, default 32mb; SYNFLOOD_STREAM_MEMCAP,
# 32mb; SYNFLOOD_HASH_SIZE, 65536), and reports peak RSS against the
# configured caps plus the last stats event's `flow` object from eve.json
# (memcap = flows refused for the cap, emerg_mode_entered, active, memuse).
# BEFFROI=path picks the binary (default build-release/beffroi, else build/beffroi).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
pcap=${1:-$root/bench/data/synflood.pcap}
flow_memcap=${SYNFLOOD_FLOW_MEMCAP:-32mb}
stream_memcap=${SYNFLOOD_STREAM_MEMCAP:-32mb}
hash_size=${SYNFLOOD_HASH_SIZE:-65536}
threads=${SYNFLOOD_THREADS:-2}

beffroi=${BEFFROI:-}
if [[ -z "$beffroi" ]]; then
    for b in "$root/build-release/beffroi" "$root/build/beffroi"; do
        [[ -x "$b" ]] && { beffroi=$b; break; }
    done
fi
if [[ -z "$beffroi" || ! -x "$beffroi" ]]; then
    echo "error: no beffroi binary (build it, or set BEFFROI=path)" >&2
    exit 2
fi
if [[ ! -x /usr/bin/time ]]; then
    apt-get install -y -q time >/dev/null || { echo "error: /usr/bin/time missing (apt-get install time)" >&2; exit 2; }
fi
if [[ ! -f "$pcap" ]]; then
    "$root/bench/synflood.py" --count "${SYNFLOOD_COUNT:-5000000}" --out "$pcap"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bf-synflood.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/caps.yaml" <<EOF
%YAML 1.1
---
flow:
  memcap: $flow_memcap
  hash-size: $hash_size
  emergency-recovery: 30
stream:
  memcap: $stream_memcap
  reassembly:
    memcap: $stream_memcap
defrag:
  memcap: 16mb
stats:
  enabled: yes
  interval: 1
EOF
mkdir "$tmp/log"
rc=0
/usr/bin/time -f '%e %U %S %M' -o "$tmp/time" \
    "$beffroi" -r "$pcap" -l "$tmp/log" -c "$tmp/caps.yaml" -k none -q --threads "$threads" \
    ${SYNFLOOD_ARGS:-} >"$tmp/out" 2>"$tmp/err" || rc=$?
read -r wall user sys rss_kib < <(tail -n 1 "$tmp/time")

echo "capture: $pcap"
echo "caps: flow.memcap=$flow_memcap stream.memcap=$stream_memcap flow.hash-size=$hash_size threads=$threads"
echo "beffroi exit $rc, wall ${wall}s, cpu $(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')s"
if [[ $rc -ne 0 && $rc -ne 3 ]]; then
    echo "stderr tail:"; tail -n 10 "$tmp/err" | sed 's/^/    /'
fi

/usr/bin/python3 - "$tmp/log/eve.json" "$rss_kib" "$flow_memcap" "$stream_memcap" <<'PY'
import json, re, sys
eve, rss_kib, caps = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

def size(s):
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?)b?\s*", s.lower())
    if not m:
        return 0
    return int(float(m.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2)])

cap_total = sum(size(c) for c in caps)
rss = rss_kib * 1024
print("peak RSS %.1f MiB; flow+stream caps %.1f MiB; RSS/caps %.2f"
      % (rss / 2**20, cap_total / 2**20, rss / cap_total if cap_total else 0))
last = None
try:
    with open(eve) as f:
        for line in f:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("event_type") == "stats":
                last = ev
except OSError:
    print("no eve.json")
    sys.exit(0)
if last is None:
    print("no stats event in eve.json")
    sys.exit(0)
flow = last.get("stats", {}).get("flow")
print("last stats event (%s) stats.flow:" % last.get("timestamp"))
print(json.dumps(flow, indent=2, sort_keys=True))
if isinstance(flow, dict):
    for k in ("memcap", "emerg_mode_entered", "active", "memuse"):
        print("  flow.%-20s %s" % (k, flow.get(k, "(absent)")))
PY
