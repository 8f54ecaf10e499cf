#!/usr/bin/env bash
# Member 1, which would win the election, has a typo in vip-interface: its self-test fails,
# it is never elected, member 2 owns the VIP; failover towards member 1 and takeover on it
# are refused with a non-zero exit; exactly one VIP owner.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"
source "$RMHA_SOURCE/tests/integration/scenarios/unfit.sh"

unfit_start interface
unfit_assert "'eth9' does not exist"
