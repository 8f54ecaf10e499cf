#!/usr/bin/env bash
# Linkdown: the active's service NIC (eth0, monitored) goes down. The active releases and
# tells the peer over the heartbeat LAN; the standby takes over, its gratuitous ARP burst
# reaches the client, and the client's neighbour entry for the VIP moves to its MAC.
set -euo pipefail
source "$RMHA_SOURCE/scripts/lib/lab.sh"
source "$RMHA_SOURCE/scripts/lib/pair.sh"
source "$RMHA_SOURCE/scripts/lib/bench.sh"

lab_init
bench_pair_up "monitor-nics = eth0"
bench_seed_client
bench_client_neigh_is "$BENCH_MAC1" || bench_fail "client's entry is '$(bench_client_neigh)', not node1's"
bench_capture_start

lab_exec node1 ip link set eth0 down
pair_wait 2 active 15000 || bench_fail "node2 did not become active after node1's eth0 went down"
bench_wait_client_neigh "$BENCH_MAC2" 5000 ||
  bench_fail "client's entry for the VIP is '$(bench_client_neigh)', not node2's $BENCH_MAC2"
bench_vip_on 2 || bench_fail "node2 does not hold the VIP"
bench_poll 5000 bench_garps_at_least "$BENCH_MAC2" 3 ||
  bench_fail "the capture shows $(bench_garp_requests "$BENCH_MAC2") gratuitous ARP requests from node2, expected a burst of 3"
role=$(pair_role 1)
[ "$role" != active ] || bench_fail "node1 is still active with its monitored NIC down"
bench_capture_stop
echo "PASS: linkdown -> node2 active (node1 $role), client follows ($(bench_garp_requests "$BENCH_MAC2") GARP requests seen)"
