#!/usr/bin/env bash
# A claim that fails at run time: member 1 passed its self-test and is a fit standby; its VIP
# interface is then renamed (what a re-created or renamed NIC does), and the operator fails
# member 2 over to it. Member 1's claim fails (No such device): it goes fault with the reason
# and tells member 2 at once, which takes the VIP back without waiting for a dead interval;
# member 1 claims once only; after its back-off it retests, stays unfit while the interface
# is missing, and is a standby (not a claimant) once it is back. One VIP owner throughout.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/unfit.sh"

unfit_claim_setup
unfit_claim_inject
rc=0
out=$(pair_ctl 2 failover 2>&1) || rc=$?
ok "failover to member 1 (exit $rc): $out"
wait_until 5000 '[ "$(pair_role 1)" = fault ]' || fail "member 1 is $(pair_role 1), not fault"
wait_until 5000 '[ "$(pair_role 2)" = active ] && vip_on 2' || fail "member 2 did not take the VIP back"
# The transition says why (fit_reason may already show the retest's finding on a slow run).
fault_reason=$(status_field 1 '[.transitions[] | select(.to == "fault")] | last | .reason')
[[ "$fault_reason" == *"No such device"* ]] || fail "member 1's fault does not say why: $fault_reason"
ok "member 1 fault ($fault_reason); member 2 took the VIP back"
claims=$(taking_overs 1)

# The back-off ends (1 s): a self-test, which fails while the interface is missing.
wait_until 5000 '[[ "$(status_field 1 .fit_reason)" == *"does not exist"* ]]' ||
  fail "member 1 did not retest: $(status_field 1 .fit_reason)"
lab_exec node1 ip link set eth0x name eth0
# The next retest (2 s later) passes: a standby, not a claim, while member 2 serves.
wait_until 8000 '[ "$(pair_role 1)" = standby ]' || fail "member 1 is $(pair_role 1) after the interface came back"
[ "$(taking_overs 1)" = "$claims" ] || fail "member 1 claimed again: $(taking_overs 1) taking-over transitions"
[ "$(pair_role 2)" = active ] && vip_on 2 || fail "member 2 is not the owner at the end"
[ "$(vip_owners)" = 1 ] || fail "$(vip_owners) VIP owners at the end"
ok "member 1 standby again after one failed claim; exactly one VIP owner (member 2)"
