#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/engine/dos_test.sh BEFFROI: the DoS detector on the lab's committed
# demo capture (a spoofed SYN flood among a day's traffic):
#  - the attack is reported (start, end) and typed syn_flood;
#  - the same attacks, times, vectors and rates with --threads 1 and 2
#    (bins are merged across workers before detection);
#  - the DoS alerts validate against the EVE schema (when ../shared has it).
# DOS_LONG=1 also runs lab/tools/dos_check.py on the lab captures present in
# lab/out (dos-rates, dos, benign, iperf: make them with sudo lab/run.sh ...).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
beffroi=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bf-dos.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
home='vars.address-groups.HOME_NET=[192.0.2.0/24,10.66.0.0/24]'
for t in 1 2; do
  mkdir "$tmp/t$t"
  "$beffroi" -r "$root/lab/demo/demo.pcap" -l "$tmp/t$t" --threads $t -q --set "$home"
  grep '"gid":9000' "$tmp/t$t/eve.json" > "$tmp/t$t/dos.json" || true
done
/usr/bin/python3 - "$tmp/t1/dos.json" "$tmp/t2/dos.json" <<'PY'
import json, sys
def core(path):
    out = []
    for l in open(path):
        c = json.loads(l)["alert"]["context"]["dos"]
        out.append(tuple(str(c.get(k)) for k in ("attack_id", "phase", "vectors", "victim", "start", "detected",
                                                 "end", "peak_pps", "peak_bps", "packets", "sources_distinct")))
    return sorted(out)
a, b = core(sys.argv[1]), core(sys.argv[2])
ok = True
phases = [x[1] for x in a]
if "start" not in phases or "end" not in phases or not any("syn_flood" in x[2] for x in a):
    print("FAIL: the demo's SYN flood was not reported (start/end, syn_flood)"); ok = False
if a != b:
    print("FAIL: --threads 1 and --threads 2 differ:")
    for x in sorted(set(a) ^ set(b)):
        print("  ", "t1" if x in a else "t2", x)
    ok = False
else:
    print(f"threads 1 and 2: the same {len(a)} DoS events")
print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
sys.exit(0 if ok else 1)
PY
schema="$root/../shared/suricata-eve-schema/schema.json"
if [ -f "$schema" ]; then
  /usr/bin/python3 "$root/tests/tools/eve_validate.py" --schema "$schema" "$tmp/t1/dos.json" "$tmp/t2/dos.json"
else
  echo "SKIP: schema validation (no $schema)"
fi
if [ "${DOS_LONG:-0}" = 1 ]; then
  # the acceptance: dos-rates (known multiples of the trigger), benign, iperf;
  # the plain dos scenario (back-to-back attacks, slowloris ramping at 100
  # connections/s) is shown for information
  caps=()
  for c in dos-rates benign iperf; do [ -f "$root/lab/out/$c.pcap" ] && caps+=("$c"); done
  if [ ${#caps[@]} -gt 0 ]; then
    /usr/bin/python3 "$root/lab/tools/dos_check.py" --beffroi "$beffroi" "${caps[@]}"
    /usr/bin/python3 "$root/lab/tools/dos_check.py" --beffroi "$beffroi" --threads 2 "${caps[@]}"
    if [ -f "$root/lab/out/dos.pcap" ]; then
      /usr/bin/python3 "$root/lab/tools/dos_check.py" --beffroi "$beffroi" dos || echo "(dos scenario: information only)"
    fi
  else
    echo "DOS_LONG: no lab captures in lab/out (sudo lab/run.sh dos-rates | benign | iperf)"
  fi
fi
