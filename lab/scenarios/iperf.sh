# a full-speed iperf3 TCP transfer LAN -> partner (offsite backup link test):
# legitimate, very high rate; the DoS detector must stay silent.
SERVICES=(iperf)
PROTOS=(eth ip tcp)
SNAPLEN="${SNAPLEN:-128}"; export SNAPLEN
source "$LAB_DIR/scenarios/common.sh"
scenario_run() {
  step_begin
  qt nsx ws1 timeout 20 iperf3 -c $IP_REMOTE -t "${IPERF_SECS:-4}" -i 0
  step_end
  gt_add benign iperf3_transfer "$IP_WS1" "$IP_REMOTE" "$T0" "$T1" "$BENIGN_EXPECT (full-speed iperf3 TCP transfer)"
}
