#!/usr/bin/env bash
# Split brain: both nodes' switch ports are set down on both LANs, so neither hears the other
# and both claim the VIP. When the ports come back, exactly one owner remains: the other
# releases, the owner re-announces, and the client's neighbour entry (set to a wrong MAC
# meanwhile) points at the owner.
set -euo pipefail
source "$RMHA_SOURCE/scripts/lib/lab.sh"
source "$RMHA_SOURCE/scripts/lib/pair.sh"
source "$RMHA_SOURCE/scripts/lib/bench.sh"

ports() {  # ports up|down: both nodes' switch ports on both LANs
  local m
  for m in 1 2; do
    ip -n "$LAB_PREFIX-svc" link set "$(lab_port "node$m" eth0)" "$1"
    ip -n "$LAB_PREFIX-hb" link set "$(lab_port "node$m" eth1)" "$1"
  done
}

one_owner() {  # one node active and the other standby
  local r1 r2
  r1=$(pair_role 1)
  r2=$(pair_role 2)
  { [ "$r1" = active ] && [ "$r2" = standby ]; } || { [ "$r1" = standby ] && [ "$r2" = active ]; }
}

lab_init
bench_pair_up
bench_seed_client
bench_capture_start

ports down
pair_wait 2 active 15000 || bench_fail "node2 did not become active when it stopped hearing node1"
[ "$(pair_role 1)" = active ] || bench_fail "node1 is $(pair_role 1) during the partition, expected active"
bench_vip_on 1 && bench_vip_on 2 || bench_fail "both nodes should hold the VIP during the partition"
# Whoever ends up owning the VIP must correct this.
lab_exec client ip neigh replace "$PAIR_VIP" lladdr 02:00:00:00:00:99 dev eth0 nud stale

healed=$(lab_now_us)
ports up
bench_poll 15000 one_owner || bench_fail "after the partition healed: node1 $(pair_role 1), node2 $(pair_role 2)"
if [ "$(pair_role 1)" = active ]; then owner=1 loser=2; else owner=2 loser=1; fi
owner_mac=$(bench_mac "$owner")
bench_poll 5000 bench_vip_off "$loser" || bench_fail "node$loser still holds the VIP after releasing"
bench_vip_on "$owner" || bench_fail "node$owner (active) does not hold the VIP"
bench_wait_client_neigh "$owner_mac" 5000 ||
  bench_fail "client's entry for the VIP is '$(bench_client_neigh)', not node$owner's $owner_mac"
announced() { [ -n "$(bench_first_arp_us "$owner_mac" "$healed")" ]; }
# Bounded by the second burst (garp-repeat-after, 1 s): frames sent before the node's carrier
# is back up (the kernel's linkwatch may take up to ~1 s) are lost.
bench_poll 5000 announced || bench_fail "no announcement from node$owner after the partition healed"
first=$(bench_first_arp_us "$owner_mac" "$healed")
bench_capture_stop
echo "PASS: split brain healed: node$owner owns the VIP and re-announced $(( (first - healed) / 1000 )) ms after the heal; node$loser released"
