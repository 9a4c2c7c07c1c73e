#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Checks that Beffroi writes the same events whatever the number of worker
threads: runs `beffroi --threads 1` and `--threads 2` (and 3) on captures and
compares the multisets of flow and anomaly events (order may differ between
workers; content may not).  Also checks that every line is JSON and that the
final stats count every packet.

usage: threads_equiv.py BEFFROI PCAP [PCAP...]

With RULES_FILES (a list of rule files separated by ':'), the rules are
loaded too and `alert` events are compared as well (thresholds, flowbits and
per-transaction matching must not depend on the threads).
"""
import collections
import json
import os
import subprocess
import sys
import tempfile


def run(beffroi, pcap, threads, outdir):
    os.makedirs(outdir, exist_ok=True)
    eve = os.path.join(outdir, "eve.json")
    if os.path.exists(eve):
        os.unlink(eve)
    cmd = [beffroi, "-r", pcap, "-l", outdir, "-q", "-k", "none", "--threads", str(threads)]
    for r in filter(None, os.environ.get("RULES_FILES", "").split(":")):
        cmd += ["-S", r]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if p.returncode not in (0, 3):
        raise SystemExit(f"FAIL {pcap}: beffroi --threads {threads} exited {p.returncode}: {p.stderr[-2000:]}")
    events = []
    with open(eve) as f:
        for n, line in enumerate(f, 1):
            try:
                events.append(json.loads(line))
            except ValueError as e:
                raise SystemExit(f"FAIL {pcap}: line {n} is not JSON: {e}")
    return events


def key(ev):
    ev = dict(ev)
    # flow ids carry the worker number; compare everything else
    ev.pop("flow_id", None)
    return json.dumps(ev, sort_keys=True)


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    beffroi, pcaps = sys.argv[1], sys.argv[2:]
    failed = passed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for pcap in pcaps:
            base = None
            ok = True
            for t in (1, 2, 3):
                evs = run(beffroi, pcap, t, os.path.join(tmp, str(t)))
                stats = [e for e in evs if e.get("event_type") == "stats"]
                if not stats:
                    print(f"FAIL {pcap}: no stats event with --threads {t}")
                    ok = False
                    break
                c = collections.Counter(key(e) for e in evs if e.get("event_type") in ("flow", "anomaly", "alert"))
                pk = stats[-1]["stats"]["decoder"]["pkts"]
                if base is None:
                    base, base_pkts = c, pk
                    continue
                if pk != base_pkts:
                    print(f"FAIL {pcap}: {pk} packets with --threads {t}, {base_pkts} with 1")
                    ok = False
                if c != base:
                    only1 = list((base - c).elements())[:3]
                    onlyt = list((c - base).elements())[:3]
                    print(f"FAIL {pcap}: events differ between --threads 1 and {t}\n  only 1: {only1}\n  only {t}: {onlyt}")
                    ok = False
            if ok:
                passed += 1
                print(f"PASS {pcap} ({sum(base.values())} flow/anomaly events)")
            else:
                failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
