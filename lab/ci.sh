#!/usr/bin/env bash
# CI: prove the lab on a fresh machine: installs what ci-smoke needs, servers up,
# attacks, capture, ground truth, tshark checks, Beffroi on the capture (when built),
# and nothing left behind.
set -uo pipefail
cd "$(dirname "$0")"
pass=0; fail=0
if ./run.sh ci-smoke; then pass=$((pass+1)); else fail=$((fail+1)); fi
if [ -s out/ci-smoke.pcap ] && /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["incidents"]) >= 4' out/ci-smoke.json; then
  pass=$((pass+1)); else echo "ci: missing pcap or ground truth"; fail=$((fail+1)); fi
# Beffroi on the capture: it must read it, identify the protocols the scenario
# used, log their transactions, and every EVE line must follow the schema.
BEFFROI="${BEFFROI:-$PWD/../build/beffroi}"
if [ -x "$BEFFROI" ] && [ -s out/ci-smoke.pcap ]; then
  rm -rf out/ci-beffroi && mkdir -p out/ci-beffroi
  "$BEFFROI" -r out/ci-smoke.pcap -l out/ci-beffroi -q; rc=$?
  if [ $rc -eq 0 ] && /usr/bin/python3 - out/ci-beffroi/eve.json <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
types = {e["event_type"] for e in ev}
apps = {e.get("app_proto") for e in ev if e["event_type"] == "flow"}
need_apps = {"http", "dns", "ssh"}
need_types = {"flow", "http", "dns", "ssh", "stats"}
print("beffroi on ci-smoke: event types", sorted(types), "app protocols", sorted(a for a in apps if a))
missing = (need_apps - apps) | (need_types - types)
if missing:
    print("missing:", sorted(missing)); sys.exit(1)
syn = [e for e in ev if e["event_type"] == "flow" and e.get("tcp", {}).get("tcp_flags_ts") == "02"]
print("flows whose client sent only a SYN (the flood):", len(syn))
if len(syn) < 1000:
    sys.exit(1)
PY
  then
    if [ -f ../tests/tools/eve_validate.py ] && [ -f ../../shared/suricata-eve-schema/schema.json ]; then
      /usr/bin/python3 ../tests/tools/eve_validate.py out/ci-beffroi/eve.json && pass=$((pass+1)) || { echo "ci: EVE not valid"; fail=$((fail+1)); }
    fi
    pass=$((pass+1))
  else
    echo "ci: beffroi on the capture failed (exit $rc)"; fail=$((fail+1))
  fi
else
  echo "ci: no beffroi binary at $BEFFROI or no capture: detection step not run"; fail=$((fail+1))
fi
if ip netns list | grep -q '^bf-'; then echo "ci: lab namespaces left behind"; fail=$((fail+1)); else pass=$((pass+1)); fi
echo "lab: $pass passed, $fail failed"
[ $fail = 0 ]
