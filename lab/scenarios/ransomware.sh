# ransomware: an impacket SMB client on a compromised workstation encrypts the share,
# first "copy then delete", then "overwrite then rename", dropping README_DECRYPT.txt notes.
SERVICES=(dns fs)
PROTOS=(eth ip tcp smb2)
source "$LAB_DIR/scenarios/common.sh"
scenario_run() {
  benign_smb ws1
  ransom_smb ws2 copy-delete "Finances,RH,Courrier"
  benign_dns ws3
  ransom_smb ws2 overwrite-rename "Urbanisme,Marchés publics,Etat civil,Conseil municipal"
}
