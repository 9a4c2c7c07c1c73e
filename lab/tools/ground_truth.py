#!/usr/bin/env python3
"""Assemble the ground-truth JSON of a run from incidents recorded during it
(addresses from lab/lib.sh variables, times taken with date before/after each step)."""
import json, sys, datetime, subprocess
scen, rd, pcap = sys.argv[1:4]
iso = lambda t: datetime.datetime.fromtimestamp(float(t), datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
inc = []
for l in open(f"{rd}/incidents.jsonl"):
    if not l.strip(): continue
    r = json.loads(l); extra = r.pop("extra", {}) or {}
    s, e = r.pop("start_epoch"), r.pop("end_epoch")
    inc.append({**{k: r[k] for k in ("family", "technique", "attacker", "victim")}, "start": iso(s), "end": iso(e),
                "start_epoch": s, "end_epoch": e, "expect": r["expect"], **extra})
inc.sort(key=lambda r: r["start_epoch"])
cs, ce = (open(f"{rd}/cap/{n}").read().strip() for n in ("start", "end"))
net = {"internet": ["198.51.100.0/24", "203.0.113.0/24"], "dmz": "192.0.2.0/24", "lan": "10.66.0.0/24"}
hosts = {}
for line in open(f"{sys.path[0]}/../lib.sh"):
    line = line.strip()
    if line.startswith('"') and line.count('"') >= 2:
        parts = line.split('"')[1].split()
        if len(parts) == 3: hosts[parts[0]] = {"zone": parts[1], "ip": parts[2]}
out = {"scenario": scen, "pcap": pcap.split("/")[-1], "capture_start": iso(cs), "capture_end": iso(ce),
       "network": net, "hosts": hosts, "incidents": inc}
print(json.dumps(out, indent=2, ensure_ascii=False))
