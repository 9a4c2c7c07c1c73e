#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/run.sh [pcap]: throughput of Beffroi on a pcap file against the plain
# libpcap read loop (the ceiling).
#
# Builds a Release tree (build-release/, or $BENCH_BUILD) if needed, makes
# bench/data/bench.pcap with bench/make-bench-pcap.py when it is missing, then
# runs: the read loop; beffroi --threads 1; beffroi --threads 2, each as
#   beffroi -r PCAP -l TMPDIR -k none -q --threads N $BENCH_ARGS
# and prints wall and CPU seconds (user+sys), packets/s and Mbit/s (wall),
# packets per CPU-second, % of the read loop's packets per CPU-second and
# peak RSS.  BEFFROI=path uses that binary instead of building one.
# BENCH_THREADS="1 2" chooses the thread counts.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BENCH_BUILD:-$root/build-release}
pcap=${1:-$root/bench/data/bench.pcap}

if [[ ! -x /usr/bin/time ]]; then
    echo "installing GNU time (needed for CPU time and peak RSS)" >&2
    apt-get install -y -q time >/dev/null || { echo "error: /usr/bin/time missing (apt-get install time)" >&2; exit 2; }
fi

# ---- build -------------------------------------------------------------------
if [[ -z "${BEFFROI:-}" || ! -x "$build/pcap_readloop" ]]; then
    if [[ ! -f "$build/CMakeCache.txt" ]]; then
        cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBF_TESTS=OFF >/dev/null
    fi
    targets=(pcap_readloop)
    [[ -z "${BEFFROI:-}" ]] && targets+=(beffroi)
    cmake --build "$build" -j "$(nproc)" --target "${targets[@]}" >/dev/null
fi
beffroi=${BEFFROI:-$build/beffroi}
readloop=$build/pcap_readloop

# ---- capture -----------------------------------------------------------------
if [[ ! -f "$pcap" ]]; then
    if [[ $# -ge 1 ]]; then
        echo "error: $pcap not found" >&2
        exit 2
    fi
    out=$("$root/bench/make-bench-pcap.py" --out "$pcap")
    echo "$out" | tail -n 1
    if [[ "$out" == SKIP:* ]]; then exit "${BF_SKIP_RC:-0}"; fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bf-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cat "$pcap" >/dev/null # warm the page cache so the first row is not penalised

# ---- runs ------------------------------------------------------------------
# run NAME CMD...: appends "NAME rc wall user sys maxrss_kib" to $tmp/rows
run() {
    local name=$1 rc=0
    shift
    /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
    echo "$name $rc $(tail -n 1 "$tmp/time")" >>"$tmp/rows"
    if [[ $rc -ne 0 && $rc -ne 3 ]]; then
        echo "warning: $name exited $rc; stderr tail:" >&2
        tail -n 5 "$tmp/$name.err" | sed 's/^/    /' >&2
    fi
}

run readloop "$readloop" "$pcap"
packets=$(awk '$1 == "packets" {print $2}' "$tmp/readloop.out")
bytes=$(awk '$1 == "bytes" {print $2}' "$tmp/readloop.out")
if [[ -x "$beffroi" ]]; then
    for n in ${BENCH_THREADS:-1 2}; do
        mkdir -p "$tmp/log$n"
        # shellcheck disable=SC2086 # BENCH_ARGS is a list of words on purpose
        run "beffroi-t$n" "$beffroi" -r "$pcap" -l "$tmp/log$n" -k none -q --threads "$n" ${BENCH_ARGS:-}
        rm -rf "$tmp/log$n"
    done
else
    echo "warning: no beffroi binary at $beffroi: only the read loop is measured" >&2
fi

# ---- table -----------------------------------------------------------------
echo "capture: $pcap ($packets packets, $(awk -v b="$bytes" 'BEGIN{printf "%.1f", b/1e6}') MB of packet data)"
[[ -n "${BENCH_ARGS:-}" ]] && echo "extra beffroi args: $BENCH_ARGS"
awk -v P="$packets" -v B="$bytes" '
BEGIN {
    printf "%-12s %4s %8s %8s %11s %9s %12s %7s %9s\n", "run", "exit", "wall_s", "cpu_s",
        "pkts/s", "Mbit/s", "pkts/cpu_s", "%ceil", "rss_MiB"
}
{
    name = $1; rc = $2; wall = $3; cpu = $4 + $5; rss = $6 / 1024
    if (wall <= 0) wall = 0.001
    if (cpu <= 0) cpu = 0.001
    ppc = P / cpu
    if (NR == 1) ceil = ppc
    printf "%-12s %4d %8.2f %8.2f %11.0f %9.1f %12.0f %6.1f%% %9.1f\n", name, rc, wall, cpu,
        P / wall, B * 8 / 1e6 / wall, ppc, 100 * ppc / ceil, rss
}' "$tmp/rows"
