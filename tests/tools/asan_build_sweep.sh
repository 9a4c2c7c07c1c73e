#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds Beffroi with ASan+UBSan in build-asan/ and runs it over every pcap
# under ../shared (tests/tools/asan_sweep.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
cmake -S . -B build-asan -DBF_SANITIZE=ON -DBF_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-asan -j"$(nproc)" --target beffroi >/dev/null
exec "$root/tests/tools/asan_sweep.sh" "$root/build-asan/beffroi"
