#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# eve_schema_test.sh <beffroi> [shared]: run beffroi on a handful of diverse
# shared captures (http, dns, tls, smb, ssh, smtp, fragments, vlan, ipv6,
# truncated) and validate every EVE line against Suricata's EVE schema with
# tests/tools/eve_validate.py.  Exit 0 / 1; without ../shared or the schema:
# prints SKIP and exits $BF_SKIP_RC (default 0).  Exit 3 from beffroi (input
# truncated, read up to the break) is accepted.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [[ $# -lt 1 ]]; then
    echo "usage: $0 <beffroi> [shared-dir]" >&2
    exit 2
fi
beffroi=$1
shared=${2:-${BF_SHARED:-$root/../shared}}
schema=$shared/suricata-eve-schema/schema.json
zt=$shared/captures/zeek-traces
if [[ ! -f "$schema" || ! -d "$zt" ]]; then
    echo "SKIP: $schema or $zt not found"
    exit "${BF_SKIP_RC:-0}"
fi
if [[ ! -x "$beffroi" ]]; then
    echo "error: $beffroi is not an executable" >&2
    exit 2
fi

captures=(
    "$zt/http/get-gzip.pcap"
    "$zt/wikipedia.pcap"
    "$zt/dns53.pcap"
    "$zt/dns/dns-corrupt.pcap"
    "$zt/tls/cert-no-cn.pcap"
    "$zt/smb/raw_ntlm_in_smb.pcap"
    "$zt/ssh/single-conn.pcap"
    "$zt/smtp.pcap"
    "$zt/ipv4/fragmented-1.pcap"
    "$zt/ipv6-fragmented-dns.pcap"
    "$zt/http-vlan-0.pcap"
    "$zt/q-in-q.pcap"
    "$zt/ipv6-http-atomic-frag.pcap"
    "$zt/trunc/ip4-trunc.pcap"
    "$zt/trunc/ip6-ext-trunc.pcap"
    "$shared/suricata-verify/tests/alert-testmyids-async/input.pcap"
)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bf-eve-schema.XXXXXX")
[[ -n "${KEEP:-}" ]] || trap 'rm -rf "$tmp"' EXIT
fail=0
eves=()
i=0
for pcap in "${captures[@]}"; do
    if [[ ! -f "$pcap" ]]; then
        echo "note: $pcap absent, left out"
        continue
    fi
    i=$((i + 1))
    out="$tmp/$i"
    mkdir "$out"
    rc=0
    timeout 120 "$beffroi" -r "$pcap" -l "$out" -k none -q >"$out/stdout" 2>"$out/stderr" || rc=$?
    if [[ $rc -ne 0 && $rc -ne 3 ]]; then
        echo "FAIL: beffroi exited $rc on $pcap:"
        tail -n 5 "$out/stderr" | sed 's/^/    /'
        fail=1
    fi
    if [[ -s "$out/eve.json" ]]; then
        eves+=("$out/eve.json")
        echo "[$i] $(wc -l <"$out/eve.json") events from ${pcap#"$shared"/} ($out/eve.json)"
    else
        echo "FAIL: no eve.json (or empty) for $pcap"
        fail=1
    fi
done

if [[ ${#eves[@]} -gt 0 ]]; then
    /usr/bin/python3 "$here/eve_validate.py" --schema "$schema" "${eves[@]}" || fail=1
fi
exit $fail
