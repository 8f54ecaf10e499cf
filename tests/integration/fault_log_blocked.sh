#!/usr/bin/env bash
# Fault matrix: the active's log output blocked for 60 s (its stderr is a pipe whose reader is
# stopped, like a stuck journal or a paused `| less`), with calls up. Asserts: no false
# takeover (the standby stays standby, its transition count unchanged), the active answers
# `rmhactl status` throughout and counts the dropped lines, SIGHUP and SIGWINCH delivered while
# the output is blocked do not kill it, no call is lost, and once the reader resumes the log
# goes on with a LOG_LINES_DROPPED notice. Last, a stop with the output blocked again ends in
# bounded time.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/zero_loss.sh"

BLOCK_S=${FAULT_LOG_BLOCK_S:-60}
CALLS=20

# junk COUNT: COUNT datagrams that are not SIP, sent to the VIP: each one is a debug line
# ("dropped malformed message") on the active's SIP thread.
junk() {
  lab_exec client bash -c 'for ((i = 0; i < $1; i++)); do
    printf "not sip %d\r\n\r\n" "$i" >/dev/udp/'"$PAIR_VIP"'/5060; done' junk "$1"
}
log_counter() { status_field 1 ".counters.log.$1"; }

PAIR_LOG_PIPE=1
# The blocked write the fault used to cause lasted the whole 60 s: any dead interval below that
# catches it. 250 ms (not the 25 ms default) keeps whole-VM stalls of a loaded CI host, which
# the false-failover work deals with, from reading as a false takeover here.
PAIR_DEAD_MS=${PAIR_DEAD_MS:-250}
zl_pair_up "[log]" "level = debug"
wait_until 10000 roles_are active standby || fail "no active/standby pair"
zl_media_servers
wait_until 5000 '[ "$(zl_repl 1 .state)" = in-sync ]' || fail "replication never in sync"
# Held past the block: the calls must survive it (BYE after the reader resumed).
zl_calls "$CALLS" 50 $(( (BLOCK_S + 4) * 1000 ))
wait_until 5000 '[ "$(zl_sessions 1)" -eq '"$CALLS"' ] && [ "$(zl_sessions 2)" -eq '"$CALLS"' ]' ||
  fail "calls not up: active $(zl_sessions 1), standby $(zl_sessions 2) of $CALLS"
ok "$CALLS calls up through member 1, replicated to member 2"

standby_transitions=$(status_field 2 .counters.transitions)
kill -STOP "$PAIR_READER_PID1"
block_start=$SECONDS
# Far more lines than the pipe (64 KiB) and the ring (512 lines) hold.
junk 3000
wait_until 10000 '[ "$(log_counter dropped)" -gt 0 ]' ||
  fail "no dropped lines counted while the output is blocked: $(status_field 1 .counters.log)"
ok "output blocked: member 1 answers status and counts $(log_counter dropped) dropped lines"

# Signals that interrupt a blocked write(2): a reload request and a harmless one.
for sig in HUP WINCH HUP; do
  kill -"$sig" "$PAIR_PID1"
done
while [ $((SECONDS - block_start)) -lt "$BLOCK_S" ]; do
  kill -0 "$PAIR_PID1" 2>/dev/null || fail "member 1 died while its log output was blocked"
  [ "$(pair_role 1)" = active ] || fail "member 1 is $(pair_role 1) while its output is blocked"
  [ "$(pair_role 2)" = standby ] || fail "false takeover: member 2 is $(pair_role 2)"
  [ "$(zl_sessions 1)" -eq "$CALLS" ] || fail "member 1 holds $(zl_sessions 1) of $CALLS calls"
  sleep 1 # the length of the fault, not a wait for an event
done
[ "$(status_field 2 .counters.transitions)" -eq "$standby_transitions" ] ||
  fail "member 2 changed state during the block: $(status_field 2 .transitions)"
dropped=$(log_counter dropped)
ok "${BLOCK_S} s blocked: member 1 active and answering, member 2 standby throughout, $dropped lines dropped"

kill -CONT "$PAIR_READER_PID1"
wait_until 10000 'grep -q "LOG_LINES_DROPPED" "$LAB_DIR/node1.log"' ||
  fail "no LOG_LINES_DROPPED notice after the reader resumed"
# The log goes on after the notice: a reload's answer is the next line.
kill -HUP "$PAIR_PID1"
wait_until 10000 'sed -n "/LOG_LINES_DROPPED/,\$p" "$LAB_DIR/node1.log" | grep -q "SIGHUP reload"' ||
  fail "nothing logged after the notice"
[ "$(log_counter write_errors)" -eq 0 ] || fail "write errors: $(status_field 1 .counters.log)"
ok "reader resumed: $(grep -o 'LOG_LINES_DROPPED [0-9]* log lines dropped' "$LAB_DIR/node1.log" | head -1), then the log goes on"

zl_wait_calls_done 30000 || fail "the caller did not finish: $(tail -c 2000 "$LAB_DIR/uac.log")"
good=$(zl_csv "SuccessfulCall(C)")
failed=$(zl_csv "FailedCall(C)")
[ "$good" -eq "$CALLS" ] && [ "$failed" -eq 0 ] ||
  fail "$good of $CALLS calls ended with BYE/200, $failed failed: $(tail -c 1500 "$LAB_DIR/uac.log")"
ok "all $CALLS calls ended with BYE/200 through member 1"

# Stopping with the output blocked again: the queued lines get a bounded time, then rmhad ends.
kill -STOP "$PAIR_READER_PID1"
junk 3000
wait_until 10000 '[ "$(log_counter dropped)" -gt "$dropped" ]' || fail "no drops the second time"
kill -TERM "$PAIR_PID1"
timeout 10 tail --pid="$PAIR_PID1" -f /dev/null || fail "rmhad did not exit with its output blocked"
ok "SIGTERM with the output blocked: rmhad exited"
