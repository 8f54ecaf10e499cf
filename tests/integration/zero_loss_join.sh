#!/usr/bin/env bash
# A standby started after calls exist receives them all by bulk copy, then the stream; after
# a SIGKILL of the active every call ends with BYE/200 through it.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/zero_loss.sh"

CALLS=30
zl_sip_lines
lab_init
pair_topology
for m in 1 2; do
  lab_exec "node$m" sysctl -qw net.ipv4.ip_nonlocal_bind=1
  pair_config "$m" "${ZL_LINES[@]}"
done
pair_start 1
pair_wait 1 active 10000 || fail "member 1 alone did not become active"
zl_media_servers
zl_calls "$CALLS" 50 8000
wait_until 5000 '[ "$(zl_sessions 1)" -eq "$CALLS" ]' || fail "the active holds $(zl_sessions 1) of $CALLS sessions"
[ "$(zl_repl 1 .state)" = disconnected ] || fail "replication is $(zl_repl 1 .state) without a peer"
ok "$CALLS calls up on member 1 alone"

pair_start 2
wait_until 5000 '[ "$(zl_sessions 2)" -eq "$CALLS" ] && [ "$(zl_repl 1 .state)" = in-sync ]' ||
  fail "the joining standby holds $(zl_sessions 2) of $CALLS sessions"
[ "$(zl_repl 2 .counters.bulk_syncs_received)" -ge 1 ] || fail "no bulk copy received"
[ "$(zl_repl 1 .bulk.last_sessions)" -eq "$CALLS" ] || fail "the bulk copy carried $(zl_repl 1 .bulk.last_sessions) sessions"
ok "the joining standby received all $CALLS sessions by bulk copy"

kill -KILL "$PAIR_PID1"
pair_wait 2 active 10000 || fail "member 2 did not become active"
zl_calls_end "$CALLS"
