#!/usr/bin/env bash
# Zero call loss, crash of the active (SIGSTOP, then SIGKILL once the standby took over): calls established through the VIP are replicated to the
# standby before the event, and every one of them ends with BYE/200 through the new active.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/zero_loss.sh"

zl_scenario crash
