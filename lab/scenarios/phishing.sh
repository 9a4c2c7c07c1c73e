# phishing: a mail through postfix with a link to a lookalike of the city's domain and an
# executable attachment, then the victim's DNS lookup and TLS/HTTP connection to the lookalike.
SERVICES=(web dns reflector mail phish)
PROTOS=(eth ip tcp udp dns smtp imf tls http)
source "$LAB_DIR/scenarios/common.sh"
scenario_run() {
  benign_browse ws1 1
  benign_mail
  phish_mail
  sleep 2
  phish_click ws1
  benign_browse ws2 1
}
