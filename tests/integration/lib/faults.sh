#!/usr/bin/env bash
# Shared by the fault-matrix tests (tests/integration/fault_*.sh), sourced after check.sh and
# scenarios/zero_loss.sh: who holds the VIP, what each node's status says, and the faults the
# lab injects. Every wait is bounded; nothing sleeps to wait for something.

# A dead interval that a loaded 2-core CI machine does not trip by itself: at the default
# (25 ms) stalls of the whole VM alone cause false failovers there, which is not what these
# tests inject. Each fault here is about what the nodes do, not how fast.
PAIR_DEAD_MS=${PAIR_DEAD_MS:-200}

# fl_vip_on MEMBER: nodeN holds the VIP on eth0.
fl_vip_on() { lab_exec "node$1" ip -4 -o addr show dev eth0 | grep -q " $PAIR_VIP/"; }

# fl_owners: the members holding the VIP, e.g. "1", "2", "1 2" or "".
fl_owners() {
  local m out=""
  for m in 1 2; do
    fl_vip_on "$m" && out="$out $m"
  done
  echo "${out# }"
}

# fl_only_owner MEMBER: nodeN is active and the only VIP owner, and the other node is ROLE
# (standby by default).
fl_only_owner() {
  local other=$((3 - $1))
  [ "$(fl_owners)" = "$1" ] && [ "$(pair_role "$1")" = active ] &&
    [ "$(pair_role "$other")" = "${2:-standby}" ]
}

# fl_field MEMBER JQ: a field of the node's status ("" when it does not answer).
fl_field() { pair_ctl "$1" -t 2000 status --json 2>/dev/null | jq -r "$2" 2>/dev/null || true; }

# fl_claims MEMBER: how often the node has become active since it started.
fl_claims() { fl_field "$1" '[.transitions[] | select(.to == "active")] | length'; }

# fl_changes MEMBER: the node's state changes since it started.
fl_changes() { fl_field "$1" .counters.transitions; }

# fl_reasons MEMBER: the reasons of the node's state changes, one a line.
fl_reasons() { fl_field "$1" '.transitions[] | "\(.from) -> \(.to): \(.reason)"'; }

# fl_calls_ok COUNT: every one of COUNT calls ended with BYE/200 (the caller must have exited).
fl_calls_ok() {
  zl_wait_calls_done 60000 || fail "the caller did not finish: $(tail -c 1500 "$LAB_DIR/uac.log")"
  local good failed
  good=$(zl_csv "SuccessfulCall(C)")
  failed=$(zl_csv "FailedCall(C)")
  [ "$good" -eq "$1" ] && [ "$failed" -eq 0 ] ||
    fail "$good of $1 calls ended with BYE/200, $failed failed: $(tail -c 1500 "$LAB_DIR/uac.log")"
  ok "all $1 calls ended with BYE/200"
}

# fl_peer_drop SWITCH FROM TO: the switch (a bridge) drops every IPv4 packet from address FROM
# to address TO: the peer link's heartbeats and channel on that path, one way. ARP is not
# IPv4, so both nodes still see each other's gratuitous ARP and answer probes.
fl_peer_drop() {
  command -v nft >/dev/null || fail "nft not found: install nftables (scripts/setup)"
  local ns="$LAB_PREFIX-$1"
  ip netns exec "$ns" nft add table bridge rmha_fault
  ip netns exec "$ns" nft add chain bridge rmha_fault forward \
    '{ type filter hook forward priority 0; policy accept; }'
  ip netns exec "$ns" nft add rule bridge rmha_fault forward ip saddr "$2" ip daddr "$3" drop
}

# fl_peer_heal SWITCH: the switch drops nothing any more.
fl_peer_heal() { ip netns exec "$LAB_PREFIX-$1" nft delete table bridge rmha_fault 2>/dev/null || true; }

# fl_cut FROM TO: member FROM's peer-link packets to member TO are lost on both paths
# (member.N on the service LAN, alt-member.N on the heartbeat LAN).
fl_cut() {
  fl_peer_drop svc "192.0.2.1$1" "192.0.2.1$2"
  fl_peer_drop hb "198.51.100.1$1" "198.51.100.1$2"
}

# fl_heal: every cut removed.
fl_heal() {
  fl_peer_heal svc
  fl_peer_heal hb
}
