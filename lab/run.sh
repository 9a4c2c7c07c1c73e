#!/usr/bin/env bash
# lab/run.sh SCENARIO: install -> net up -> services -> capture -> scenario ->
# capture stop -> ground truth -> pcap checks -> (Beffroi) -> net down.
# Always cleans up (namespaces and every process in them), even on failure.
# Env: LAB_NO_INSTALL=1 skip apt; OUT_PCAP/OUT_JSON override outputs; SNAPLEN.
set -euo pipefail
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
LAB_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$LAB_DIR/lib.sh"
need_root
scen="${1:-}"; [ -f "$LAB_DIR/scenarios/$scen.sh" ] || { echo "usage: $0 SCENARIO  (one of: $(cd "$LAB_DIR/scenarios" && ls *.sh | sed 's/\.sh$//' | tr '\n' ' '))" >&2; exit 2; }
[ "${LAB_NO_INSTALL:-0}" = 1 ] || "$LAB_DIR/install.sh" "$scen"
mkdir -p "$LAB_OUT"
if [ -f "$LAB_OUT/current-run" ] && ip netns list | grep -q "^$P"; then
  die "another lab run seems active ($(cat "$LAB_OUT/current-run")); run lab/net.sh down first"
fi
RD="$LAB_OUT/run-$scen-$(date +%Y%m%d-%H%M%S)"; mkdir -p "$RD/log" "$RD/pid"; : > "$RD/incidents.jsonl"
echo "$RD" > "$LAB_OUT/current-run"
OUT_PCAP="${OUT_PCAP:-$LAB_OUT/$scen.pcap}"; OUT_JSON="${OUT_JSON:-$LAB_OUT/$scen.json}"
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ $rc = 0 ] || log "scenario $scen failed (rc=$rc), cleaning up; logs in $RD/log"
  "$LAB_DIR/capture.sh" stop "$RD/partial.pcap" >/dev/null 2>&1 || true
  "$LAB_DIR/net.sh" down || true
  rm -f "$LAB_OUT/current-run"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

source "$LAB_DIR/scenarios/$scen.sh"
"$LAB_DIR/net.sh" up
"$LAB_DIR/services.sh" start "${SERVICES[@]}"
"$LAB_DIR/capture.sh" start
sleep 1
log "scenario $scen: start"
scenario_run
log "scenario $scen: done"
sleep 2
"$LAB_DIR/capture.sh" stop "$OUT_PCAP"
python3 "$LAB_DIR/tools/ground_truth.py" "$scen" "$RD" "$OUT_PCAP" > "$OUT_JSON"
log "ground truth: $OUT_JSON ($(python3 -c 'import json,sys;print(len(json.load(open(sys.argv[1]))["incidents"]))' "$OUT_JSON") incidents)"
"$LAB_DIR/check.sh" "$OUT_PCAP" "${PROTOS[@]}"
BEFFROI="${BEFFROI:-$LAB_DIR/../build/beffroi}"
if [ -x "$BEFFROI" ]; then
  mkdir -p "$RD/beffroi"
  "$BEFFROI" -r "$OUT_PCAP" -l "$RD/beffroi" && log "beffroi: $(ls "$RD/beffroi")" || log "beffroi exited with $?"
else
  log "beffroi: $BEFFROI not built yet, skipping the detection step"
fi
