#!/usr/bin/env bash
# Both nodes started together: exactly one becomes active (priority, then member index).
# The nodes are started one after the other; a dead interval (and so an election wait) of
# 3 s makes them "together" however slow the build (the sanitizer build is).
source "$RMHA_SOURCE/tests/integration/lib/check.sh"

together=("dead-interval = 3000" "handover-timeout = 3000")
pair_up "${together[@]}"
wait_until 10000 roles_are active standby || fail "roles are $(pair_role 1)/$(pair_role 2), want active/standby"
ok "equal priority: member 1 active, member 2 standby"

# The higher priority wins whatever the member index.
lab_down
lab_init
pair_topology
pair_config 1 "priority = 100" "${together[@]}"
pair_config 2 "priority = 200" "${together[@]}"
pair_start 1
pair_start 2
wait_until 10000 roles_are standby active || fail "roles are $(pair_role 1)/$(pair_role 2), want standby/active"
[ "$(status_field 2 .steering)" != "" ] || fail "no steering in status"
ok "priority 200 beats 100: member 2 active"
