#!/usr/bin/env bash
# Beffroi lab: install every Debian package the lab needs (idempotent).
# Usage: lab/install.sh [all|ci|<scenario>]   (default: all)
# Services are never left running in the root namespace: a policy-rc.d
# forbids autostart during the install, and anything that started anyway is
# stopped and disabled afterwards. The lab starts its daemons itself, inside
# network namespaces, with configs generated under lab/out/run-*/.
set -euo pipefail
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
[ "$(id -u)" = 0 ] || { echo "install.sh: must run as root" >&2; exit 1; }
what="${1:-all}"

base=(iproute2 iputils-ping bind9-dnsutils procps psmisc util-linux bsdutils wireshark-common tcpdump tshark curl wget openssl python3)
case "$what" in
  iperf)       pkgs=("${base[@]}" iperf3) ;;
  ci|ci-smoke) pkgs=("${base[@]}" nginx-light dnsmasq-base hping3 nmap hydra openssh-server openssh-client sshpass) ;;
  benign)      pkgs=("${base[@]}" nginx-light dnsmasq-base postfix swaks samba smbclient openssh-server openssh-client sshpass) ;;
  dos|dos-rates) pkgs=("${base[@]}" nginx-light dnsmasq-base hping3 wrk siege slowhttptest) ;;
  intrusion)   pkgs=("${base[@]}" nginx-light dnsmasq-base postfix nmap hydra openssh-server openssh-client sshpass samba smbclient python3-impacket) ;;
  phishing)    pkgs=("${base[@]}" nginx-light dnsmasq-base postfix swaks) ;;
  ransomware)  pkgs=("${base[@]}" dnsmasq-base samba smbclient python3-impacket python3-cryptography) ;;
  exfiltration|data-theft) pkgs=("${base[@]}" nginx-light dnsmasq-base iodine python3) ;;
  all|demo|*)  pkgs=("${base[@]}" nginx-light dnsmasq-base postfix swaks samba smbclient
                      openssh-server openssh-client sshpass iperf3 hping3 nmap hydra wrk siege
                      slowhttptest iodine python3-impacket python3-cryptography) ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install.sh: all ${#pkgs[@]} packages already installed"
else
  export DEBIAN_FRONTEND=noninteractive
  # postfix: no prompt; "Local only" so the host's own postfix (never started) is inert.
  echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
  echo "postfix postfix/mailname string lab.invalid" | debconf-set-selections
  echo "samba-common samba-common/dhcp boolean false" | debconf-set-selections
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  # forbid service autostart in the root namespace while installing
  had_policy=0; [ -e /usr/sbin/policy-rc.d ] && had_policy=1
  if [ $had_policy = 0 ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ] || apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# stop and disable whatever may have started anyway (root namespace must stay clean)
for svc in nginx postfix smbd nmbd samba-ad-dc ssh sshd dnsmasq iperf3 iodined winbind; do
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  elif [ -x "/etc/init.d/$svc" ]; then
    "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
    command -v update-rc.d >/dev/null && update-rc.d "$svc" disable >/dev/null 2>&1 || true
  fi
done
echo "install.sh: ok ($what)"
