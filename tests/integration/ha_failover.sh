#!/usr/bin/env bash
# rmhactl failover swaps the roles (make-before-break); takeover on the standby too; failover
# on a standby is refused with a non-zero exit.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"

pair_up
wait_until 10000 roles_are active standby || fail "no active/standby pair"
wait_until 5000 '[ "$(status_field 1 .peer.role)" = standby ]' || fail "member 1 does not see a standby"
pair_ctl 1 failover || fail "rmhactl failover failed"
wait_until 5000 roles_are standby active || fail "after failover: $(pair_role 1)/$(pair_role 2)"
ok "failover: member 2 active, member 1 standby"

if pair_ctl 1 failover 2>/dev/null; then fail "failover on a standby succeeded"; fi
ok "failover on a standby refused"

wait_until 5000 '[ "$(status_field 1 .peer.role)" = active ]' || fail "member 1 does not see the active"
pair_ctl 1 takeover || fail "rmhactl takeover failed"
wait_until 5000 roles_are active standby || fail "after takeover: $(pair_role 1)/$(pair_role 2)"
ok "takeover: member 1 active again"
