#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs, from Debian's packages only, everything Beffroi's build and tests
# need.  Idempotent.  Run as root (or through sudo).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

PKGS=(
  # build
  build-essential cmake pkg-config clang libclang-rt-14-dev llvm
  # libraries the engine links
  libpcap-dev libyaml-dev libssl-dev zlib1g-dev
  # libraries of the coming capabilities (rules, HTTP, IPS, multi-sensor)
  libvectorscan-dev libpcre2-dev libhtp-dev libnetfilter-queue-dev libnftables-dev libhiredis-dev
  # tests
  libcmocka-dev python3 python3-yaml python3-jsonschema tshark time jq iproute2 tcpdump
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  # tshark asks whether non-root users may capture: answer no, without a prompt
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "dependencies: ok"
