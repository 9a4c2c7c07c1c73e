# denial of service: spoofed SYN flood, UDP flood, DNS amplification through the open reflector, HTTP flood, slowloris.
SERVICES=(web dns reflector)
PROTOS=(eth ip tcp udp dns http)
source "$LAB_DIR/scenarios/common.sh"
scenario_run() {
  benign_browse ws1 1
  dos_syn_flood 5000 400
  dos_udp_flood 3000
  dos_dns_amp 400
  benign_browse ws2 1
  dos_http_flood 20 60
  dos_slowloris 300 20
}
