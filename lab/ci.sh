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
if ip netns list | grep -q '^bf-'; then echo "ci: lab namespaces left behind"; fail=$((fail+1)); else pass=$((pass+1)); fi
echo "lab: $pass passed, $fail failed"
[ $fail = 0 ]
