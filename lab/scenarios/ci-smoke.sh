# ci-smoke: small and fast end-to-end proof of the lab (CI).
# nginx + dnsmasq + sshd; some browsing; a short spoofed SYN flood, an nmap SYN scan, an SSH brute force.
SERVICES=(web dns ssh)
PROTOS=(eth ip tcp udp dns http tls ssh)
source "$LAB_DIR/scenarios/common.sh"

scenario_run() {
  benign_browse ws1 3
  dos_syn_flood 1500
  benign_browse ws2 2
  intr_nmap_syn "$IP_WEB $IP_SSH" 100
  intr_ssh_bruteforce 6
}
