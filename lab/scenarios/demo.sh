# demo: a bad day at the city hall. Benign office background with one incident of
# each family strung together (phishing -> intrusion -> exfiltration -> ransomware, DoS).
# Sized for a committed capture <= 10 MB (lab/gen-demo.sh).
SERVICES=(web dns reflector mail remote_smtp ssh fs phish drop iodined remote_ssh)
PROTOS=(eth ip tcp udp dns http tls smtp imf smb2 ssh)
source "$LAB_DIR/scenarios/common.sh"
scenario_run() {
  # morning: people arrive, read mail, browse, open documents
  benign_dns ws1; benign_browse ws1 1; benign_mail; benign_smb ws1; benign_ssh
  # phishing campaign; an agent clicks
  phish_mail; benign_browse ws2 1; phish_click ws1
  # intrusion: scan from outside, SSH brute force, then lateral movement inside
  intr_nmap_syn "$IP_WEB $IP_DNS $IP_MAIL" 100
  benign_dns ws3
  intr_ssh_bruteforce 10
  intr_smb_lateral
  benign_login ws2
  # data theft before encryption (double extortion)
  exfil_dns_tunnel ws3 "${TUNNEL_KB:-12}"
  exfil_http ws3 "${REGISTRY_ROWS:-6000}"
  benign_smb ws2
  # ransomware on the share
  ransom_smb ws2 copy-delete "Finances,RH,Courrier"
  # afternoon: the website is attacked
  dos_syn_flood 2000 500
  benign_browse ws1 1
  dos_dns_amp 100
  # evening backup
  benign_backup "${BACKUP_MB:-2}"
}
