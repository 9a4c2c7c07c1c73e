#!/usr/bin/env bash
# lab/check.sh PCAP PROTO...: assert the pcap opens in tshark and that each
# protocol appears in its protocol hierarchy (tshark -z io,phs).
set -uo pipefail
pcap="$1"; shift
phs="$(tshark -r "$pcap" -q -z io,phs 2>&1)" || { echo "check: tshark cannot read $pcap" >&2; echo "$phs" >&2; exit 1; }
fail=0
for p in "$@"; do
  if echo "$phs" | awk '{print $1}' | grep -qx "$p"; then echo "check: $p ok ($(echo "$phs" | awk -v p="$p" '$1==p{print $2; exit}'))"
  else echo "check: $p MISSING in $pcap"; fail=1; fi
done
[ $fail = 0 ] && echo "check: all ${#} protocols present in $(basename "$pcap")"
exit $fail
