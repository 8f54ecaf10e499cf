#!/usr/bin/env bash
# Fault matrix: SIGSTOP of the active for 2 s, then SIGCONT, with SIP calls up. The standby
# takes over once the frozen node's MAC has had its one more heartbeat window (its kernel
# still answers the probe); the thawed node notices it was stalled itself instead of blaming
# its peer; afterwards exactly one node is active and owns the VIP, and every call ends with
# BYE/200.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"
source "$RMHA_SOURCE/scripts/lib/bench.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/zero_loss.sh"

calls=20
zl_pair_up
wait_until 10000 roles_are active standby || fail "no active/standby pair"
zl_media_servers
wait_until 5000 '[ "$(zl_repl 1 .state)" = in-sync ]' || fail "replication never in sync"
bench_seed_client
zl_calls_up "$calls" 8000

stopped_us=$(lab_now_us)
kill -STOP "$PAIR_PID1"
pair_wait 2 active 10000 || fail "member 2 did not take over from the frozen active"
grep -q "answered the probe for the VIP" "$LAB_DIR/node2.log" ||
  fail "the frozen node's MAC did not hold the claim for one more window"
bench_wait_client_neigh "$BENCH_MAC2" 5000 || fail "the client still sends to $(bench_client_neigh)"
ok "frozen active: member 2 active and the VIP's owner for the client"

# The fault lasts 2 s (a duration, not a wait for an event).
left_us=$(( stopped_us + 2000000 - $(lab_now_us) ))
[ "$left_us" -gt 0 ] && sleep "$(printf '%d.%06d' $((left_us / 1000000)) $((left_us % 1000000)))"
kill -CONT "$PAIR_PID1"

one_owner() {
  local a b owners=0
  a=$(pair_role 1)
  b=$(pair_role 2)
  { [ "$a" = active ] && [ "$b" = standby ]; } || { [ "$a" = standby ] && [ "$b" = active ]; } ||
    return 1
  bench_vip_on 1 && owners=$((owners + 1))
  bench_vip_on 2 && owners=$((owners + 1))
  [ "$owners" -eq 1 ]
}
wait_until 10000 one_owner || fail "after SIGCONT: $(pair_role 1)/$(pair_role 2)"
wait_until 2000 '[ "$(status_field 1 .peer.alive)" = true ] && [ "$(status_field 2 .peer.alive)" = true ]' ||
  fail "the nodes do not hear each other after SIGCONT"
one_owner || fail "not stable: $(pair_role 1)/$(pair_role 2)"
[ "$(status_field 1 .counters.stalls)" -ge 1 ] || fail "member 1 did not notice its own stall"
grep -q "HA_SELF_STALLED this node was stalled for" "$LAB_DIR/node1.log" ||
  fail "member 1 did not log its stall"
owner=1
bench_vip_on 2 && owner=2
bench_wait_client_neigh "$(bench_mac "$owner")" 5000 ||
  fail "the client sends to $(bench_client_neigh), the VIP is on member $owner"
ok "after SIGCONT: exactly one active (member $owner), one VIP owner; member 1 logged its stall"

zl_wait_calls_done 30000 || fail "the caller did not finish: $(tail -c 2000 "$LAB_DIR/uac.log")"
good=$(zl_csv "SuccessfulCall(C)")
failed=$(zl_csv "FailedCall(C)")
[ "$good" -eq "$calls" ] && [ "$failed" -eq 0 ] ||
  fail "$good of $calls calls ended with BYE/200, $failed failed: $(tail -c 1500 "$LAB_DIR/uac.log")"
ok "all $calls calls ended with BYE/200"
