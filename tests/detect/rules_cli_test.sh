#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/detect/rules_cli_test.sh BEFFROI: the signature engine from the
# command line, on captures this script writes itself:
#   - a bad rule is reported with file:line and the other rules load;
#     -T exits 1 then, 0 when every rule loads;
#   - alerts reach EVE (schema-shaped fields) and fast.log;
#   - --simulate-ips: a drop rule drops and writes a drop event;
#   - SIGHUP reloads the rules while reading stdin, without losing the flow.
set -uo pipefail
bf=${1:?usage: rules_cli_test.sh BEFFROI}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bf-rules.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

# A TCP session: handshake, then one data packet every second (client ->
# server), payloads given as arguments.
mkpcap() { # out payload...
    /usr/bin/python3 - "$@" <<'PY'
import struct, sys
out, payloads = sys.argv[1], sys.argv[2:]
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def pkt(src, dst, sp, dp, seq, ack, flags, data=b""):
    tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, 65535, 0, 0) + data
    ph = struct.pack("!4s4sBBH", src, dst, 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00" + ip + tcp
c, s = bytes([10, 0, 0, 1]), bytes([192, 0, 2, 10])
pk = [pkt(c, s, 40000, 8080, 100, 0, 0x02), pkt(s, c, 8080, 40000, 500, 101, 0x12),
      pkt(c, s, 40000, 8080, 101, 501, 0x10)]
seq = 101
for p in payloads:
    pk.append(pkt(c, s, 40000, 8080, seq, 501, 0x18, p.encode()))
    seq += len(p)
    pk.append(pkt(s, c, 8080, 40000, 501, seq, 0x10))
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    t = 1700000000
    for i, p in enumerate(pk):
        ts = t + (i // 2 if i >= 3 else 0)
        f.write(struct.pack("<IIII", ts, i, len(p), len(p)) + p)
PY
}

# --- load errors -------------------------------------------------------------
cat >"$tmp/mixed.rules" <<'EOF'
alert tcp any any -> any any (msg:"good one"; content:"HELLO"; sid:1; rev:2;)
alert tcp any any -> any any (msg:"bad one"; content:"x"; nosuchkeyword; sid:2;)
# a comment
alert tcp any any -> any 8080 (msg:"good two"; flow:established,to_server; \
    content:"WORLD"; classtype:trojan-activity; sid:3;)
EOF
"$bf" -T -S "$tmp/mixed.rules" >"$tmp/t.out" 2>&1
rc=$?
[[ $rc -eq 1 ]] && ok "-T exits 1 with a bad rule" || bad "-T exit $rc with a bad rule"
grep -q "mixed.rules:2:.*nosuchkeyword" "$tmp/t.out" && ok "bad rule reported with file:line" ||
    bad "no file:line for the bad rule: $(cat "$tmp/t.out")"
grep -q "2 loaded, 1 failed" "$tmp/t.out" && ok "the other rules load" || bad "counts: $(cat "$tmp/t.out")"
grep -v nosuchkeyword "$tmp/mixed.rules" | sed '2d' >"$tmp/good.rules"
sed -i '/bad one/d' "$tmp/good.rules"
"$bf" -T -S "$tmp/good.rules" >"$tmp/t2.out" 2>&1
rc=$?
[[ $rc -eq 0 ]] && ok "-T exits 0 when every rule loads" || bad "-T exit $rc: $(cat "$tmp/t2.out")"

# --- alerts ------------------------------------------------------------------
mkpcap "$tmp/s.pcap" "HELLO there" "small WORLD"
mkdir "$tmp/l1"
"$bf" -r "$tmp/s.pcap" -S "$tmp/mixed.rules" -l "$tmp/l1" -q 2>/dev/null
n1=$(jq -c 'select(.event_type=="alert" and .alert.signature_id==1)' "$tmp/l1/eve.json" | wc -l)
n3=$(jq -c 'select(.event_type=="alert" and .alert.signature_id==3 and .alert.category=="A Network Trojan was Detected" and .alert.rev==0)' "$tmp/l1/eve.json" | wc -l)
[[ $n1 -eq 1 && $n3 -eq 1 ]] && ok "alerts for sid 1 and 3 in EVE" || bad "alerts sid1=$n1 sid3=$n3"
grep -q '\[1:3:0\] good two \[\*\*\] \[Classification: A Network Trojan was Detected\] \[Priority: 1\] {TCP} 10.0.0.1:40000 -> 192.0.2.10:8080' "$tmp/l1/fast.log" &&
    ok "fast.log line" || bad "fast.log: $(cat "$tmp/l1/fast.log")"
jq -s -e 'any(.[]; .event_type=="flow" and .flow.alerted == true)' "$tmp/l1/eve.json" >/dev/null &&
    ok "flow.alerted" || bad "flow not marked alerted"

# --- simulated IPS -------------------------------------------------------------
echo 'drop tcp any any -> any any (msg:"drop hello"; content:"HELLO"; sid:10;)' >"$tmp/drop.rules"
mkdir "$tmp/l2"
"$bf" -r "$tmp/s.pcap" -S "$tmp/drop.rules" -l "$tmp/l2" -q --simulate-ips 2>/dev/null
jq -s -e 'any(.[]; .event_type=="alert" and .alert.signature_id==10 and .alert.action=="blocked")' "$tmp/l2/eve.json" >/dev/null &&
    ok "drop rule blocks with --simulate-ips" || bad "no blocked alert"
[[ $(jq -c 'select(.event_type=="drop")' "$tmp/l2/eve.json" | wc -l) -ge 1 ]] && ok "drop event" || bad "no drop event"
mkdir "$tmp/l3"
"$bf" -r "$tmp/s.pcap" -S "$tmp/drop.rules" -l "$tmp/l3" -q 2>/dev/null
jq -s -e 'any(.[]; .event_type=="alert" and .alert.signature_id==10 and .alert.action=="allowed")' "$tmp/l3/eve.json" >/dev/null &&
    ok "drop rule only alerts in IDS mode" || bad "IDS mode drop rule"

# --- SIGHUP reload on a running capture ----------------------------------------
mkpcap "$tmp/r.pcap" AAAA-1 AAAA-2 AAAA-3 BBBB-4 BBBB-5 BBBB-6 BBBB-7
echo 'alert tcp any any -> any any (msg:"old"; content:"AAAA"; sid:100;)' >"$tmp/reload.rules"
mkdir "$tmp/l4"
mkfifo "$tmp/fifo"
"$bf" -r - -S "$tmp/reload.rules" -l "$tmp/l4" --no-progress --threads 1 <"$tmp/fifo" >/dev/null 2>"$tmp/l4.err" &
bfpid=$!
{
    # header + handshake + the three AAAA data packets and their ACKs
    /usr/bin/python3 - "$tmp/r.pcap" 0 9 <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
lo, hi = int(sys.argv[2]), int(sys.argv[3])
off, i, out = 24, 0, bytearray(d[:24]) if lo == 0 else bytearray()
while off < len(d):
    n = struct.unpack("<I", d[off + 8:off + 12])[0]
    if lo <= i < hi: out += d[off:off + 16 + n]
    off += 16 + n; i += 1
sys.stdout.buffer.write(out)
PY
    sleep 1
    echo 'alert tcp any any -> any any (msg:"new"; content:"BBBB"; sid:200;)' >"$tmp/reload.rules"
    kill -HUP "$bfpid"
    sleep 1.5
    /usr/bin/python3 - "$tmp/r.pcap" 9 100 <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
lo, hi = int(sys.argv[2]), int(sys.argv[3])
off, i, out = 24, 0, bytearray()
while off < len(d):
    n = struct.unpack("<I", d[off + 8:off + 12])[0]
    if lo <= i < hi: out += d[off:off + 16 + n]
    off += 16 + n; i += 1
sys.stdout.buffer.write(out)
PY
} >"$tmp/fifo"
wait "$bfpid"
old=$(jq -c 'select(.event_type=="alert" and .alert.signature_id==100)' "$tmp/l4/eve.json" | wc -l)
new=$(jq -c 'select(.event_type=="alert" and .alert.signature_id==200)' "$tmp/l4/eve.json" | wc -l)
flows=$(jq -c 'select(.event_type=="flow")' "$tmp/l4/eve.json" | wc -l)
fids=$(jq -r 'select(.event_type=="alert") | .flow_id' "$tmp/l4/eve.json" | sort -u | wc -l)
grep -q "reloaded" "$tmp/l4.err" && ok "reload reported" || bad "no reload message: $(cat "$tmp/l4.err")"
[[ $old -eq 3 && $new -ge 2 ]] && ok "old rules before the reload (3), new ones after ($new)" ||
    bad "reload: old=$old new=$new"
[[ $flows -eq 1 && $fids -eq 1 ]] && ok "the flow survived the reload" || bad "flows=$flows flow ids=$fids"

exit $fail
