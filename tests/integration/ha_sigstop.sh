#!/usr/bin/env bash
# SIGSTOP of the active: the standby takes over after the dead interval; after SIGCONT
# exactly one active remains.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"

pair_up
wait_until 10000 roles_are active standby || fail "no active/standby pair"
kill -STOP "$PAIR_PID1"
pair_wait 2 active 10000 || fail "member 2 did not become active"
grep -q "peer lost: silent for" "$LAB_DIR/node2.log" || fail "takeover was not caused by silence"
ok "standby active after the dead interval"
kill -CONT "$PAIR_PID1"
one_active() {
  local a b
  a=$(pair_role 1)
  b=$(pair_role 2)
  { [ "$a" = active ] && [ "$b" = standby ]; } || { [ "$a" = standby ] && [ "$b" = active ]; }
}
wait_until 10000 one_active || fail "after SIGCONT: $(pair_role 1)/$(pair_role 2)"
# Still exactly one a little later: the resolution is stable.
wait_until 2000 '[ "$(status_field 1 .peer.alive)" = true ]' || fail "member 1 does not hear member 2"
one_active || fail "not stable: $(pair_role 1)/$(pair_role 2)"
vip_on() { lab_exec "node$1" ip -4 addr show dev eth0 | grep -q "$PAIR_VIP/"; }
owners=0
vip_on 1 && owners=$((owners + 1))
vip_on 2 && owners=$((owners + 1))
[ "$owners" -eq 1 ] || fail "$owners nodes hold the VIP"
ok "after SIGCONT exactly one active, one VIP owner"
