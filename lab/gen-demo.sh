#!/usr/bin/env bash
# Build the committed demo capture lab/demo/demo.pcap + demo.json (<= 10 MB).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p demo
OUT_PCAP="$PWD/demo/demo.pcap" OUT_JSON="$PWD/demo/demo.json" DOCS_SCALE="${DOCS_SCALE:-0.5}" BACKUP_MB="${BACKUP_MB:-2}" \
  ./run.sh demo
sz=$(stat -c %s demo/demo.pcap)
echo "demo.pcap: $sz bytes"
[ "$sz" -le $((10 * 1024 * 1024)) ] || { echo "demo.pcap exceeds 10 MB" >&2; exit 1; }
