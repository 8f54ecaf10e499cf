#!/usr/bin/env bash
# Fault matrix: the disk holding the active's run directory (its control socket) is full, no
# block and no inode left, with calls up through the VIP. rmhad writes nothing else at run
# time (it logs to stderr), so:
#  - the running active keeps serving, rmhactl still works, and a planned failover works;
#  - a restart into the full disk fails at once with the cause named (exit 1, "No space left
#    on device") and, tried again and again as a service manager would, disturbs nothing on
#    the peer, which stays active with every call;
#  - once space is freed the node starts and joins as standby.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/zero_loss.sh"
source "$RMHA_SOURCE/tests/integration/lib/faults.sh"

CALLS=10

# fill DIR: no block and no inode left on DIR's file system.
fill() {
  dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null || true
  local i=0
  while touch "$1/inode$i" 2>/dev/null; do i=$((i + 1)); done
  [ "$(df --output=iavail "$1" | tail -n 1)" -eq 0 ] || fail "$1 still has free inodes"
  [ "$(df --output=avail "$1" | tail -n 1)" -eq 0 ] || fail "$1 still has free blocks"
}

zl_sip_lines
lab_init
pair_topology
RUN="$LAB_DIR/run1"
lab_tmpfs "$RUN" 64k 16
for m in 1 2; do
  lab_exec "node$m" sysctl -qw net.ipv4.ip_nonlocal_bind=1
  pair_config "$m" "${ZL_LINES[@]}"
done
# Member 1's control socket lives on the small file system; pair_ctl finds it via a link.
sed -i "s|^socket = .*|socket = $RUN/rmhad.sock|" "$LAB_DIR/node1.conf"
ln -s "$RUN/rmhad.sock" "$LAB_DIR/node1.sock"
pair_start 1
pair_start 2
wait_until 10000 roles_are active standby || fail "no active/standby pair"
zl_media_servers
zl_calls_up "$CALLS" 40000 # outlasts the restarts below, however slow the machine

# 1. The disk fills up under the running active.
fill "$RUN"
[ "$(fl_field 1 .role)/$(fl_field 1 .serving)/$(fl_field 1 .sip.sessions)" = "active/true/$CALLS" ] ||
  fail "member 1 with a full run directory: $(fl_field 1 '{role, serving, sessions: .sip.sessions}')"
fl_only_owner 1 || fail "full disk: owners '$(fl_owners)', roles $(pair_role 1)/$(pair_role 2)"
ok "full run directory: member 1 still active, serving, rmhactl answers"

# 2. A planned restart: hand over, stop, and start again into the full disk.
pair_ctl 1 -t 10000 failover >"$LAB_DIR/failover.out" 2>&1 || fail "rmhactl failover: $(cat "$LAB_DIR/failover.out")"
wait_until 5000 fl_only_owner 2 || fail "after the failover: owners '$(fl_owners)', roles $(pair_role 1)/$(pair_role 2)"
kill -TERM "$PAIR_PID1"
timeout 10 tail --pid="$PAIR_PID1" -f /dev/null || fail "member 1 did not stop"
wait_until 5000 '[ "$(fl_field 2 .peer.alive)" = false ]' || fail "member 2 still hears the stopped member 1"
fill "$RUN" # the stopped daemon removed its socket: take that inode too
changes2=$(fl_changes 2)
ups2=$(fl_field 2 .counters.peer.channel_ups)
for attempt in 1 2 3; do
  rc=0
  timeout 10 ip netns exec "$LAB_PREFIX-node1" "$RMHA_BIN/rmhad" -c "$LAB_DIR/node1.conf" \
    >"$LAB_DIR/restart$attempt.log" 2>&1 || rc=$?
  [ "$rc" -eq 1 ] || fail "restart $attempt into a full disk exited $rc (want 1): $(tail -n 3 "$LAB_DIR/restart$attempt.log")"
  grep -q "cannot open the control socket: control socket $RUN/rmhad.sock: No space left on device" \
    "$LAB_DIR/restart$attempt.log" || fail "restart $attempt does not name the cause: $(tail -n 3 "$LAB_DIR/restart$attempt.log")"
done
fl_only_owner 2 down || fail "during the restarts: owners '$(fl_owners)', roles $(pair_role 1)/$(pair_role 2)"
[ "$(fl_changes 2)" -eq "$changes2" ] || fail "member 2 changed state: $(fl_reasons 2 | tail -n 3)"
[ "$(fl_field 2 .counters.peer.channel_ups)" -eq "$ups2" ] || fail "the failed starts opened channels to member 2"
[ "$(zl_sessions 2)" -eq "$CALLS" ] || fail "member 2 holds $(zl_sessions 2) of $CALLS calls"
ok "3 restarts into the full disk failed at once naming the cause; member 2 undisturbed"

# 3. Space freed: member 1 starts and joins as standby.
rm -f "$RUN"/fill "$RUN"/inode*
pair_start 1 || fail "member 1 did not start with space freed"
wait_until 10000 'fl_only_owner 2 && [ "$(zl_repl 2 .state)" = in-sync ]' ||
  fail "after the restart: owners '$(fl_owners)', roles $(pair_role 1)/$(pair_role 2), replication $(zl_repl 2 .state)"
[ "$(fl_changes 2)" -eq "$changes2" ] || fail "member 2 changed state: $(fl_reasons 2 | tail -n 3)"
ok "space freed: member 1 joined as standby"

fl_calls_ok "$CALLS"
