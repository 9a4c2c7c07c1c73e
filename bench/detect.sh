#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/detect.sh [pcap]: cost of the signature engine on the bench capture.
#
# Rows: the plain libpcap read loop (the ceiling); beffroi --threads 1 with
# no rules; beffroi --threads 1 with the default ET Open set
# (../shared/rules/et-open/default-rule-files.txt).  The rule load is timed
# on its own (beffroi -T) and its CPU time is subtracted, so "pkts/cpu_s
# after start-up" is the steady-state rate.  Also prints the load report
# (time, RSS, rules loaded/failed).  BEFFROI=path uses that binary;
# DETECT_ARGS adds options to both beffroi runs (e.g. --set dos.enabled=false).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BENCH_BUILD:-$root/build-release}
pcap=${1:-$root/bench/data/bench.pcap}
et=${ET_OPEN:-$root/../shared/rules/et-open}

if [[ ! -f "$et/default-rule-files.txt" ]]; then
    echo "SKIP: ET Open rules not found at $et (../shared absent)"
    exit "${BF_SKIP_RC:-0}"
fi
if [[ -z "${BEFFROI:-}" || ! -x "$build/pcap_readloop" ]]; then
    [[ -f "$build/CMakeCache.txt" ]] ||
        cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBF_TESTS=OFF >/dev/null
    cmake --build "$build" -j "$(nproc)" --target pcap_readloop beffroi >/dev/null
fi
beffroi=${BEFFROI:-$build/beffroi}
readloop=$build/pcap_readloop
if [[ ! -f "$pcap" ]]; then
    out=$("$root/bench/make-bench-pcap.py" --out "$pcap")
    echo "$out" | tail -n 1
    [[ "$out" == SKIP:* ]] && exit "${BF_SKIP_RC:-0}"
fi

rules=()
while read -r f _; do
    [[ -z "$f" || "$f" == \#* ]] && continue
    [[ -f "$et/$f" ]] && rules+=(-S "$et/$f")
done <"$et/default-rule-files.txt"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bf-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cat "$pcap" >/dev/null

run() { # NAME CMD...: "NAME rc wall user sys maxrss_kib" >> rows
    local name=$1 rc=0
    shift
    /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
    echo "$name $rc $(tail -n 1 "$tmp/time")" >>"$tmp/rows"
}

run readloop "$readloop" "$pcap"
packets=$(awk '$1 == "packets" {print $2}' "$tmp/readloop.out")
bytes=$(awk '$1 == "bytes" {print $2}' "$tmp/readloop.out")
run load "$beffroi" -T "${rules[@]}"
mkdir -p "$tmp/l0" "$tmp/l1"
run norules "$beffroi" -r "$pcap" -l "$tmp/l0" -k none -q --threads 1 ${DETECT_ARGS:-}
run etopen "$beffroi" -r "$pcap" -l "$tmp/l1" -k none -q --threads 1 ${DETECT_ARGS:-} "${rules[@]}"
alerts=$(grep -c '"event_type":"alert"' "$tmp/l1/eve.json" || true)

echo "capture: $pcap ($packets packets, $(awk -v b="$bytes" 'BEGIN{printf "%.1f", b/1e6}') MB)"
echo "rules: $(( ${#rules[@]} / 2 )) ET Open files; load report:"
grep -v "warning:" "$tmp/load.err" | sed "s/^/    /" | head -n 30
echo "alerts on the capture with ET Open: $alerts"
awk -v P="$packets" -v B="$bytes" '
BEGIN {
    printf "%-10s %4s %8s %8s %11s %9s %14s %7s %9s\n", "run", "exit", "wall_s", "cpu_s",
        "pkts/s", "Mbit/s", "pkts/cpu_s(*)", "%ceil", "rss_MiB"
}
$1 == "load" { lcpu = $4 + $5; printf "%-10s %4d %8.2f %8.2f %11s %9s %14s %7s %9.1f\n", "rule-load", $2, $3, lcpu, "-", "-", "-", "-", $6 / 1024; next }
{
    name = $1; rc = $2; wall = $3; cpu = $4 + $5; rss = $6 / 1024
    if (name == "etopen") cpu -= lcpu
    if (wall <= 0) wall = 0.001
    if (cpu <= 0) cpu = 0.001
    ppc = P / cpu
    if (name == "readloop") ceil = ppc
    printf "%-10s %4d %8.2f %8.2f %11.0f %9.1f %14.0f %6.1f%% %9.1f\n", name, rc, wall, cpu,
        P / wall, B * 8 / 1e6 / wall, ppc, 100 * ppc / ceil, rss
}
END { print "(*) etopen: CPU seconds after start-up (the rule-load CPU time subtracted)" }' "$tmp/rows"
