#!/usr/bin/env bash
# Beffroi lab network: lab/net.sh up|down|status
#
# One router namespace (bf-rtr) holds three bridges, one per zone (br-inet,
# br-dmz, br-lan); it routes between zones (ip_forward) and is the capture
# point. Every host is its own namespace joined to its zone's bridge by a veth
# pair. Nothing is attached to the root namespace: the lab has no route to the
# host's network. The router's default route is a blackhole, so replies to
# spoofed sources (SYN flood --rand-source) die inside the router.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root

up() {
  down quiet
  ip netns add ${P}rtr
  nsx rtr ip link set lo up
  nsx rtr sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
      net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.all.send_redirects=0 \
      net.ipv4.conf.default.send_redirects=0 net.ipv4.icmp_ratelimit=1000
  for z in inet dmz lan; do
    nsx rtr ip link add br-$z type bridge stp_state 0 forward_delay 0
    nsx rtr ip link set br-$z up
  done
  nsx rtr ip addr add $RTR_INET1/24 dev br-inet
  nsx rtr ip addr add $RTR_INET2/24 dev br-inet
  nsx rtr ip addr add $RTR_DMZ/24 dev br-dmz
  nsx rtr ip addr add $RTR_LAN/24 dev br-lan
  # anything not in a lab subnet (spoofed sources, "the rest of the internet") is dropped here
  nsx rtr ip route add blackhole default
  for h in "${HOSTS[@]}"; do
    set -- $h; local name=$1 zone=$2 addr=$3 gw
    case $zone in inet) case $addr in 203.*) gw=$RTR_INET2;; *) gw=$RTR_INET1;; esac;; dmz) gw=$RTR_DMZ;; lan) gw=$RTR_LAN;; esac
    ip netns add $P$name
    # create the veth pair directly inside the two namespaces (never in the root one)
    ip link add v-$name netns ${P}rtr type veth peer name eth0 netns $P$name
    nsx rtr ip link set v-$name master br-$zone up
    nsx $name ip link set lo up
    nsx $name sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
        net.ipv4.conf.all.rp_filter=0 net.ipv4.ping_group_range="0 2147483647"
    nsx $name ip addr add $addr/24 dev eth0
    nsx $name ip link set eth0 up
    nsx $name ip route add default via $gw
  done
  # sanity: every host reaches the router; nothing routes outside
  for h in "${HOSTS[@]}"; do set -- $h
    nsx $1 ping -c1 -W2 -q $( case $2 in inet) case $3 in 203.*) echo $RTR_INET2;; *) echo $RTR_INET1;; esac;; dmz) echo $RTR_DMZ;; lan) echo $RTR_LAN;; esac ) >/dev/null \
      || die "host $1 cannot reach its router"
  done
  log "net up: $(ip netns list | grep -c "^$P") namespaces"
}

down() {
  local quiet="${1:-}"
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$P" || true); do
    # end only the processes living in our own lab namespaces, by pid
    local pids; pids="$(ip netns pids "$ns" 2>/dev/null || true)"
    [ -n "$pids" ] && kill $pids 2>/dev/null || true
  done
  sleep 0.3
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$P" || true); do
    local pids; pids="$(ip netns pids "$ns" 2>/dev/null || true)"
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
  done
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$P" || true); do
    ip netns del "$ns" 2>/dev/null || true
  done
  [ -n "$quiet" ] || log "net down: $(ip netns list 2>/dev/null | grep -c "^$P" || true) lab namespaces left"
}

status() { ip netns list | grep "^$P" || echo "no lab namespaces"; }

case "${1:-}" in
  up) trap 'rc=$?; [ $rc = 0 ] || down quiet' EXIT; up ;; down) down ;; status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
