#!/usr/bin/env bash
# Zero call loss over TCP, SIGKILL of rmhad on the active: the SIP Server's and the media
# servers' connections to the old active close; the SIP Server opens a new one to the VIP
# and the new active opens its own to the media servers; every call ends with BYE/200.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/zero_loss.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/zero_loss_tcp.sh"

zl_tcp_scenario kill "dead-interval = 20000" "handover-timeout = 20000"
