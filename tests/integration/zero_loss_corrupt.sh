#!/usr/bin/env bash
# A corrupted replication record (the active sends its 5th payload damaged, behind a valid
# MAC) is refused by the standby with a clear log line and counted; the standby asks for a
# resync, gets a bulk copy and holds every call; nothing crashes; after a SIGKILL of the
# active every call ends with BYE/200.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/zero_loss.sh"

CALLS=20
zl_sip_lines
lab_init
pair_topology
for m in 1 2; do
  lab_exec "node$m" sysctl -qw net.ipv4.ip_nonlocal_bind=1
  pair_config "$m" "${ZL_LINES[@]}"
done
pair_start 1 --test-hook corrupt-replication=5
pair_start 2
wait_until 10000 roles_are active standby || fail "no active/standby pair"
zl_media_servers
zl_calls_up "$CALLS" 8000
[ "$(zl_repl 2 .counters.records_refused)" -ge 1 ] || fail "the standby refused no record"
grep -q "REPLICATION_RECORD_REFUSED" "$LAB_DIR/node2.log" || fail "no REPLICATION_RECORD_REFUSED log line"
[ "$(zl_repl 1 .counters.resyncs_answered)" -ge 1 ] || fail "the active answered no resync"
kill -0 "$PAIR_PID1" && kill -0 "$PAIR_PID2" || fail "a daemon died"
ok "corrupted record refused ($(grep -m1 -o 'REPLICATION_RECORD_REFUSED.*' "$LAB_DIR/node2.log")), resynced"

kill -KILL "$PAIR_PID1"
pair_wait 2 active 10000 || fail "member 2 did not become active"
zl_calls_end "$CALLS"
