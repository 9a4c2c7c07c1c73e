#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/detect/etopen_budget.sh BEFFROI SHARED: loading the default ET Open
# set (default-rule-files.txt) with `beffroi -T` takes <= 10 s and <= 1 GB RSS
# and loads >= 95% of its rules.
set -uo pipefail
bf=${1:?usage}; shared=${2:?usage}
et=$shared/rules/et-open
[[ -f $et/default-rule-files.txt ]] || { echo "SKIP: no ET Open rules under $et"; exit "${BF_SKIP_RC:-0}"; }
args=()
while read -r f _; do
    [[ -z "$f" || "$f" == \#* ]] && continue
    [[ -f "$et/$f" ]] && args+=(-S "$et/$f")
done <"$et/default-rule-files.txt"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
/usr/bin/time -f '%e %M' -o "$tmp/time" "$bf" -T -q "${args[@]}" >"$tmp/out" 2>&1
read -r wall rss < <(tail -n 1 "$tmp/time")
line=$(grep -m1 '^rules:' "$tmp/out")
loaded=$(sed -E 's/rules: ([0-9]+) loaded, ([0-9]+) failed.*/\1/' <<<"$line")
failed=$(sed -E 's/rules: ([0-9]+) loaded, ([0-9]+) failed.*/\2/' <<<"$line")
echo "$line"; echo
echo "load: ${wall} s, peak RSS $((rss / 1024)) MiB"
fail=0
awk -v w="$wall" 'BEGIN{exit !(w <= 10)}' || { echo "FAIL: load took ${wall} s (> 10 s)"; fail=1; }
(( rss <= 1024 * 1024 )) || { echo "FAIL: RSS ${rss} KiB (> 1 GB)"; fail=1; }
(( loaded * 100 >= (loaded + failed) * 95 )) || { echo "FAIL: only $loaded of $((loaded + failed)) rules loaded"; fail=1; }
exit $fail
