#!/usr/bin/env bash
# A claim that fails at run time, with calls up: 20 calls through member 1 (active), replicated
# to member 2; member 2's VIP interface is renamed under it (its self-test passed at start);
# the operator fails member 1 over to member 2, whose claim fails. Member 1 takes the VIP back
# at once and every call ends with BYE/200 through it; member 2 is fault with the reason and
# claimed once; exactly one VIP owner.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/zero_loss.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/unfit.sh"

calls=20
zl_pair_up
wait_until 10000 roles_are active standby || fail "no active/standby pair"
zl_media_servers
wait_until 5000 '[ "$(zl_repl 1 .state)" = in-sync ]' || fail "replication never in sync"
zl_calls_up "$calls" 6000
lab_exec node2 ip link set eth0 down
lab_exec node2 ip link set eth0 name eth0x
lab_exec node2 ip link set eth0x up
rc=0
out=$(pair_ctl 1 -t 10000 failover 2>&1) || rc=$?
ok "failover to member 2 (exit $rc): $out"
wait_until 5000 '[ "$(pair_role 2)" = fault ]' || fail "member 2 is $(pair_role 2), not fault"
wait_until 5000 '[ "$(pair_role 1)" = active ] && vip_on 1' || fail "member 1 did not take the VIP back"
# The transition says why (fit_reason may already show the retest's finding on a slow run).
fault_reason=$(status_field 2 '[.transitions[] | select(.to == "fault")] | last | .reason')
[[ "$fault_reason" == *"No such device"* ]] || fail "member 2's fault does not say why: $fault_reason"
[ "$(taking_overs 2)" = 1 ] || fail "member 2 went taking-over $(taking_overs 2) times"
[ "$(zl_sessions 1)" -eq "$calls" ] || fail "member 1 holds $(zl_sessions 1) of $calls sessions"
ok "member 2 fault ($fault_reason); member 1 took the VIP back with the $calls calls"

zl_wait_calls_done 30000 || fail "the caller did not finish: $(tail -c 2000 "$LAB_DIR/uac.log")"
good=$(zl_csv "SuccessfulCall(C)")
failed=$(zl_csv "FailedCall(C)")
[ "$good" -eq "$calls" ] && [ "$failed" -eq 0 ] ||
  fail "$good of $calls calls ended with BYE/200, $failed failed: $(tail -c 1500 "$LAB_DIR/uac.log")"
ok "all $calls calls ended with BYE/200 through member 1: none lost"
[ "$(taking_overs 2)" = 1 ] || fail "member 2 claimed again: $(taking_overs 2) taking-over transitions"
[ "$(vip_owners)" = 1 ] && vip_on 1 || fail "$(vip_owners) VIP owners at the end"
ok "exactly one VIP owner (member 1); member 2 claimed once"
