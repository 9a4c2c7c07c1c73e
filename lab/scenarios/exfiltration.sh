# data theft: DNS tunnelling with iodine through the city's resolver, then bulk HTTP POST
# of the civil registry to the attacker's server.
SERVICES=(web dns reflector drop iodined)
PROTOS=(eth ip tcp udp dns http)
source "$LAB_DIR/scenarios/common.sh"
scenario_run() {
  benign_browse ws1 1
  exfil_dns_tunnel ws3 "${TUNNEL_KB:-48}"
  benign_dns ws2
  exfil_http ws3 "${REGISTRY_ROWS:-20000}"
}
