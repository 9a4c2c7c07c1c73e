#!/usr/bin/env bash
# Capture point: lab/capture.sh start | stop OUT.pcap
# tcpdump runs in the router namespace on the three zone bridges, inbound
# direction only (-Q in): each frame is recorded once, as it enters the core
# switch/router from a host (intra-zone traffic such as LAN SMB included,
# inter-zone traffic seen on its ingress zone). The three files are merged in
# time order into one Ethernet pcap.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root
RD="$(run_dir)"; [ -n "$RD" ] || die "no current run"
SNAPLEN="${SNAPLEN:-262144}"
case "${1:-}" in
  start)
    mkdir -p "$RD/cap"
    for z in inet dmz lan; do
      setsid ip netns exec ${P}rtr tcpdump -i br-$z -Q in -U -n -s "$SNAPLEN" -w "$RD/cap/$z.pcap" 2>"$RD/cap/$z.log" &
      echo $! > "$RD/cap/$z.pid"
    done
    for z in inet dmz lan; do
      for i in $(seq 1 50); do grep -q "listening on" "$RD/cap/$z.log" 2>/dev/null && break; sleep 0.1; done
      grep -q "listening on" "$RD/cap/$z.log" || die "tcpdump on br-$z did not start: $(cat "$RD/cap/$z.log")"
    done
    date +%s.%6N > "$RD/cap/start"; touch "$RD/cap/running"
    log "capture started (snaplen $SNAPLEN)";;
  stop)
    out="${2:?output pcap}"
    [ -f "$RD/cap/running" ] || exit 0
    rm -f "$RD/cap/running"
    sleep 0.5
    for z in inet dmz lan; do [ -f "$RD/cap/$z.pid" ] && kill -TERM "$(cat "$RD/cap/$z.pid")" 2>/dev/null || true; done
    for z in inet dmz lan; do
      p="$(cat "$RD/cap/$z.pid" 2>/dev/null || true)"
      for i in $(seq 1 50); do [ -n "$p" ] && kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      rm -f "$RD/cap/$z.pid"
    done
    date +%s.%6N > "$RD/cap/end"
    mergecap -F pcap -w "$out" "$RD"/cap/*.pcap
    log "capture: $out ($(stat -c %s "$out") bytes, $(tcpdump -r "$out" -n 2>/dev/null | wc -l) packets)";;
  *) echo "usage: $0 start | stop OUT.pcap" >&2; exit 2;;
esac
