#!/usr/bin/env bash
# Shared by tests/integration/zero_loss_*.sh and scripts/bench-zero-loss (sourced after
# lab.sh and pair.sh): an rmha pair with a [sip] section behind the VIP, two sipp media
# servers on the service LAN, and a sipp caller in the client namespace.
#
#   client 192.0.2.50 (sipp UAC) --> VIP 192.0.2.100:5060 (node1 | node2) --> ms1 192.0.2.21:5070
#                                                                          --> ms2 192.0.2.22:5070

ZL_SCENARIOS="$RMHA_SOURCE/tests/integration/sip/scenarios"
ZL_UAC_PID=""
# ZL_TRANSPORT: udp (the default) or tcp, the caller's leg; ZL_MS_TRANSPORT the media
# servers' leg (the same by default).
ZL_TRANSPORT=${ZL_TRANSPORT:-udp}
ZL_MS_TRANSPORT=${ZL_MS_TRANSPORT:-$ZL_TRANSPORT}

# zl_sipp_transport: sipp's -t value (one socket for all calls); over TCP, sipp keeps its
# calls when a connection closes (a dialog is not bound to a connection, RFC 3261) and
# reconnects when it has something to send.
zl_sipp_transport() {
  if [ "${1:-$ZL_TRANSPORT}" = tcp ]; then
    echo -t t1 -max_reconnect 1000 -reconnect_close false -reconnect_sleep 20
  else
    echo -t u1
  fi
}

# zl_sip_lines: the configuration lines after [cluster] (one array element per line).
# The nodes listen on the VIP itself (bound before they own it: ip_nonlocal_bind), so that
# what they send leaves from the VIP: a media server that answers the source address of a
# request (sipp does) then reaches whichever node owns the VIP.
zl_sip_lines() {
  ZL_LINES=(
    "[sip]"
    "listen = udp:$PAIR_VIP:5060, tcp:$PAIR_VIP:5060"
    "advertised-address = $PAIR_VIP"
    "resource-groups = msml"
    "[resource-group.msml]"
    "servers = $ZL_MS_TRANSPORT:192.0.2.21:5070, $ZL_MS_TRANSPORT:192.0.2.22:5070"
    "policy = least-used"
    "capacity = 1000000"
    "probe-interval-ms = 0"
    "[routing]"
    "default-group = msml"
  )
}

# zl_pair_up [extra [cluster] lines...]: like pair_up, with [sip] and non-local binding.
zl_pair_up() {
  zl_sip_lines
  lab_init
  pair_topology
  local m
  for m in 1 2; do
    lab_exec "node$m" sysctl -qw net.ipv4.ip_nonlocal_bind=1
    pair_config "$m" "$@" "${ZL_LINES[@]}"
  done
  pair_start 1
  pair_start 2
}

# zl_media_servers: two sipp UAS answering every call (held until the caller's BYE).
zl_media_servers() {
  local i
  cd "$LAB_DIR" # sipp writes its trace files in the working directory
  for i in 1 2; do
    lab_ns "ms$i"
    lab_link "ms$i" eth0 svc "192.0.2.2$i/24" "02:00:00:00:03:2$i"
    lab_spawn "ms$i" "$LAB_DIR/ms$i.log" sipp -sf "$ZL_SCENARIOS/uas_call.xml" \
      -i "192.0.2.2$i" -p 5070 $(zl_sipp_transport "$ZL_MS_TRANSPORT") -nostdin -trace_err
  done
}

# zl_calls COUNT RATE HOLD_MS: the caller places COUNT calls at RATE/s, each held HOLD_MS,
# through the VIP; statistics go to $LAB_DIR/uac.csv. Sets ZL_UAC_PID. Over TCP the caller
# reconnects when its connection to the VIP breaks (the old active died or let the VIP go)
# and keeps its calls, as a SIP Server does.
zl_calls() {
  rm -f "$LAB_DIR/uac.csv"
  # shellcheck disable=SC2046 # zl_sipp_transport prints several words on purpose
  lab_spawn client "$LAB_DIR/uac.log" sipp -sf "$ZL_SCENARIOS/uac_call.xml" -s msml \
    -i 192.0.2.50 -p 5061 $(zl_sipp_transport) -m "$1" -r "$2" -d "$3" -l "$1" -nostdin -trace_err \
    -trace_stat -stf "$LAB_DIR/uac.csv" -fd 1 -timeout 120s -timeout_error -recv_timeout 20000 \
    "$PAIR_VIP:5060"
  ZL_UAC_PID=$LAB_LAST_PID
}

# zl_wait_calls_done MS: waits (bounded) until the caller exited.
zl_wait_calls_done() {
  local deadline=$(( $(lab_now_us) + $1 * 1000 ))
  while kill -0 "$ZL_UAC_PID" 2>/dev/null; do
    [ "$(lab_now_us)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# zl_csv FIELD: the caller's last cumulative value of a statistics column (e.g.
# SuccessfulCall(C), FailedCall(C)).
zl_csv() {
  awk -F';' -v f="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == f) c = i; next }
                        { v = $c } END { print v + 0 }' "$LAB_DIR/uac.csv"
}

# zl_sessions MEMBER: the node's session-table size (-1 when it does not answer).
zl_sessions() {
  local n
  n=$(pair_ctl "$1" -t 2000 status --json 2>/dev/null | jq -r '.sip.sessions // -1') || n=-1
  echo "${n:--1}"
}

# zl_repl MEMBER JQ: a field of the node's replication status.
zl_repl() { pair_ctl "$1" -t 2000 status --json 2>/dev/null | jq -r ".replication$2"; }

# zl_calls_up COUNT HOLD_MS: places COUNT calls (held HOLD_MS) through the VIP and waits
# (bounded) until node1 holds them and the standby acknowledged every one.
zl_calls_up() {
  zl_calls "$1" 50 "$2"
  wait_until 5000 '[ "$(zl_sessions 1)" -eq '"$1"' ]' ||
    fail "the active holds $(zl_sessions 1) of $1 sessions"
  wait_until 5000 '[ "$(zl_sessions 2)" -eq '"$1"' ] && [ "$(zl_repl 1 .state)" = in-sync ]' ||
    fail "the standby holds $(zl_sessions 2) of $1 sessions (replication $(zl_repl 1 .state))"
  ok "$1 calls up; the standby holds them all ($(zl_repl 1 .acked_seq) records acknowledged)"
}

# zl_fail_active METHOD: fails node1 (the active) by crash, kill, linkdown or failover and
# waits (bounded) until node2 is active.
zl_fail_active() {
  case $1 in
  kill) kill -KILL "$PAIR_PID1" ;;
  crash) kill -STOP "$PAIR_PID1" ;;
  linkdown) lab_exec node1 ip link set eth0 down ;;
  failover) pair_ctl 1 -t 10000 failover >"$LAB_DIR/failover.out" 2>&1 ||
              fail "rmhactl failover: $(cat "$LAB_DIR/failover.out")" ;;
  *) fail "unknown failure method $1" ;;
  esac
  pair_wait 2 active 15000 || fail "member 2 did not become active after $1"
  [ "$1" = crash ] && kill -KILL "$PAIR_PID1"
  return 0
}

# zl_calls_end COUNT: waits (bounded) for the caller; every call must have ended with BYE/200.
zl_calls_end() {
  zl_wait_calls_done 30000 || fail "the caller did not finish: $(tail -c 2000 "$LAB_DIR/uac.log")"
  local good failed
  good=$(zl_csv "SuccessfulCall(C)")
  failed=$(zl_csv "FailedCall(C)")
  [ "$good" -eq "$1" ] && [ "$failed" -eq 0 ] ||
    fail "$good of $1 calls ended with BYE/200, $failed failed: $(tail -c 1500 "$LAB_DIR/uac.log")"
  ok "all $1 calls ended with BYE/200 through the new active"
  wait_until 5000 '[ "$(zl_sessions 2)" -eq 0 ]' ||
    fail "the new active still holds $(zl_sessions 2) sessions"
}

# zl_scenario METHOD [extra [cluster] lines...]: the whole zero-loss test for one method.
zl_scenario() {
  local method=$1 calls=20
  shift
  zl_pair_up "$@"
  wait_until 10000 roles_are active standby || fail "no active/standby pair"
  zl_media_servers
  wait_until 5000 '[ "$(zl_repl 1 .state)" = in-sync ]' || fail "replication never in sync"
  zl_calls_up "$calls" 6000
  zl_fail_active "$method"
  [ "$(zl_sessions 2)" -eq "$calls" ] || fail "the new active holds $(zl_sessions 2) sessions"
  ok "$method: member 2 active with the $calls calls"
  zl_calls_end "$calls"
}
