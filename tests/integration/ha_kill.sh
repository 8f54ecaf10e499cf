#!/usr/bin/env bash
# SIGKILL of the active rmhad (host alive): the standby sees the channel close and takes
# over at once, without waiting for the dead interval (set to 20 s here to make it plain).
source "$RMHA_SOURCE/tests/integration/lib/check.sh"

pair_up "dead-interval = 20000" "handover-timeout = 20000"
wait_until 10000 roles_are active standby || fail "no active/standby pair"
wait_until 5000 '[ "$(status_field 2 .peer.channel)" = up ]' || fail "channel never came up"
kill -KILL "$PAIR_PID1"
pair_wait 2 active 10000 || fail "member 2 did not become active"
grep -q "peer lost: its channel closed" "$LAB_DIR/node2.log" || fail "takeover was not caused by the channel closing"
ok "standby active on the channel closing, not the 20 s dead interval"
# The VIP is now on member 2's interface.
lab_exec node2 ip -4 addr show dev eth0 | grep -q "$PAIR_VIP/" || fail "VIP not on member 2"
ok "VIP on member 2"
