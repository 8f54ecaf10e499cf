#!/usr/bin/env bash
# Fault matrix: the peer link cut one way, then both ways (split brain), then healed, with
# calls up through the VIP. The switches drop the nodes' IPv4 packets to each other on both
# heartbeat paths (ARP still passes, as through a firewall that blocks the peer link).
#  1. active -> standby cut: the standby hears nothing and may claim, but the active answers
#     its probe and wins the conflict: member 1 stays the only owner and never leaves active.
#  2. both ways: nothing more moves; both report the peer as not alive.
#  3. healed: both hear each other, the channel is up, replication in sync.
#  4. split brain from a healthy pair (both ways at once): one owner, member 1 again; healed.
#  5. standby -> active cut: nobody moves; the active reports the peer as not alive.
#  6. after a handover, the lower-ranked active (member 2) cut off one way: member 1 claims,
#     member 2 gives way; healed.
# Every call placed before the faults ends with BYE/200.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/zero_loss.sh"
source "$RMHA_SOURCE/tests/integration/lib/faults.sh"

CALLS=10

# healed_and_synced: both nodes hear each other over an open channel, the standby holds every
# call the active holds (calls that ended meanwhile are gone from both) and member 1 is the
# only owner.
healed_and_synced() {
  fl_only_owner 1 && [ "$(fl_field 1 .peer.alive)/$(fl_field 2 .peer.alive)" = true/true ] &&
    [ "$(fl_field 1 .peer.channel)/$(fl_field 2 .peer.channel)" = up/up ] &&
    [ "$(zl_repl 1 .state)" = in-sync ] && [ "$(zl_sessions 2)" -eq "$(zl_sessions 1)" ]
}

# not_healed WHEN: fails with what healed_and_synced found.
not_healed() {
  fail "$1: owners '$(fl_owners)', roles $(pair_role 1)/$(pair_role 2), peer alive $(fl_field 1 .peer.alive)/$(fl_field 2 .peer.alive), channel $(fl_field 1 .peer.channel)/$(fl_field 2 .peer.channel), replication $(zl_repl 1 .state), sessions $(zl_sessions 1)/$(zl_sessions 2)"
}

# member1_never_moved: the healthy active made no state change since the pair formed.
member1_never_moved() {
  [ "$(fl_changes 1)" -eq "$changes1" ] ||
    fail "member 1 (healthy, active) changed state: $(fl_reasons 1 | tail -n 3)"
}

zl_pair_up
wait_until 10000 roles_are active standby || fail "no active/standby pair"
zl_media_servers
# Held long enough to span every phase; each phase waits on conditions, so a slow run ends
# some calls mid-fault, which must not lose them either.
zl_calls "$CALLS" 50 15000
wait_until 5000 '[ "$(zl_sessions 2)" -eq $CALLS ] && [ "$(zl_repl 1 .state)" = in-sync ]' ||
  fail "the standby holds $(zl_sessions 2) of $CALLS calls"
changes1=$(fl_changes 1)
claims2=$(fl_claims 2)

# 1. One way: the active's packets to the standby are lost.
fl_cut 1 2
wait_until 5000 '[ "$(fl_field 2 .peer.alive)" = false ]' || fail "member 2 still hears member 1"
wait_until 5000 fl_only_owner 1 || fail "one-way cut: owners '$(fl_owners)', roles $(pair_role 1)/$(pair_role 2)"
[ "$(fl_field 1 .peer.alive)/$(fl_field 1 .peer.role)" = true/standby ] ||
  fail "member 1 should still hear a standby member 2: $(fl_field 1 .peer)"
[ "$(fl_claims 2)" -le $((claims2 + 1)) ] || fail "member 2 claimed again and again: $(fl_reasons 2 | tail -n 6)"
member1_never_moved
ok "one-way cut: member 1 the only owner; member 2 reports the peer lost, member 1 hears it"

# 2. Both ways: a partition.
fl_cut 2 1
wait_until 5000 '[ "$(fl_field 1 .peer.alive)" = false ]' || fail "member 1 still hears member 2"
fl_only_owner 1 || fail "partition: owners '$(fl_owners)', roles $(pair_role 1)/$(pair_role 2)"
member1_never_moved
ok "cut both ways: nothing moved; both report the peer as not alive"

# 3. Healed.
fl_heal
wait_until 10000 healed_and_synced || not_healed "after the heal"
member1_never_moved
ok "healed: both hear each other, channel up, replication in sync"

# 4. Split brain from a healthy pair: both directions at once.
claims2=$(fl_claims 2)
fl_cut 1 2
fl_cut 2 1
wait_until 5000 '[ "$(fl_field 1 .peer.alive)/$(fl_field 2 .peer.alive)" = false/false ]' ||
  fail "split brain: peer alive $(fl_field 1 .peer.alive)/$(fl_field 2 .peer.alive)"
wait_until 5000 fl_only_owner 1 || fail "split brain: owners '$(fl_owners)', roles $(pair_role 1)/$(pair_role 2)"
[ "$(fl_claims 2)" -le $((claims2 + 1)) ] || fail "member 2 claimed again and again: $(fl_reasons 2 | tail -n 6)"
member1_never_moved
ok "split brain: member 1 the only owner; both report the peer as not alive"
fl_heal
wait_until 10000 healed_and_synced || not_healed "after the split brain healed"
member1_never_moved
ok "split brain healed: one active, one owner, replication in sync"

# 5. One way the other way: the standby's packets to the active are lost.
changes2=$(fl_changes 2)
fl_cut 2 1
wait_until 5000 '[ "$(fl_field 1 .peer.alive)" = false ]' || fail "member 1 still hears member 2"
fl_only_owner 1 || fail "standby-to-active cut: owners '$(fl_owners)', roles $(pair_role 1)/$(pair_role 2)"
[ "$(fl_field 2 .peer.alive)/$(fl_field 2 .peer.role)" = true/active ] ||
  fail "member 2 should still hear an active member 1: $(fl_field 2 .peer)"
[ "$(fl_changes 2)" -eq "$changes2" ] || fail "member 2 changed state: $(fl_reasons 2 | tail -n 3)"
fl_heal
wait_until 10000 healed_and_synced || not_healed "after the last heal"
member1_never_moved
ok "standby-to-active cut: nobody moved; healed"

# 6. The active ranks lower: after a handover member 2 is active, and its packets to member 1
# are lost. Member 1 claims; member 2 still hears it and gives way: member 1 the only owner,
# with the calls (the rule is the rank, priority then member number, on both sides).
pair_ctl 1 -t 10000 failover >"$LAB_DIR/failover.out" 2>&1 || fail "rmhactl failover: $(cat "$LAB_DIR/failover.out")"
wait_until 5000 fl_only_owner 2 || fail "after the handover: owners '$(fl_owners)', roles $(pair_role 1)/$(pair_role 2)"
claims2=$(fl_claims 2)
fl_cut 2 1
wait_until 5000 '[ "$(fl_field 1 .peer.alive)" = false ]' || fail "member 1 still hears member 2"
wait_until 5000 fl_only_owner 1 || fail "lower-ranked active cut: owners '$(fl_owners)', roles $(pair_role 1)/$(pair_role 2)"
[ "$(fl_claims 2)" -eq "$claims2" ] || fail "member 2 claimed again: $(fl_reasons 2 | tail -n 3)"
fl_reasons 2 | tail -n 1 | grep -q "active -> standby: .*the peer wins" ||
  fail "member 2 did not give way to the higher rank: $(fl_reasons 2 | tail -n 2)"
fl_heal
wait_until 10000 healed_and_synced || not_healed "after the lower-ranked active's cut healed"
ok "lower-ranked active cut off: member 1 took over, member 2 gave way; healed"

fl_calls_ok "$CALLS"

# 7. Disabled (known defect, RMHA_KNOWN_DEFECTS=1 runs it): the one-way cut again, then the
# active really dies. Wanted: member 2 owns the VIP once member 1's has expired
# (vip-lifetime). Today member 2, having lost the conflict to a peer it cannot hear, never
# re-evaluates (nothing wakes its state machine: no heartbeat, no deadline) and stays standby
# until the link heals: nobody serves. The fix belongs with the engine's probe rules (a peer
# whose MAC answers the probe is alive; probe again while it is silent).
if [ "${RMHA_KNOWN_DEFECTS:-0}" = 1 ]; then
  fl_cut 1 2
  wait_until 5000 '[ "$(fl_field 2 .peer.alive)" = false ] && fl_only_owner 1' ||
    fail "one-way cut again: owners '$(fl_owners)', roles $(pair_role 1)/$(pair_role 2)"
  kill -KILL "$PAIR_PID1"
  wait_until 10000 '[ "$(fl_owners)" = 2 ] && [ "$(pair_role 2)" = active ]' ||
    fail "member 1 died during a one-way cut: owners '$(fl_owners)', member 2 $(pair_role 2)"
  ok "member 1 died during a one-way cut: member 2 took over"
fi
