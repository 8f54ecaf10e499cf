#!/usr/bin/env bash
# Fault matrix: the wall clock steps forward by an hour and back, with SIP calls up. Only
# monotonic time counts for heartbeats and deadlines: no node fails over, no node thinks it
# was stalled, every call ends with BYE/200.
#
# CLOCK_REALTIME is global to the machine (time namespaces offset only MONOTONIC and
# BOOTTIME), so the step is real: it is kept short (300 ms forward) and undone on every exit
# path by the EXIT trap, which subtracts exactly what was added.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/zero_loss.sh"

STEPPED_S=0
# clock_step SECONDS: moves the wall clock by SECONDS (sign included), keeping the µs.
clock_step() {
  local now=$EPOCHREALTIME
  date -s "@$(( ${now%.*} + $1 )).${now#*.}" >/dev/null
}
clock_restore() {
  if [ "$STEPPED_S" -ne 0 ]; then
    clock_step $(( -STEPPED_S )) && STEPPED_S=0
  fi
}

calls=20
zl_pair_up
trap 'clock_restore; lab_down' EXIT
wait_until 10000 roles_are active standby || fail "no active/standby pair"
zl_media_servers
wait_until 5000 '[ "$(zl_repl 1 .state)" = in-sync ]' || fail "replication never in sync"
zl_calls_up "$calls" 6000
t1=$(status_field 1 .counters.transitions)
t2=$(status_field 2 .counters.transitions)

clock_step 3600 && STEPPED_S=3600
sleep 0.3  # the fault's duration: both nodes run 30 heartbeats an hour ahead
clock_restore
[ "$STEPPED_S" -eq 0 ] || fail "the wall clock could not be stepped back; it is $(date -u)"
ok "wall clock stepped forward by an hour and back"

zl_wait_calls_done 30000 || fail "the caller did not finish: $(tail -c 2000 "$LAB_DIR/uac.log")"
good=$(zl_csv "SuccessfulCall(C)")
failed=$(zl_csv "FailedCall(C)")
[ "$good" -eq "$calls" ] && [ "$failed" -eq 0 ] ||
  fail "$good of $calls calls ended with BYE/200, $failed failed: $(tail -c 1500 "$LAB_DIR/uac.log")"
ok "all $calls calls ended with BYE/200"
roles_are active standby || fail "roles now $(pair_role 1)/$(pair_role 2)"
[ "$(status_field 1 .counters.transitions)" -eq "$t1" ] &&
  [ "$(status_field 2 .counters.transitions)" -eq "$t2" ] ||
  fail "a node changed role: $(grep -h HA_STATE_TRANSITION "$LAB_DIR"/node*.log | tail -n 4)"
# Had the wall clock leaked into the stall detector, the step would show as a stall of an
# hour or of the 300 ms it lasted. A shorter stall is the machine's own (a descheduled vCPU on
# a loaded CI host, 98 ms once under ASan) and is what the detector is for: not this fault.
for m in 1 2; do
  worst=$(status_field "$m" .counters.worst_stall_ms)
  awk -v w="$worst" 'BEGIN { exit !(w < 250) }' ||
    fail "member $m counted the wall-clock step as a stall of its own ($worst ms)"
  [ "$(status_field "$m" .counters.stalls)" -eq 0 ] ||
    echo "note: member $m saw a stall of its own of $worst ms (not the step)"
  [ "$(status_field "$m" .peer.alive)" = true ] || fail "member $m does not hear its peer"
done
ok "no failover, the step counted as no stall: only monotonic time counts"
