#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's first command: installs the dependencies, builds Beffroi and
# runs it on the demo capture the project ships (made by its own lab),
# then prints a readable summary of what it found.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target beffroi >/dev/null
PCAP=${1:-lab/demo/demo.pcap}
OUT=${2:-out/demo}
if [ ! -f "$PCAP" ]; then
  echo "no demo capture at $PCAP" >&2
  exit 1
fi
rm -rf "$OUT" && mkdir -p "$OUT"
echo "== beffroi -r $PCAP -l $OUT"
status=0
./build/beffroi -r "$PCAP" -l "$OUT" --no-progress || status=$?
echo
echo "== events in $OUT/eve.json by type"
jq -r '.event_type' "$OUT/eve.json" | sort | uniq -c | sort -rn
echo
echo "== flows by application protocol"
jq -r 'select(.event_type=="flow") | (.app_proto // "none") + " " + .proto' "$OUT/eve.json" \
  | sort | uniq -c | sort -rn | head -20
exit $status
