#!/usr/bin/env bash
# Zero call loss over TCP, `rmhactl failover`: the old active lets the VIP go with its TCP
# connections still open; the SIP Server's next request on the VIP opens a connection to the
# new active, which opens its own to the media servers; every call ends with BYE/200.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/zero_loss.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/zero_loss_tcp.sh"

zl_tcp_scenario failover
