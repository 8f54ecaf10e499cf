#!/usr/bin/env bash
# An unfit node in the pair (tests/integration/fault_unfit_*.sh, scripts/bench-unfit): member 1,
# the one the election would pick, cannot claim; member 2 must own the VIP and keep it.
# Source check.sh first.

# The setpriv that starts rmhad without CAP_NET_ADMIN and CAP_NET_RAW (as root otherwise).
UNFIT_NOCAPS="setpriv --bounding-set=-net_admin,-net_raw --inh-caps=-net_admin,-net_raw --"

# (The address list is read whole before matching: with pipefail, grep -q ending the pipe
# early would make ip's SIGPIPE the pipeline's status.)
vip_on() { [[ "$(lab_exec "node$1" ip -4 -o addr show dev "${2:-eth0}" 2>/dev/null)" == *" $PAIR_VIP/"* ]]; }

# vip_owners: how many nodes hold the VIP (on any interface).
vip_owners() {
  local n=0 m
  for m in 1 2; do
    if [[ "$(lab_exec "node$m" ip -4 -o addr show 2>/dev/null)" == *" $PAIR_VIP/"* ]]; then
      n=$((n + 1))
    fi
  done
  echo "$n"
}

# taking_overs MEMBER: how many times the node went into taking-over (its transition history).
taking_overs() { status_field "$1" '[.transitions[] | select(.to == "taking-over")] | length'; }

# last_us MEMBER ROLE: wall-clock µs of the node's last transition into ROLE (0 if none).
last_us() { status_field "$1" "[.transitions[] | select(.to == \"$2\")] | last | .time_us // 0"; }

# unfit_start KIND: the pair with member 1 unfit from the start; KIND is `interface` (a typo
# in vip-interface) or `caps` (no CAP_NET_ADMIN / CAP_NET_RAW). Member 1 starts first, so it
# is there, unfit, when member 2 elects.
unfit_start() {
  lab_init
  pair_topology
  pair_config 1
  pair_config 2
  if [ "$1" = interface ]; then
    sed -i 's/^vip-interface = eth0$/vip-interface = eth9/' "$LAB_DIR/node1.conf"
    pair_start 1
  else
    PAIR_WRAP=$UNFIT_NOCAPS pair_start 1
  fi
  pair_start 2
}

# unfit_assert KIND: what the operator must see and what must not happen.
unfit_assert() {
  local want=$1 out rc
  wait_until 10000 '[ "$(pair_role 2)" = active ]' || fail "member 2 never became active"
  wait_until 5000 vip_on 2 || fail "member 2 is active but does not hold the VIP"
  [ "$(pair_role 1)" = fault ] || fail "member 1 is $(pair_role 1), not fault"
  [ "$(status_field 1 .fit)" = false ] || fail "member 1 says it is fit"
  [[ "$(status_field 1 .fit_reason)" == *"$want"* ]] ||
    fail "member 1's fit_reason does not say '$want': $(status_field 1 .fit_reason)"
  wait_until 5000 '[ "$(status_field 2 .peer.fit)" = false ]' || fail "member 2 sees member 1 fit"
  ok "member 2 owns the VIP; member 1 is fault: $(status_field 1 .fit_reason)"
  rc=0
  out=$(pair_ctl 2 failover 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "rmhactl failover towards the unfit member 1 succeeded: $out"
  [[ "$out" == *"peer unfit"* ]] || fail "the refusal does not name the peer's state: $out"
  [ "$(pair_role 2)" = active ] && vip_on 2 || fail "member 2 let go after the refused failover"
  ok "failover towards member 1 refused (exit $rc): $out"
  rc=0
  out=$(pair_ctl 1 takeover 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "rmhactl takeover on the unfit member 1 succeeded: $out"
  [ "$(taking_overs 1)" = 0 ] || fail "member 1 tried to claim $(taking_overs 1) time(s)"
  ok "takeover on member 1 refused (exit $rc): $out"
  [ "$(vip_owners)" = 1 ] || fail "$(vip_owners) VIP owners at the end"
  ok "exactly one VIP owner (member 2)"
}

# unfit_claim_setup: a healthy pair with member 2 active, member 1 a fit standby.
unfit_claim_setup() {
  pair_up
  wait_until 10000 roles_are active standby || fail "no active/standby pair"
  wait_until 5000 '[ "$(status_field 1 .peer.role)" = standby ]' || fail "member 1 does not see a standby"
  pair_ctl 1 failover >/dev/null || fail "the first failover failed"
  wait_until 5000 roles_are standby active || fail "after failover: $(pair_role 1)/$(pair_role 2)"
  wait_until 5000 '[ "$(status_field 2 .peer.role)" = standby ] && [ "$(status_field 2 .peer.fit)" = true ]' ||
    fail "member 2 does not see a fit standby"
}

# unfit_claim_inject: member 1's VIP interface disappears under its name (renamed; its
# addresses and the heartbeat path on eth1 stay). Its self-test ran at start: it still says fit.
unfit_claim_inject() {
  lab_exec node1 ip link set eth0 down
  lab_exec node1 ip link set eth0 name eth0x
  lab_exec node1 ip link set eth0x up
}
