#!/usr/bin/env bash
# Fault matrix: the active's service NIC flaps at 10 Hz for 10 s (its switch port goes down
# and up every 50 ms: a loose cable), with calls up through the VIP. A link going down is
# acted on at once; a link coming back counts only after it has stayed up for 500 ms (the
# up hold-down), so the role moves once and does not flap:
#   member 1: active -> fault on the first down, fault -> standby once the flapping stops,
#             never active again;
#   member 2: standby -> active once, and stays active (no preempt);
# exactly one VIP owner during and after, every call ends with BYE/200 through member 2.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/zero_loss.sh"
source "$RMHA_SOURCE/tests/integration/lib/faults.sh"

CALLS=10

zl_pair_up "monitor-nics = eth0"
wait_until 10000 roles_are active standby || fail "no active/standby pair"
zl_media_servers
zl_calls_up "$CALLS" 15000
changes1=$(fl_changes 1)
changes2=$(fl_changes 2)
claims1=$(fl_claims 1)

# The injection is timed by design: half-periods of 50 ms on an absolute schedule (an `ip`
# command takes a few ms), for 10 s.
# On a loaded machine a command may come late: an "up" that lasted 500 ms or more (the up
# hold-down) lets member 1 count as fit again for a while, which is right; such ups (at most
# 450 ms or more, measured from the up command's start to the next down command's end) are
# counted and allowed for below.
port=$(lab_port node1 eth0)
start=$(lab_now_us)
flips=0
long_ups=0
up_at=0
while [ $((flips * 50000)) -lt 10000000 ]; do
  # An up lasts at most from the start of its command to the end of the next down's: a
  # command itself may take long on a busy machine.
  if [ $((flips % 2)) -eq 0 ]; then
    ip -n "$LAB_PREFIX-svc" link set "$port" down
    [ "$up_at" -gt 0 ] && [ $(($(lab_now_us) - up_at)) -ge 450000 ] && long_ups=$((long_ups + 1))
  else
    up_at=$(lab_now_us)
    ip -n "$LAB_PREFIX-svc" link set "$port" up
  fi
  flips=$((flips + 1))
  wait_us=$((start + flips * 50000 - $(lab_now_us)))
  [ "$wait_us" -gt 0 ] && sleep "$(printf '0.%06d' "$wait_us")"
done
ip -n "$LAB_PREFIX-svc" link set "$port" up
ok "$((flips / 2)) down/up cycles in $(( ($(lab_now_us) - start) / 1000 )) ms ($long_ups ups of 450 ms or more: the machine was busy)"

# During the flapping member 2 took over (the hold-down keeps member 1 unfit).
[ "$(pair_role 2)" = active ] || fail "member 2 is $(pair_role 2) right after the flapping"

# After it: member 1 fit again and standby, member 2 the only owner. The role moved once:
# member 2 claimed once, member 1 never came back; member 1 went active -> fault ->
# standby (plus standby -> fault -> standby for each long up of a busy machine).
wait_until 10000 'fl_only_owner 2 && [ "$(fl_field 1 .fit)" = true ]' ||
  fail "after the flapping: owners '$(fl_owners)', roles $(pair_role 1)/$(pair_role 2), fit $(fl_field 1 .fit)"
moves1=$(( $(fl_changes 1) - changes1 ))
moves2=$(( $(fl_changes 2) - changes2 ))
[ "$moves2" -eq 2 ] || fail "member 2 changed state $moves2 times (want standby -> taking-over -> active): $(fl_reasons 2 | tail -n "$moves2")"
[ "$(fl_claims 1)" -eq "$claims1" ] || fail "member 1 became active again: $(fl_reasons 1 | tail -n "$moves1")"
[ "$moves1" -ge 2 ] && [ "$moves1" -le $((2 + 2 * long_ups)) ] ||
  fail "member 1 changed state $moves1 times (want 2, plus 2 per long up: $long_ups): $(fl_reasons 1 | tail -n "$moves1")"
fl_reasons 1 | tail -n "$moves1" | head -n 1 | grep -q "active -> fault: unfit: nic eth0 down" ||
  fail "member 1 did not leave on its NIC: $(fl_reasons 1 | tail -n "$moves1")"
[ "$(fl_field 1 '.nics[0].healthy')/$(fl_field 1 .fit_reason)" = "true/nic eth0 up (admin up, lower layer up)" ] ||
  fail "member 1's status: $(fl_field 1 '{fit, fit_reason, nics}')"
[ "$(fl_field 2 .peer.role)/$(fl_field 2 .peer.fit)" = standby/true ] ||
  fail "member 2 sees its peer as $(fl_field 2 .peer)"
ok "the role moved once: member 2 active, member 1 standby and fit again"

fl_calls_ok "$CALLS"
wait_until 5000 '[ "$(zl_sessions 2)" -eq 0 ]' || fail "member 2 still holds $(zl_sessions 2) sessions"
