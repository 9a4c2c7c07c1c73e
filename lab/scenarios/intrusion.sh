# intrusion: nmap SYN/connect/UDP scans, SSH brute force ending in a success, lateral movement over SMB (impacket).
SERVICES=(web dns reflector mail ssh fs)
PROTOS=(eth ip tcp udp dns ssh smb2 dcerpc)
source "$LAB_DIR/scenarios/common.sh"
scenario_run() {
  benign_browse ws1 1
  intr_nmap_syn "$IP_WEB $IP_DNS $IP_MAIL" 200
  intr_nmap_udp
  intr_ssh_bruteforce 20
  benign_smb ws1
  intr_nmap_connect
  intr_smb_lateral
}
