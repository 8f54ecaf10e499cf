#!/usr/bin/env bash
# Zero call loss, SIGKILL of the active rmhad (host alive): calls established through the VIP
# are replicated to the standby before the kill, the standby takes over on the channel
# closing (not the 20 s dead interval), and every call ends with BYE/200 through it.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/zero_loss.sh"

zl_scenario kill "dead-interval = 20000" "handover-timeout = 20000"
grep -q "peer lost: its channel closed" "$LAB_DIR/node2.log" || fail "takeover was not caused by the channel closing"
