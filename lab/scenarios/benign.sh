# benign office day: browsing, DNS, mail in and out, SMB office work, SSH admin, offsite backup.
SERVICES=(web dns reflector mail remote_smtp ssh fs remote_ssh)
PROTOS=(eth ip tcp udp dns http tls smtp smb2 ssh)
source "$LAB_DIR/scenarios/common.sh"
scenario_run() {
  benign_dns ws1
  benign_browse ws1 2
  benign_mail
  benign_smb ws1
  benign_browse ws2 2
  benign_login ws2
  benign_ssh
  benign_smb ws2
  benign_dns ws3
  benign_backup "${BACKUP_MB:-20}"
  benign_browse ws3 1
}
