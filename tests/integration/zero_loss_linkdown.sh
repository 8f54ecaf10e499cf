#!/usr/bin/env bash
# Zero call loss, linkdown of the active: calls established through the VIP are replicated to the
# standby before the event, and every one of them ends with BYE/200 through the new active.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/zero_loss.sh"

zl_scenario linkdown "monitor-nics = eth0"
