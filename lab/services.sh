#!/usr/bin/env bash
# Beffroi lab services: lab/services.sh start SERVICE... (or "all")
# Starts daemons inside the lab namespaces with configs generated under the
# current run directory (lab/out/run-*/). Nothing under the host's /etc is
# modified: lab users exist only in passwd/shadow copies bind-mounted inside a
# private mount namespace of the daemons that need them (sshd, smbd).
# Daemons die with their namespace (lab/net.sh down kills them by pid).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root
RD="$(run_dir)"; [ -n "$RD" ] && [ -d "$RD" ] || die "no current run dir (use lab/run.sh)"
DOCS_SCALE="${DOCS_SCALE:-1}"

# passwd/shadow/group overlay with the lab users
mk_users() {
  [ -f "$RD/etc/passwd" ] && return 0
  mkdir -p "$RD/etc" "$RD/home/$SSH_USER" "$RD/home/$SMB_USER"
  cp /etc/passwd /etc/group "$RD/etc/"; cp /etc/shadow "$RD/etc/shadow"; chmod 600 "$RD/etc/shadow"
  echo "$SSH_USER:x:$LAB_UID:$LAB_UID:Admin Mairie:$RD/home/$SSH_USER:/bin/bash" >> "$RD/etc/passwd"
  echo "$SMB_USER:x:$((LAB_UID+1)):$LAB_UID:Agent Mairie:$RD/home/$SMB_USER:/bin/bash" >> "$RD/etc/passwd"
  echo "mairie:x:$LAB_UID:" >> "$RD/etc/group"
  echo "$SSH_USER:$(openssl passwd -6 "$SSH_PASS"):19700:0:99999:7:::" >> "$RD/etc/shadow"
  echo "$SMB_USER:$(openssl passwd -6 "$SMB_PASS"):19700:0:99999:7:::" >> "$RD/etc/shadow"
  chown -R $LAB_UID:$LAB_UID "$RD/home/$SSH_USER"; chown -R $((LAB_UID+1)):$LAB_UID "$RD/home/$SMB_USER"
}
bg() { local name="$1"; shift; setsid bash -c 'source "$0"; "$@"' "$LAB_DIR/lib.sh" "$@" </dev/null >"$RD/log/$name.log" 2>&1 & echo $! > "$RD/pid/$name"; }
wait_port() { # ns ip port [tcp|udp]
  local i; for i in $(seq 1 50); do
    if [ "${4:-tcp}" = udp ]; then nsx "$1" ss -lnu | grep -q "$2:$3 " && return 0
    else nsx "$1" ss -lnt | grep -q "$2:$3 " && return 0; fi
    sleep 0.2; done; die "service in $1 not listening on $2:$3/${4:-tcp} (see $RD/log)"
}
cert() { # name cn -> $RD/tls/name.{crt,key}
  mkdir -p "$RD/tls"; [ -f "$RD/tls/$1.crt" ] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$2" -addext "subjectAltName=DNS:$2,DNS:www.$2" \
    -keyout "$RD/tls/$1.key" -out "$RD/tls/$1.crt" >/dev/null 2>&1
}

nginx_conf() { # name root cn ip
  local d="$RD/nginx-$1"; mkdir -p "$d/tmp"
  cat > "$d/nginx.conf" <<C
daemon off; worker_processes 1; pid $d/nginx.pid; error_log $d/error.log;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types; access_log $d/access.log; client_body_temp_path $d/tmp;
  proxy_temp_path $d/tmp; fastcgi_temp_path $d/tmp; uwsgi_temp_path $d/tmp; scgi_temp_path $d/tmp;
  client_max_body_size 64m; keepalive_timeout 20; server_tokens off;
  server {
    listen $4:80; listen $4:443 ssl; server_name $3 www.$3;
    ssl_certificate $RD/tls/$1.crt; ssl_certificate_key $RD/tls/$1.key;
    root $2; index index.html;
    location = /espace-agent/login { return 302 /espace-agent/accueil.html; }
    location = /contact { return 302 /contact.html; }
  }
}
C
}
svc_web() {
  /usr/bin/python3 "$LAB_DIR/tools/gen_content.py" site "$RD/www"; cert web $DOMAIN
  nginx_conf web "$RD/www" $DOMAIN $IP_WEB; bg nginx-web nsc web nginx -c "$RD/nginx-web/nginx.conf"
  wait_port web $IP_WEB 80
}
svc_phish() { # lookalike of the city's site, same pages, credential harvesting form
  /usr/bin/python3 "$LAB_DIR/tools/gen_content.py" site "$RD/www-phish"; cert phish $LOOKALIKE
  nginx_conf phish "$RD/www-phish" $LOOKALIKE $IP_PHISH; bg nginx-phish nsc phish nginx -c "$RD/nginx-phish/nginx.conf"
  wait_port phish $IP_PHISH 443
}
svc_dns() { # the city's DNS server: authoritative for the city's zone, forwards the rest
  local d="$RD/dns"; mkdir -p "$d"
  cat > "$d/dnsmasq.conf" <<C
no-resolv
no-hosts
no-poll
bind-interfaces
listen-address=$IP_DNS
user=nobody
pid-file=$d/dnsmasq.pid
log-queries
log-facility=$d/queries.log
server=$IP_REFLECTOR
local=/$DOMAIN/
domain=$DOMAIN
host-record=$DOMAIN,$IP_WEB
host-record=www.$DOMAIN,$IP_WEB
host-record=mail.$DOMAIN,$IP_MAIL
host-record=ns.$DOMAIN,$IP_DNS
host-record=fichiers.$DOMAIN,$IP_FS
host-record=admin.$DOMAIN,$IP_SSH
host-record=poste1.$DOMAIN,$IP_WS1
host-record=poste2.$DOMAIN,$IP_WS2
host-record=poste3.$DOMAIN,$IP_WS3
mx-host=$DOMAIN,mail.$DOMAIN,10
txt-record=$DOMAIN,"v=spf1 mx -all"
C
  bg dnsmasq-city nsx dns dnsmasq -k -C "$d/dnsmasq.conf"; wait_port dns $IP_DNS 53 udp
}
svc_reflector() { # "the internet's DNS": open resolver (reflector) + zones of the outside world
  local d="$RD/reflector"; mkdir -p "$d"; local big; big=$(python3 -c 'import random;r=random.Random(7);print("".join(r.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(240)))')
  {
    echo "no-resolv"; echo "no-hosts"; echo "no-poll"; echo "bind-interfaces"; echo "listen-address=$IP_REFLECTOR"
    echo "user=nobody"; echo "pid-file=$d/dnsmasq.pid"; echo "log-queries"; echo "log-facility=$d/queries.log"
    echo "edns-packet-max=4096"
    echo "address=/$LOOKALIKE/$IP_PHISH"; echo "address=/ville-exemple-fr.com/$IP_PHISH"
    echo "address=/partenaire-sig.fr/$IP_REMOTE"; echo "address=/backup.partenaire-sig.fr/$IP_REMOTE"
    echo "address=/depot-fichiers.net/$IP_DROP"
    echo "mx-host=partenaire-sig.fr,partenaire-sig.fr,10"
    echo "server=/$TUNNEL_DOMAIN/$IP_DROP"
    # a name with large TXT records: what amplification attackers ask for
    for i in $(seq 1 14); do echo "txt-record=cdn-assets.example.net,\"k$i=$big\""; done
  } > "$d/dnsmasq.conf"
  bg dnsmasq-reflector nsx reflector dnsmasq -k -C "$d/dnsmasq.conf"; wait_port reflector $IP_REFLECTOR 53 udp
}
svc_mail() {
  local d="$RD/postfix"; mkdir -p "$d/etc" "$d/spool" "$d/data" "$d/mailboxes"
  cp /etc/postfix/master.cf "$d/etc/master.cf"; cp /etc/postfix/dynamicmaps.cf "$d/etc/" 2>/dev/null || true
  [ -d /etc/postfix/dynamicmaps.cf.d ] && cp -r /etc/postfix/dynamicmaps.cf.d "$d/etc/" || true
  # no chroot (queue lives in the run dir)
  awk '/^[a-z]/ && NF>=8 && $5=="y" {$5="n"} {print}' /etc/postfix/master.cf > "$d/etc/master.cf"
  chown nobody:nogroup "$d/mailboxes"
  printf "%s\n" "mairie@$DOMAIN mairie/" "agent@$DOMAIN agent/" "accueil@$DOMAIN accueil/" "rh@$DOMAIN rh/" "admin@$DOMAIN admin/" > "$d/vmailbox"
  cat > "$d/etc/main.cf" <<C
compatibility_level = 3.6
queue_directory = $d/spool
data_directory = $d/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.$DOMAIN
mydomain = $DOMAIN
myorigin = $DOMAIN
mydestination =
inet_interfaces = $IP_MAIL
inet_protocols = ipv4
mynetworks = 10.66.0.0/24, 192.0.2.0/24, 127.0.0.0/8
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_base = $d/mailboxes
virtual_mailbox_maps = texthash:$d/vmailbox
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_mailbox_limit = 0
message_size_limit = 52428800
transport_maps = inline:{partenaire-sig.fr=smtp:[$IP_REMOTE]}
smtp_dns_support_level = disabled
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_banner = \$myhostname ESMTP
maillog_file = /dev/stdout
biff = no
C
  chown postfix "$d/data"
  # postfix logs to stdout (start-fg, maillog_file=/dev/stdout): $RD/log/postfix.log
  bg postfix nsc mail script -qfc "postfix -c $d/etc start-fg" /dev/null
  wait_port mail $IP_MAIL 25
}
svc_remote_smtp() { # the partner's mail server (receives mail sent by the city)
  bg smtp-remote nsc remote /usr/bin/python3 -W ignore -m smtpd -n -c DebuggingServer $IP_REMOTE:25; wait_port remote $IP_REMOTE 25
}
sshd_on() { # ns ip
  mk_users; local d="$RD/sshd-$1"; mkdir -p "$d"
  ssh-keygen -q -t ed25519 -N '' -f "$d/host_ed25519" <<<y >/dev/null 2>&1 || true
  cat > "$d/sshd_config" <<C
ListenAddress $2
Port 22
HostKey $d/host_ed25519
PidFile $d/sshd.pid
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin no
MaxAuthTries 6
MaxStartups 64:30:128
LoginGraceTime 20
StrictModes no
Subsystem sftp internal-sftp
C
  bg sshd-$1 nsu "$1" /usr/sbin/sshd -D -e -f "$d/sshd_config"; wait_port "$1" "$2" 22
}
svc_ssh() { sshd_on ssh $IP_SSH; }
svc_remote_ssh() { sshd_on remote $IP_REMOTE; }
svc_fs() {
  mk_users; local d="$RD/samba"; mkdir -p "$d"/{private,lock,state,cache,pid,ncalrpc,log} "$RD/share" "$RD/admin-share"
  /usr/bin/python3 "$LAB_DIR/tools/gen_content.py" docs "$RD/share" "$DOCS_SCALE" 2>>"$RD/log/gen.log"
  chown -R $((LAB_UID+1)):$LAB_UID "$RD/share" "$RD/admin-share"
  cat > "$d/smb.conf" <<C
[global]
  workgroup = MAIRIE
  netbios name = FICHIERS
  server string = Serveur de fichiers de la mairie
  server role = standalone server
  security = user
  passdb backend = tdbsam:$d/private/passdb.tdb
  private dir = $d/private
  lock directory = $d/lock
  state directory = $d/state
  cache directory = $d/cache
  pid directory = $d/pid
  ncalrpc dir = $d/ncalrpc
  log file = $d/log/log.%m
  log level = 1
  interfaces = $IP_FS/24
  bind interfaces only = yes
  disable netbios = yes
  smb ports = 445
  server min protocol = SMB2_02
  server signing = auto
  server smb encrypt = off
  load printers = no
  printcap name = /dev/null
  disable spoolss = yes
  usershare path =
  map to guest = never
  admin users = $SMB_USER
[Documents]
  path = $RD/share
  read only = no
  valid users = $SMB_USER
  create mask = 0664
  directory mask = 0775
[ADMIN\$]
  path = $RD/admin-share
  read only = no
  valid users = $SMB_USER
  browseable = no
C
  printf '%s\n%s\n' "$SMB_PASS" "$SMB_PASS" | nsu fs smbpasswd -c "$d/smb.conf" -s -a $SMB_USER >/dev/null
  bg smbd nsu fs smbd --foreground --debug-stdout -s "$d/smb.conf"; wait_port fs $IP_FS 445
}
svc_drop() { # attacker's server: accepts uploads (HTTP POST) and is authoritative for the tunnel domain
  bg drop-http nsc drop /usr/bin/python3 "$LAB_DIR/tools/upload_server.py" $IP_DROP 80 "$RD/log/drop-received.log"
  wait_port drop $IP_DROP 80
}
svc_iodined() {
  [ -c /dev/net/tun ] || die "/dev/net/tun missing: iodine cannot run"
  bg iodined nsc drop iodined -f -c -P labtunnel -l $IP_DROP 172.30.66.1/27 $TUNNEL_DOMAIN
  wait_port drop $IP_DROP 53 udp
}
svc_backup() { # offsite backup host for the legitimate large transfer
  svc_remote_ssh
}
svc_iperf() { bg iperf3 nsx remote iperf3 -s -B $IP_REMOTE -1; wait_port remote $IP_REMOTE 5201; }

start() {
  mkdir -p "$RD/log" "$RD/pid"
  local s; for s in "$@"; do
    [ "$s" = all ] && { start web dns reflector mail remote_smtp ssh fs phish drop remote_ssh; continue; }
    log "service: $s"; "svc_${s//-/_}"
  done
}
case "${1:-}" in
  start) shift; start "$@" ;;
  *) echo "usage: $0 start all|web|dns|reflector|mail|remote_smtp|ssh|remote_ssh|fs|phish|drop|iodined|iperf ..." >&2; exit 2 ;;
esac
