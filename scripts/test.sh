#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's second command: every test.  Installs what is missing, builds,
# then runs ctest: unit tests (cmocka), the suricata-verify runner, EVE schema
# validation, the ASan+UBSan sweep over every shared pcap, the fuzzers for a
# bounded time and the lab's CI scenario.  Long runs hide behind flags:
#   FUZZ_LONG=1  fuzz each target 10 minutes     BF_SOAK=1  soak tests
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBF_TESTS=ON >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
