#!/usr/bin/env bash
# Maintenance blocks promotion: a standby in maintenance stays so when the active dies, and
# becomes active when maintenance is switched off.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"

pair_up
wait_until 10000 roles_are active standby || fail "no active/standby pair"
pair_ctl 2 maintenance on || fail "maintenance on failed"
[ "$(pair_role 2)" = maintenance ] || fail "member 2 is $(pair_role 2)"
wait_until 5000 '[ "$(status_field 2 .peer.channel)" = up ]' || fail "channel never came up"
kill -KILL "$PAIR_PID1"
wait_until 10000 '[ "$(status_field 2 .peer.channel)" = down ]' || fail "member 2 never saw the peer go"
[ "$(pair_role 2)" = maintenance ] || fail "member 2 left maintenance: $(pair_role 2)"
ok "maintenance blocked promotion"
pair_ctl 2 maintenance off || fail "maintenance off failed"
pair_wait 2 active 10000 || fail "member 2 did not become active after maintenance off"
ok "maintenance off: member 2 active"

# An active node in maintenance hands over first (and refuses when nobody can take over).
if pair_ctl 2 maintenance on 2>/dev/null; then fail "maintenance on with no peer succeeded"; fi
[ "$(pair_role 2)" = active ] || fail "member 2 gave up the role with no peer"
ok "maintenance on refused while no peer can take over"
