#!/usr/bin/env bash
# Fault matrix: memory pressure on the active while calls come and go through the VIP. The
# active's rmhad is moved into a memory cgroup of 256 MiB shared with stress-ng, whose two
# workers want 512 MiB between them for 10 s: the group lives at its limit (reclaim, and the
# kernel's OOM killer ending workers that stress-ng starts again); the rest of the machine
# does not feel it. rmhad locks its memory and runs its HA thread at SCHED_FIFO, so:
#   the active keeps serving (every call, placed during the pressure, ends with BYE/200),
#   nobody changes state (no false takeover), one VIP owner, rmhad is not killed,
#   and both nodes still report each other alive.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/zero_loss.sh"
# A wider dead interval than the other fault tests: the stress workers' reclaim adds seconds
# of kernel time on a 2-core machine already loaded by the suite, and one run there at a
# load of 26 saw both nodes stalled for ~200 ms (the standby's own claim took 190 ms). What
# this test asserts is that memory pressure itself causes no takeover.
PAIR_DEAD_MS=${PAIR_DEAD_MS:-500}
source "$RMHA_SOURCE/tests/integration/lib/faults.sh"

CALLS=200 # 20 calls/s for 10 s, each held 1 s

zl_pair_up
wait_until 10000 roles_are active standby || fail "no active/standby pair"
zl_media_servers
wait_until 5000 '[ "$(zl_repl 1 .state)" = in-sync ]' || fail "replication never in sync"
changes1=$(fl_changes 1)
changes2=$(fl_changes 2)
# The promise rests on locked memory. Sanitizer builds do not lock it (configuration.md,
# lock-memory): their HA thread stalls in reclaim, takeovers are then false and calls set up
# meanwhile may be lost. Skipped there (exit 77: ctest's SKIP_RETURN_CODE).
if [ "$(awk '$1 == "VmLck:" { print $2 }' "/proc/$PAIR_PID1/status")" -eq 0 ]; then
  echo "skip $TEST_NAME: rmhad runs with unlocked memory (a sanitizer build, or no CAP_IPC_LOCK)"
  exit 77
fi

lab_memcg active $((256 << 20)) || fail "no memory cgroup can be made here (cgroup v1 memory or v2 memory.max)"
cg=$LAB_LAST_CGROUP
echo "$PAIR_PID1" >"$cg/cgroup.procs" || fail "cannot move rmhad into $cg"
# stress-ng starts stopped, is moved into the group (the namespace's /sys has no cgroups),
# and only then runs, so that every worker it forks is in the group.
lab_spawn node1 "$LAB_DIR/stress.log" sh -c 'kill -STOP $$; exec stress-ng --vm 2 --vm-bytes 512M --vm-keep --timeout 10s'
stress=$LAB_LAST_PID
wait_until 5000 '[ "$(awk "{ print \$3 }" /proc/$stress/stat)" = T ]' || fail "stress-ng did not wait to be moved"
echo "$stress" >"$cg/cgroup.procs" || fail "cannot move stress-ng into $cg"
kill -CONT "$stress"
zl_calls "$CALLS" 20 1000
timeout 30 tail --pid="$stress" -f /dev/null || fail "stress-ng did not end"

if [ -f "$cg/memory.failcnt" ]; then
  hits=$(cat "$cg/memory.failcnt")
  kills=$(awk '$1 == "oom_kill" { print $2 }' "$cg/memory.oom_control")
else
  hits=$(awk '$1 == "max" { print $2 }' "$cg/memory.events")
  kills=$(awk '$1 == "oom_kill" { print $2 }' "$cg/memory.events")
fi
[ "${hits:-0}" -gt 0 ] || fail "the cgroup never reached its limit: no pressure was applied"
ok "10 s at the cgroup's limit: ${hits} allocations refused, ${kills:-0} stress workers ended by the OOM killer"

kill -0 "$PAIR_PID1" 2>/dev/null && [ "$(fl_field 1 .pid)" = "$PAIR_PID1" ] ||
  fail "member 1's rmhad did not survive the pressure"
fl_only_owner 1 || fail "after the pressure: owners '$(fl_owners)', roles $(pair_role 1)/$(pair_role 2)"
[ "$(fl_field 1 .peer.alive)/$(fl_field 2 .peer.alive)" = true/true ] ||
  fail "peer alive $(fl_field 1 .peer.alive)/$(fl_field 2 .peer.alive)"
[ "$(fl_changes 1)/$(fl_changes 2)" = "$changes1/$changes2" ] ||
  fail "a node changed state: member 1: $(fl_reasons 1 | tail -n 2); member 2: $(fl_reasons 2 | tail -n 2)"
ok "no state change on either node; member 1 the only owner; both hear each other"

fl_calls_ok "$CALLS"
