#!/usr/bin/env bash
# Zero call loss over TCP (sourced after zero_loss.sh): the pair's legs to the SIP Server and
# to the media servers are TCP, with real peers that follow RFC 3261 section 18 (a response
# goes back on the connection its request came on; a sender with no usable connection opens
# one): Kamailio as the SIP Server in front of the sipp caller, and Kamailio as each media
# server. sipp's own TCP mode does neither across a failover (its UAS answers on the call's
# first connection, its UAC fails the call whose send met a closed connection), so it stays
# on the UDP side of the SIP Server.
#
#   client: sipp UAC 192.0.2.50:5061 --udp--> Kamailio "SIP Server" 192.0.2.50:5080
#           --tcp--> VIP 192.0.2.100:5060 (node1 | node2) --tcp--> ms1 192.0.2.21:5070
#                                                           --tcp--> ms2 192.0.2.22:5070
#   ms1/ms2: Kamailio answering INVITE 200 (Contact, Record-Route copied), BYE 200, ACK
#   absorbed; each logs "MS INVITE|BYE <Call-ID>" so the test checks every BYE reached the
#   media server that took the call.

ZL_KAMAILIO_MODS=/usr/lib/x86_64-linux-gnu/kamailio/modules

# zl_tcp_kamailio HOST NAME LISTEN... : starts Kamailio in HOST with $LAB_DIR/NAME.cfg
# (written by the caller) and waits (bounded) until it logs that it is listening.
zl_tcp_kamailio() {
  local host=$1 name=$2
  lab_spawn "$host" "$LAB_DIR/$name.log" kamailio -f "$LAB_DIR/$name.cfg" -DD -E -m 64 -M 8 \
    -w "$LAB_DIR" -Y "$LAB_DIR/$name.run"
  wait_until 10000 "grep -q 'kamailio $name ready' '$LAB_DIR/$name.log'" ||
    fail "kamailio $name did not start: $(tail -20 "$LAB_DIR/$name.log")"
}

zl_tcp_cfg_head() { # NAME LISTEN-LINES
  cat <<CONF
#!KAMAILIO
debug=1
log_stderror=yes
fork=yes
children=1
tcp_children=1
auto_aliases=no
$2
mpath="$ZL_KAMAILIO_MODS/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
event_route[core:worker-one-init] { xlog("L_ALERT", "kamailio $1 ready\n"); }
CONF
}

# zl_tcp_media_servers: ms1 and ms2, Kamailio answering on TCP.
zl_tcp_media_servers() {
  local i
  for i in 1 2; do
    lab_ns "ms$i"
    lab_link "ms$i" eth0 svc "192.0.2.2$i/24" "02:00:00:00:03:2$i"
    {
      zl_tcp_cfg_head "ms$i" "listen=tcp:192.0.2.2$i:5070"
      cat <<'CONF'
request_route {
  if (is_method("INVITE")) {
    xlog("L_ALERT", "MS INVITE $ci\n");
    append_to_reply("Contact: <sip:mcp@$Ri:$Rp;transport=tcp>\r\n");
    sl_send_reply("200", "OK");
    exit;
  }
  if (is_method("ACK")) { exit; }
  if (is_method("BYE")) { xlog("L_ALERT", "MS BYE $ci\n"); sl_send_reply("200", "OK"); exit; }
  sl_send_reply("200", "OK");
}
CONF
    } >"$LAB_DIR/ms$i.cfg"
    zl_tcp_kamailio "ms$i" "ms$i"
  done
}

# zl_tcp_sip_server: Kamailio in the client namespace: UDP from the caller, TCP to the VIP,
# record-routing (a double Record-Route across the transports).
zl_tcp_sip_server() {
  {
    zl_tcp_cfg_head sipserver "listen=udp:192.0.2.50:5080
listen=tcp:192.0.2.50:5080"
    cat <<CONF
request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (has_totag()) {
    if (loose_route()) { t_relay(); exit; }
    if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
    sl_send_reply("404", "Not here"); exit;
  }
  if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
  t_check_trans();
  if (is_method("INVITE")) { record_route(); }
  \$du = "sip:$PAIR_VIP:5060;transport=tcp";
  t_relay();
}
CONF
  } >"$LAB_DIR/sipserver.cfg"
  zl_tcp_kamailio client sipserver
}

# zl_tcp_calls COUNT RATE HOLD_MS: like zl_calls, through the SIP Server.
zl_tcp_calls() {
  rm -f "$LAB_DIR/uac.csv"
  lab_spawn client "$LAB_DIR/uac.log" sipp -sf "$ZL_SCENARIOS/uac_call.xml" -s msml \
    -i 192.0.2.50 -p 5061 -t u1 -m "$1" -r "$2" -d "$3" -l "$1" -nostdin \
    -trace_stat -stf "$LAB_DIR/uac.csv" -fd 1 -timeout 120s -timeout_error -recv_timeout 20000 \
    192.0.2.50:5080
  ZL_UAC_PID=$LAB_LAST_PID
}

# zl_tcp_check_media_servers COUNT: every call's BYE reached the media server that took it.
zl_tcp_check_media_servers() {
  local i invites byes total=0
  for i in 1 2; do
    invites=$(grep -o 'MS INVITE .*' "$LAB_DIR/ms$i.log" | awk '{print $3}' | sort -u)
    byes=$(grep -o 'MS BYE .*' "$LAB_DIR/ms$i.log" | awk '{print $3}' | sort -u)
    [ "$invites" = "$byes" ] ||
      fail "ms$i: the calls it took and the BYEs it got differ: $(diff <(echo "$invites") <(echo "$byes") | head -5)"
    total=$((total + $(grep -c . <<<"$invites")))
  done
  [ "$total" -eq "$1" ] || fail "the media servers took $total calls, expected $1"
  ok "every BYE reached the media server that took its call ($total calls on 2 servers)"
}

# zl_tcp_scenario METHOD [extra [cluster] lines...]: the zero-loss test over TCP.
zl_tcp_scenario() {
  local method=$1 calls=20
  shift
  ZL_MS_TRANSPORT=tcp
  zl_pair_up "$@"
  wait_until 10000 roles_are active standby || fail "no active/standby pair"
  zl_tcp_media_servers
  zl_tcp_sip_server
  wait_until 5000 '[ "$(zl_repl 1 .state)" = in-sync ]' || fail "replication never in sync"
  zl_tcp_calls "$calls" 50 6000
  wait_until 5000 '[ "$(zl_sessions 1)" -eq '"$calls"' ]' ||
    fail "the active holds $(zl_sessions 1) of $calls sessions"
  wait_until 5000 '[ "$(zl_sessions 2)" -eq '"$calls"' ] && [ "$(zl_repl 1 .state)" = in-sync ]' ||
    fail "the standby holds $(zl_sessions 2) of $calls sessions"
  ok "$calls calls up over TCP; the standby holds them all"
  zl_fail_active "$method"
  [ "$(zl_sessions 2)" -eq "$calls" ] || fail "the new active holds $(zl_sessions 2) sessions"
  ok "$method: member 2 active with the $calls calls"
  zl_calls_end "$calls"
  zl_tcp_check_media_servers "$calls"
}
