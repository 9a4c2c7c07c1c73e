#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/engine/cli_test.sh BEFFROI: the command line as a user meets it:
# stdin input, folders, gzip, truncated input (warning with offset, exit 3),
# bad configuration (names the key, exit 1), EVE to stdout and to a unix
# socket, BPF filters.  Uses small captures it writes itself with python.
set -uo pipefail
b=$(readlink -f "$1")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bf-cli.XXXXXX")
trap 'rm -rf "$tmp"; kill %1 2>/dev/null' EXIT
cd "$tmp"
pass=0; fail=0
ok() { echo "PASS $1"; pass=$((pass+1)); }
ko() { echo "FAIL $1"; fail=$((fail+1)); }

# a capture of 3 TCP connections and 2 DNS-like UDP packets, written directly
/usr/bin/python3 - <<'PY'
import struct
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b)//2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
def ip(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20+len(payload), 1, 0, 64, proto, 0, bytes(src), bytes(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload
def tcp(src, dst, sp, dp, seq, ack, flags, data=b""):
    t = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, 65535, 0, 0) + data
    ph = bytes(src) + bytes(dst) + struct.pack("!BBH", 0, 6, len(t))
    t = t[:16] + struct.pack("!H", csum(ph + t)) + t[18:]
    return ip(src, dst, 6, t)
def udp(src, dst, sp, dp, data):
    u = struct.pack("!HHHH", sp, dp, 8+len(data), 0) + data
    return ip(src, dst, 17, u)
eth = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00"
pkts = []
t = 1700000000.0
for i in range(3):
    c, s = [10, 0, 0, 1+i], [10, 0, 0, 100]
    sp = 40000 + i
    pkts += [tcp(c, s, sp, 80, 1000, 0, 0x02), tcp(s, c, 80, sp, 5000, 1001, 0x12),
             tcp(c, s, sp, 80, 1001, 5001, 0x10),
             tcp(c, s, sp, 80, 1001, 5001, 0x18, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
             tcp(s, c, 80, sp, 5001, 1028, 0x18, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
             tcp(c, s, sp, 80, 1028, 5041, 0x11), tcp(s, c, 80, sp, 5041, 1029, 0x11),
             tcp(c, s, sp, 80, 1029, 5042, 0x10)]
q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01"
pkts += [udp([10,0,0,1], [10,0,0,53], 5353, 53, q), udp([10,0,0,2], [10,0,0,53], 5354, 53, q)]
with open("a.pcap", "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, p in enumerate(pkts):
        fr = eth + p
        ts = t + i * 0.01
        f.write(struct.pack("<IIII", int(ts), int((ts % 1) * 1e6), len(fr), len(fr)) + fr)
PY

# 1. file, summary, flows
out=$("$b" -r a.pcap -l . 2>&1); rc=$?
n=$(grep -c '"event_type":"flow"' eve.json)
[[ $rc -eq 0 && $n -eq 5 && "$out" == *"Beffroi summary"* ]] && ok "file: 5 flows, summary" || ko "file (rc=$rc flows=$n)"

# 2. stdin gives the same flows
rm -f eve.json; "$b" -r - -l . -q < a.pcap; n2=$(grep -c '"event_type":"flow"' eve.json)
[[ $n2 -eq 5 ]] && ok "stdin" || ko "stdin ($n2 flows)"

# 3. folder and gzip: two copies (one gzipped), read in time order
mkdir d && cp a.pcap d/1.pcap && gzip -c a.pcap > d/2.pcap.gz
rm -f eve.json; "$b" -r d -l . -q; rc=$?
pk=$(grep '"event_type":"stats"' eve.json | tail -1 | /usr/bin/python3 -c 'import json,sys;print(json.load(sys.stdin)["stats"]["decoder"]["pkts"])')
[[ $rc -eq 0 && $pk -eq 52 ]] && ok "folder with gzip ($pk packets)" || ko "folder (rc=$rc pkts=$pk)"

# 4. truncated: read up to the break, warning with the offset, exit 3
size=$(stat -c %s a.pcap); head -c $((size - 20)) a.pcap > t.pcap
rm -f eve.json; err=$("$b" -r t.pcap -l . -q 2>&1); rc=$?
[[ $rc -eq 3 && "$err" == *"byte offset"* ]] && grep -q '"event_type":"flow"' eve.json && ok "truncated: exit 3, offset given" || ko "truncated (rc=$rc: $err)"

# 5. bad configuration names the key and its file:line, exit 1
printf 'flow:\n  memcap: lots\n' > bad.yaml
err=$("$b" -r a.pcap -l . -c bad.yaml 2>&1); rc=$?
[[ $rc -eq 1 && "$err" == *"flow.memcap"*"bad.yaml:2"* ]] && ok "bad config names the key" || ko "bad config (rc=$rc: $err)"
err=$("$b" -r a.pcap -l . --set stream.midstream=perhaps 2>&1); rc=$?
[[ $rc -eq 1 && "$err" == *"stream.midstream"*"--set"* ]] && ok "bad --set names the key" || ko "bad --set (rc=$rc: $err)"

# 6. EVE to stdout
n=$("$b" -r a.pcap -l . -q --eve - | grep -c '"event_type":"flow"')
[[ $n -eq 5 ]] && ok "EVE to stdout" || ko "EVE to stdout ($n)"

# 7. EVE to a unix stream socket (a python listener collects the lines)
/usr/bin/python3 - "$tmp/eve.sock" > sock.out <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(sys.argv[1]); s.listen(1)
s.settimeout(20); c, _ = s.accept(); data = b""
while True:
    b = c.recv(65536)
    if not b: break
    data += b
sys.stdout.write(data.decode())
PY
for i in $(seq 50); do [[ -S eve.sock ]] && break; sleep 0.1; done
"$b" -r a.pcap -l . -q --eve "unix:$tmp/eve.sock"; wait %1
n=$(grep -c '"event_type":"flow"' sock.out)
[[ $n -eq 5 ]] && ok "EVE to a unix socket" || ko "EVE to a unix socket ($n)"

# 8. BPF filter: only UDP
rm -f eve.json; "$b" -r a.pcap -l . -q udp; n=$(grep -c '"event_type":"flow"' eve.json)
[[ $n -eq 2 ]] && ok "BPF filter" || ko "BPF filter ($n flows)"

# 9. threads: same flows
rm -f eve.json; "$b" -r a.pcap -l . -q --threads 3; n=$(grep -c '"event_type":"flow"' eve.json)
[[ $n -eq 5 ]] && ok "--threads 3" || ko "--threads 3 ($n)"

# 10. app protocols identified and HTTP logged
rm -f eve.json; "$b" -r a.pcap -l . -q
grep -q '"app_proto":"http"' eve.json && grep -q '"event_type":"http"' eve.json && ok "http identified and logged" || ko "http"

# 10b. SIGINT / SIGTERM end a live capture even when no packet arrives
# (the reader blocks in libpcap; skipped where lo cannot be captured)
for sig in INT TERM; do
    "$b" -i lo -l . -q --no-progress --threads 2 'host 192.0.2.253' 2>live.err & pid=$!
    sleep 1
    if ! kill -0 $pid 2>/dev/null; then
        wait $pid; echo "SKIP live SIG$sig: $(head -c 200 live.err)"; continue
    fi
    kill -$sig $pid
    for i in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
    if kill -0 $pid 2>/dev/null; then
        kill -KILL $pid; wait $pid 2>/dev/null; ko "live capture ignores SIG$sig"
    else
        wait $pid; rc=$?
        [[ $rc -eq 0 ]] && ok "live capture stops on SIG$sig" || ko "live SIG$sig (rc=$rc)"
    fi
done

# 10c. SIGINT while reading a pipe on stdin that stays open: prompt end, no
# "input broken" (a signal is not damage)
mkfifo fifo
{ cat a.pcap; sleep 30; } > fifo & feeder=$!
"$b" -r - -l . -q --threads 2 < fifo 2>pipe.err & pid=$!
sleep 1; kill -INT $pid
for i in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
    kill -KILL $pid; wait $pid 2>/dev/null; ko "stdin pipe ignores SIGINT"
else
    wait $pid; rc=$?
    [[ $rc -eq 0 ]] && ! grep -q broken pipe.err && ok "stdin pipe stops on SIGINT" ||
        ko "stdin pipe SIGINT (rc=$rc: $(head -c 200 pipe.err))"
fi
kill $feeder 2>/dev/null; wait $feeder 2>/dev/null

# 11. usage errors
"$b" -l . >/dev/null 2>&1; [[ $? -eq 1 ]] && ok "no input: exit 1" || ko "no input"
"$b" -r a.pcap -k maybe >/dev/null 2>&1; [[ $? -eq 1 ]] && ok "bad -k: exit 1" || ko "bad -k"
"$b" -r nonexistent.pcap -l . -q 2>/dev/null; [[ $? -eq 3 ]] && ok "missing input: exit 3" || ko "missing input"

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
