# Beffroi lab: shared definitions (sourced by every lab script).
# Addresses are documentation ranges (RFC 5737) or a private /24 that only
# exists inside the lab's own network namespaces.
# Debian tools first (a pyenv/venv python3 would not see python3-impacket)
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LAB_OUT="${LAB_OUT:-$LAB_DIR/out}"
P=bf-                        # namespace prefix: every lab namespace starts with it
DOMAIN=ville-exemple.fr
LOOKALIKE=vi11e-exemple.fr
TUNNEL_DOMAIN=t.cdn-statistiques.net

# router (= core switch + firewall + capture point) addresses on each zone
RTR_INET1=198.51.100.1; RTR_INET2=203.0.113.1; RTR_DMZ=192.0.2.1; RTR_LAN=10.66.0.1
# host  namespace  zone  address
HOSTS=(
  "atk       inet 203.0.113.66"   # attacker
  "atk2      inet 203.0.113.77"   # second attacker box (botnet node)
  "reflector inet 198.51.100.53"  # open DNS resolver (also the internet's DNS) = reflector
  "remote    inet 198.51.100.20"  # partner / offsite backup / external mail host
  "drop      inet 198.51.100.99"  # attacker-controlled server receiving stolen data
  "phish     inet 198.51.100.66"  # lookalike website
  "web       dmz  192.0.2.10"     # nginx: city website
  "dns       dmz  192.0.2.53"     # dnsmasq: city zone + forwarder
  "mail      dmz  192.0.2.25"     # postfix
  "fs        lan  10.66.0.10"     # samba file server
  "ssh       lan  10.66.0.22"     # ssh server (admin jump host)
  "ws1       lan  10.66.0.101"    # workstations
  "ws2       lan  10.66.0.102"
  "ws3       lan  10.66.0.103"
)
IP_ATK=203.0.113.66; IP_ATK2=203.0.113.77; IP_REFLECTOR=198.51.100.53; IP_REMOTE=198.51.100.20
IP_DROP=198.51.100.99; IP_PHISH=198.51.100.66; IP_WEB=192.0.2.10; IP_DNS=192.0.2.53
IP_MAIL=192.0.2.25; IP_FS=10.66.0.10; IP_SSH=10.66.0.22; IP_WS1=10.66.0.101
IP_WS2=10.66.0.102; IP_WS3=10.66.0.103

# credentials used by the lab's own services (lab only)
SMB_USER=agent;  SMB_PASS='Mairie2024!'
SSH_USER=admin;  SSH_PASS='Beffroi#2024'
LAB_UID=1501

nsx()  { local n="$1"; shift; ip netns exec "$P$n" "$@"; }           # run in a lab namespace
ts()   { date +%s.%6N; }                                                # epoch with microseconds
log()  { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die()  { log "ERROR: $*"; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || die "run as root"; }

# current run directory (configs, logs, pids, ground-truth fragments)
run_dir() { cat "$LAB_OUT/current-run" 2>/dev/null; }

# record one ground-truth incident:
#   gt_add family technique "attackers" "victims" start end "expect" [extra-json]
gt_add() {
  local rd; rd="$(run_dir)"; [ -n "$rd" ] || die "no current run"
  local j="" w; for w in $3; do j="$j${j:+,}\"$w\""; done; local atk="[$j]"
  j=""; for w in $4; do j="$j${j:+,}\"$w\""; done; local vic="[$j]"
  local exp="${7//\\/\\\\}"; exp="${exp//\"/\\\"}"
  printf '{"family":"%s","technique":"%s","attacker":%s,"victim":%s,"start_epoch":%s,"end_epoch":%s,"expect":"%s","extra":%s}\n' \
    "$1" "$2" "$atk" "$vic" "$5" "$6" "$exp" "${8:-{\}}" >> "$rd/incidents.jsonl"
}
# run a command as a bounded step: step_begin; cmd; step_end -> sets T0/T1
step_begin() { T0=$(ts); }
step_end()   { T1=$(ts); }

# run a client in a lab namespace with the lab's resolver in /etc/resolv.conf
# (bind-mounted in a private mount namespace: the host's file is untouched)
nsc() {
  local n="$1"; shift; local rd; rd="$(run_dir)"; local rv="$rd/etc/resolv-lan.conf"
  case "$n" in atk|atk2|reflector|remote|drop|phish) rv="$rd/etc/resolv-inet.conf";; esac
  lab_resolv "$rd"
  ip netns exec "$P$n" unshare -m --propagation private sh -c 'mount --bind "$0" /etc/resolv.conf && cd "${HOME:-/}" && exec "$@"' "$rv" "$@"
}
lab_resolv() {
  local rd="$1"
  if [ ! -f "$rd/etc/resolv-inet.conf" ]; then mkdir -p "$rd/etc"
    printf 'nameserver %s\nsearch %s\noptions timeout:2 attempts:2\n' "$IP_DNS" "$DOMAIN" > "$rd/etc/resolv-lan.conf"
    printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$IP_REFLECTOR" > "$rd/etc/resolv-inet.conf"
  fi
}

# run a command in namespace $1 with the user overlay (private mount namespace)
nsu() {
  local n="$1"; shift; lab_resolv "$(run_dir)"
  ip netns exec "$P$n" unshare -m --propagation private sh -c '
    mount --bind "$0/etc/passwd" /etc/passwd && mount --bind "$0/etc/shadow" /etc/shadow &&
    mount --bind "$0/etc/group" /etc/group && mount --bind "$0/etc/resolv-lan.conf" /etc/resolv.conf && mount -t tmpfs -o mode=755 lab-run /run && mkdir -p /run/sshd /run/samba &&
    exec "$@"' "$(run_dir)" "$@"
}

# end the processes of lab namespace NS whose command line contains PATTERN (by pid, ours only)
ns_kill() {
  local p; for p in $(ip netns pids "$P$1" 2>/dev/null); do
    tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null | grep -qF -- "$2" && kill "$p" 2>/dev/null || true
  done
}
