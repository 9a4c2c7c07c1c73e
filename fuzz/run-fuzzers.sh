#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# fuzz/run-fuzzers.sh [seconds-per-target]: build the libFuzzer targets with
# clang and run each fuzz/fuzz_*.c target for a while.
#
#   default: 60 s in all, split across the targets; an argument gives seconds
#   per target; FUZZ_LONG=1 gives 600 s per target.
#
# Corpus: fuzz/corpus-<name>/ (git-ignored), kept between runs.  When empty it
# is seeded from a few small shared captures (../shared; BF_SHARED to change):
# for fuzz_pipeline in its record format (1 byte link selector + timestamp
# step, 2 bytes big-endian length, the packet), for other targets the raw
# bytes of the files.  Crash artifacts and logs go to build-fuzz/fuzz-out/.
# Exit 1 when any target crashes, leaks, times out or fails to start.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${FUZZ_BUILD:-build-fuzz}
shared=${BF_SHARED:-$root/../shared}

if ! command -v clang >/dev/null; then
    echo "SKIP: clang not found (apt-get install clang)"
    exit "${BF_SKIP_RC:-0}"
fi
shopt -s nullglob
sources=(fuzz/fuzz_*.c)
if [[ ${#sources[@]} -eq 0 ]]; then
    echo "SKIP: no fuzz/fuzz_*.c target"
    exit "${BF_SKIP_RC:-0}"
fi

echo "building libFuzzer targets in $build"
# configure every time (cheap): a new fuzz/fuzz_*.c needs a re-glob first
CC=clang cmake -S . -B "$build" -DBF_FUZZ=ON -DBF_TESTS=OFF >/dev/null
names=()
for s in "${sources[@]}"; do names+=("$(basename "$s" .c)"); done
cmake --build "$build" -j "$(nproc)" --target "${names[@]}" >/dev/null

# FUZZ_TARGETS="fuzz_pipeline fuzz_dns" runs only those
if [[ -n "${FUZZ_TARGETS:-}" ]]; then
    keep=()
    for t in "${names[@]}"; do
        [[ " $FUZZ_TARGETS " == *" $t "* ]] && keep+=("$t")
    done
    names=("${keep[@]}")
fi
n=${#names[@]}
if [[ "${FUZZ_LONG:-0}" == 1 ]]; then
    per=600
elif [[ $# -ge 1 ]]; then
    per=$1
else
    per=$((60 / n))
    [[ $per -lt 5 ]] && per=5
fi

out="$build/fuzz-out"
mkdir -p "$out"

# seed NAME DIR: fill an empty corpus from small shared captures
seed() {
    local name=$1 dir=$2
    mkdir -p "$dir"
    [[ -n "$(ls -A "$dir")" ]] && return 0
    if [[ ! -d "$shared" ]]; then
        echo "  (no $shared: $name starts from an empty corpus)"
        return 0
    fi
    /usr/bin/python3 - "$name" "$dir" "$shared" <<'PY'
import hashlib, os, struct, sys
name, dest, shared = sys.argv[1:4]
LINKS = [1, 113, 276, 101, 0, 108, 228, 229]   # fuzz_pipeline.c's links[]
files = []
for sub in ("captures/zeek-traces", "suricata-verify/tests"):
    for dp, dns, fns in os.walk(os.path.join(shared, sub)):
        dns.sort()
        for fn in sorted(fns):
            p = os.path.join(dp, fn)
            if fn.endswith((".pcap", ".pcapng")) and 200 < os.path.getsize(p) <= 32768:
                files.append(p)
# a spread of files over the protocol folders, not the first ones by name
want = 48
step = max(1, len(files) // want)
files = files[::step][:want]

def records(path):
    raw = open(path, "rb").read()
    magic = raw[:4]
    e = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<",
         b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}.get(magic)
    if e is None or len(raw) < 24:
        return None
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    link = struct.unpack(e + "I", raw[20:24])[0] & 0xFFFF
    if link not in LINKS:
        return None
    sel_link = LINKS.index(link)
    out, off, prev = [], 24, None
    while off + 16 <= len(raw) and len(out) < 64:
        sec, frac, caplen, _ = struct.unpack_from(e + "IIII", raw, off)
        off += 16
        if caplen > 65535 or off + caplen > len(raw):
            break
        t = sec * 1000 + (frac // (1000000 if nano else 1000))  # ms
        step = 0 if prev is None else max(0, min(31, (t - prev) // 100))
        prev = t
        out.append(bytes([(step << 3) | sel_link]) + struct.pack(">H", caplen) + raw[off:off + caplen])
        off += caplen
    return b"".join(out) if out else None

n = 0
for p in files:
    data = records(p) if name == "fuzz_pipeline" else open(p, "rb").read()
    if not data:
        continue
    with open(os.path.join(dest, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)
    n += 1
print("  seeded %s with %d inputs" % (dest, n))
PY
}

declare -A status execs corpus
fail=0
for name in "${names[@]}"; do
    bin="$build/$name"
    dir="fuzz/corpus-${name#fuzz_}"
    echo "== $name: ${per}s, corpus $dir"
    seed "$name" "$dir"
    mkdir -p "$out/$name"
    rc=0
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        timeout -k 30 $((per + 120)) "$bin" -max_total_time="$per" -timeout=25 -rss_limit_mb=2560 \
        -print_final_stats=1 -artifact_prefix="$out/$name/" "$dir" \
        >"$out/$name.log" 2>&1 || rc=$?
    execs[$name]=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name.log" | tail -n 1)
    corpus[$name]=$(find "$dir" -type f | wc -l)
    if [[ $rc -eq 0 ]]; then
        status[$name]=ok
    else
        status[$name]="FAIL (exit $rc)"
        fail=1
        echo "   $name failed; log $out/$name.log; artifacts:"
        ls "$out/$name" | sed 's/^/     /' || true
        grep -m1 -A 20 -E 'ERROR: |runtime error:|==[0-9]+==' "$out/$name.log" | sed 's/^/   | /' || tail -n 20 "$out/$name.log"
    fi
done

echo
printf '%-28s %-16s %12s %8s\n' target status execs corpus
for name in "${names[@]}"; do
    printf '%-28s %-16s %12s %8s\n' "$name" "${status[$name]}" "${execs[$name]:-?}" "${corpus[$name]}"
done
npass=0 nfail=0
for name in "${names[@]}"; do
    if [[ "${status[$name]}" == ok ]]; then npass=$((npass + 1)); else nfail=$((nfail + 1)); fi
done
echo "$npass passed, $nfail failed"
exit $fail
