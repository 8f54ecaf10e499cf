#!/usr/bin/env bash
# Zero call loss, SIGKILL of the active rmhad: calls established through the VIP are in the
# standby's session table before the kill (replication), and every one of them ends with
# BYE/200 through the new active.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/zero_loss.sh"

CALLS=20
zl_pair_up "dead-interval = 20000" "handover-timeout = 20000"
wait_until 10000 roles_are active standby || fail "no active/standby pair"
zl_media_servers
wait_until 5000 '[ "$(zl_repl 1 .state)" = in-sync ]' || fail "replication never in sync"
ok "replication in sync before the calls"

# Calls held 6 s: all are established long before the kill and end after it.
zl_calls "$CALLS" 50 6000
wait_until 5000 '[ "$(zl_sessions 1)" -eq "$CALLS" ]' || fail "the active never held $CALLS sessions"
wait_until 5000 '[ "$(zl_sessions 2)" -eq "$CALLS" ] && [ "$(zl_repl 1 .state)" = in-sync ]' ||
  fail "the standby holds $(zl_sessions 2) of $CALLS sessions"
ok "the standby holds all $CALLS sessions ($(zl_repl 1 .acked_seq) records acknowledged)"

kill -KILL "$PAIR_PID1"
pair_wait 2 active 10000 || fail "member 2 did not become active"
[ "$(zl_sessions 2)" -eq "$CALLS" ] || fail "the new active holds $(zl_sessions 2) sessions"
ok "member 2 active with the $CALLS calls"

zl_wait_calls_done 30000 || fail "the caller did not finish: $(tail -c 2000 "$LAB_DIR/uac.log")"
ok_calls=$(zl_csv "SuccessfulCall(C)")
failed=$(zl_csv "FailedCall(C)")
[ "$ok_calls" -eq "$CALLS" ] && [ "$failed" -eq 0 ] ||
  fail "$ok_calls of $CALLS calls ended with BYE/200, $failed failed; $(tail -5 "$LAB_DIR/uac.log")"
ok "all $CALLS calls ended with BYE/200 through the new active"
wait_until 5000 '[ "$(zl_sessions 2)" -eq 0 ]' || fail "the new active still holds $(zl_sessions 2) sessions"
ok "the new active's session table is empty after the BYEs"
