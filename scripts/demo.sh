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
# rules: the Emerging Threats Open set from ../shared when it is there
RULES=()
ET=../shared/rules/et-open
if [ -f "$ET/default-rule-files.txt" ]; then
  while read -r f _; do
    case "$f" in ''|'#'*) continue ;; esac
    [ -f "$ET/$f" ] && RULES+=(-S "$ET/$f")
  done <"$ET/default-rule-files.txt"
else
  echo "(no ET Open rules at $ET: running without signatures; behavioural detectors only)"
fi
echo "== beffroi -r $PCAP -l $OUT ${RULES:+(+ $(( ${#RULES[@]} / 2 )) ET Open rule files)}"
status=0
./build/beffroi -r "$PCAP" -l "$OUT" --no-progress -q "${RULES[@]}" || status=$?
echo
echo "== events in $OUT/eve.json by type"
jq -r '.event_type' "$OUT/eve.json" | sort | uniq -c | sort -rn
echo
echo "== alerts by signature"
jq -r 'select(.event_type=="alert") | .alert.signature' "$OUT/eve.json" | sort | uniq -c | sort -rn | head -25
echo
echo "== flows by application protocol"
jq -r 'select(.event_type=="flow") | (.app_proto // "none") + " " + .proto' "$OUT/eve.json" \
  | sort | uniq -c | sort -rn | head -20
exit $status
