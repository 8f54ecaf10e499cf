#!/usr/bin/env bash
# A reload (rmhactl reload, SIGHUP) applies [log] level and refuses every other change without
# disturbing the running node: the answers are the ones docs/configuration.md#reload shows.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"

pair_up
wait_until 10000 roles_are active standby || fail "no active/standby pair"
wait_until 5000 '[ "$(status_field 1 .peer.channel)" = up ]' || fail "channel never came up"
CONF=$LAB_DIR/node1.conf
cp "$CONF" "$LAB_DIR/node1.conf.orig"
before=$(status_field 1 .counters.transitions)

# reload EXPECTED-RC PATTERN: rmhactl reload on member 1 exits EXPECTED-RC and prints PATTERN.
reload() {
  local out rc
  out=$(pair_ctl 1 reload 2>&1) && rc=0 || rc=$?
  [ "$rc" -eq "$1" ] || fail "reload exit $rc, expected $1: $out"
  grep -Fq -- "$2" <<<"$out" || fail "reload said '$out', expected '$2'"
  ok "reload: $(head -1 <<<"$out")"
}
restore() { cp "$LAB_DIR/node1.conf.orig" "$CONF"; }

reload 0 "nothing changed"
printf '[log]\nlevel = debug\n' >>"$CONF"
reload 0 "applied: log level"

sed -i '/^\[cluster\]/a priority = 150' "$CONF"
reload 1 "rmhactl: changes to [cluster] need a restart (run 'rmhactl failover' first if this node is active); nothing applied"
sed -i 's/^level = debug/level = info/' "$CONF"
reload 1 "changes to [cluster] need a restart (run 'rmhactl failover' first if this node is active); the log level was applied"

restore
printf '[log]\ninstance = node-a\n' >>"$CONF"
reload 1 "changes to [log] instance need a restart"
restore
sed -i "s#^socket = .*#socket = $LAB_DIR/other.sock#" "$CONF"
reload 1 "changes to [control] need a restart"
restore
printf '[sip]\nlisten = udp:0.0.0.0:5060\nadvertised-address = %s\nupstream = udp:192.0.2.1:5060\n' \
  "$PAIR_VIP" >>"$CONF"
reload 1 "changes to [sip], [resource-group.*], [routing] need a restart"

restore
sed -i 's/^member.2 = .*/member.2 = nowhere/' "$CONF"
reload 1 "the new configuration is refused; nothing changed:"
reload 1 "$CONF:6: member.2 = 'nowhere' is not an address"
: >"$CONF"
reload 1 "$CONF: holds no setting"

# SIGHUP takes the same path; a refused one leaves the node as it is.
restore
sed -i '/^\[cluster\]/a priority = 150' "$CONF"
kill -HUP "$PAIR_PID1"
restore
reload 0 "nothing changed"

[ "$(pair_role 1)" = active ] || fail "member 1 is $(pair_role 1) after the reloads"
[ "$(pair_role 2)" = standby ] || fail "member 2 is $(pair_role 2) after the reloads"
after=$(status_field 1 .counters.transitions)
[ "$after" = "$before" ] || fail "member 1 changed state during the reloads ($before -> $after)"
ok "no reload disturbed the pair (member 1 active, $after transitions before and after)"
