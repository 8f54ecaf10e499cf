#!/usr/bin/env bash
# Zero call loss, failover of the active: calls established through the VIP are replicated to the
# standby before the event, and every one of them ends with BYE/200 through the new active.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/zero_loss.sh"

zl_scenario failover
# The old active follows the new one's stream: its table empties with the BYEs too.
wait_until 5000 '[ "$(zl_sessions 1)" -eq 0 ] && [ "$(zl_repl 1 .role)" = sink ]' ||
  fail "the old active holds $(zl_sessions 1) sessions (replication role $(zl_repl 1 .role))"
ok "the old active, now standby, follows the new active's stream"
