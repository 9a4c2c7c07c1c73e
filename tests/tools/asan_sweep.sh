#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# asan_sweep.sh: run the ASan/UBSan build of beffroi over every capture under
# ../shared (suricata-verify tests and captures/, including zeek-traces trunc/
# and chksums/; .gz files are decompressed to a temporary file first).
#
#   tests/tools/asan_sweep.sh <beffroi-asan-binary> [outdir]
#
# Build the binary with: cmake -S . -B build-asan -DBF_SANITIZE=ON && cmake --build build-asan
# Each file: beffroi -r FILE -l DIR -k none -q, ASAN_OPTIONS=detect_leaks=1:abort_on_error=1,
# UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1, a timeout (SWEEP_TIMEOUT, default 120 s).
# Exit 0 and 3 (input truncated/corrupt, read up to the break) are fine; a
# sanitizer report, any other exit status, a crash or a timeout is a failure.
# Two files at a time (SWEEP_JOBS).  Ends with `N passed, N failed`; exit 1 on
# any failure.  Without ../shared: prints SKIP and exits $BF_SKIP_RC (default 0).
# SWEEP_FILTER=REGEX limits the sweep to paths matching REGEX (grep -E).
set -euo pipefail

# ---- worker: one file -------------------------------------------------------
if [[ "${1:-}" == "--one" ]]; then
    bin=$2 outdir=$3 file=$4
    id=$(printf '%s' "$file" | md5sum | cut -c1-12)
    work=$(mktemp -d "${TMPDIR:-/tmp}/bf-sweep.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    input=$file
    case "$file" in
        *.gz)
            base=$(basename "$file" .gz)
            input="$work/$base"
            if ! gzip -dc "$file" >"$input" 2>/dev/null; then
                # a damaged .gz still gives what it could: sweep that part
                [[ -s "$input" ]] || { printf 'SKIP\t%s\tcannot decompress\n' "$file" >"$outdir/res/$id"; exit 0; }
            fi
            ;;
    esac
    mkdir "$work/log"
    rc=0
    # (the braces keep bash's own "Segmentation fault" notice off the terminal)
    { ASAN_OPTIONS=detect_leaks=1:abort_on_error=1${ASAN_OPTIONS_EXTRA:+:$ASAN_OPTIONS_EXTRA} \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        timeout -k 10 "${SWEEP_TIMEOUT:-120}" "$bin" -r "$input" -l "$work/log" -k none -q \
        </dev/null >"$work/stdout" 2>"$work/stderr"; } 2>/dev/null || rc=$?
    reason=""
    if grep -qE 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer|ERROR: [A-Za-z]+Sanitizer' "$work/stderr"; then
        reason="sanitizer report (exit $rc)"
    elif [[ $rc -eq 124 || $rc -eq 137 ]]; then
        reason="timeout after ${SWEEP_TIMEOUT:-120}s"
    elif [[ $rc -gt 128 ]]; then
        reason="killed by signal $((rc - 128))"
    elif [[ $rc -ne 0 && $rc -ne 3 ]]; then
        reason="exit $rc"
    fi
    if [[ -z "$reason" ]]; then
        printf 'PASS\t%s\texit %d\n' "$file" "$rc" >"$outdir/res/$id"
    else
        printf 'FAIL\t%s\t%s\n' "$file" "$reason" >"$outdir/res/$id"
        cp "$work/stderr" "$outdir/stderr/$id.txt"
    fi
    exit 0
fi

# ---- driver -----------------------------------------------------------------
if [[ $# -lt 1 ]]; then
    echo "usage: $0 <beffroi-asan-binary> [outdir]" >&2
    exit 2
fi
bin=$(realpath "$1")
shared=${BF_SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/../shared}
if [[ ! -d "$shared/suricata-verify" && ! -d "$shared/captures" ]]; then
    echo "SKIP: shared captures not found at $shared"
    exit "${BF_SKIP_RC:-0}"
fi
if [[ ! -x "$bin" ]]; then
    echo "error: $1 is not an executable" >&2
    exit 2
fi
outdir=${2:-$(mktemp -d "${TMPDIR:-/tmp}/bf-asan-sweep.XXXXXX")}
mkdir -p "$outdir"
outdir=$(realpath "$outdir")
rm -rf "$outdir/res" "$outdir/stderr"
mkdir -p "$outdir/res" "$outdir/stderr"

dirs=()
for d in "$shared/suricata-verify" "$shared/captures"; do [[ -d "$d" ]] && dirs+=("$d"); done
find "${dirs[@]}" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \
    -o -name '*.pcap.gz' -o -name '*.pcapng.gz' \) -print0 |
    sort -z |
    { if [[ -n "${SWEEP_FILTER:-}" ]]; then grep -zE -- "$SWEEP_FILTER" || true; else cat; fi; } \
    >"$outdir/files.lst"
nfiles=$(tr -cd '\0' <"$outdir/files.lst" | wc -c)
echo "asan sweep: $nfiles captures, ${SWEEP_JOBS:-2} at a time, timeout ${SWEEP_TIMEOUT:-120}s, results in $outdir"

xargs -0 -P "${SWEEP_JOBS:-2}" -n 1 "$0" --one "$bin" "$outdir" <"$outdir/files.lst"

cat "$outdir"/res/* 2>/dev/null | sort -t$'\t' -k2 >"$outdir/results.tsv" || true
npass=$(grep -c '^PASS' "$outdir/results.tsv" || true)
nfail=$(grep -c '^FAIL' "$outdir/results.tsv" || true)
nskip=$(grep -c '^SKIP' "$outdir/results.tsv" || true)
ntrunc=$(grep -c $'^PASS\t.*\texit 3$' "$outdir/results.tsv" || true)

if [[ $nfail -gt 0 ]]; then
    echo
    echo "failures:"
    while IFS=$'\t' read -r status file reason; do
        [[ "$status" == FAIL ]] || continue
        id=$(printf '%s' "$file" | md5sum | cut -c1-12)
        echo "--- $file: $reason (stderr: $outdir/stderr/$id.txt)"
        # the sanitizer report if any, else the tail of stderr
        if grep -qE 'ERROR: |runtime error:' "$outdir/stderr/$id.txt"; then
            grep -m1 -A 14 -E 'ERROR: |runtime error:' "$outdir/stderr/$id.txt" | sed 's/^/    /'
        else
            tail -n 8 "$outdir/stderr/$id.txt" | sed 's/^/    /'
        fi
    done <"$outdir/results.tsv"
    echo
fi
echo "($ntrunc of the passes exited 3: input truncated or corrupt)"
summary="$npass passed, $nfail failed"
[[ $nskip -gt 0 ]] && summary+=", $nskip skipped"
echo "$summary"
[[ $nfail -eq 0 ]]
