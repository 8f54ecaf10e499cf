#!/usr/bin/env bash
# Crash: every process of the active node is frozen (SIGSTOP: a silent death, no FIN, no
# goodbye) and killed once the standby has taken over. The standby takes over after the dead
# interval, its gratuitous ARP burst reaches the client, and the client's neighbour entry for
# the VIP moves to the new active's MAC.
set -euo pipefail
source "$RMHA_SOURCE/scripts/lib/lab.sh"
source "$RMHA_SOURCE/scripts/lib/pair.sh"
source "$RMHA_SOURCE/scripts/lib/bench.sh"

lab_init
bench_pair_up
bench_seed_client
bench_client_neigh_is "$BENCH_MAC1" || bench_fail "client's entry is '$(bench_client_neigh)', not node1's"
bench_capture_start

bench_signal_node 1 STOP
# Bounded generously: the frozen node's kernel still answers ARP for the VIP until its lifetime
# runs out, which only the peer-address exemption of the probe lets the standby skip.
pair_wait 2 active 15000 || bench_fail "node2 did not become active after node1 froze"
bench_signal_node 1 KILL
bench_wait_client_neigh "$BENCH_MAC2" 5000 ||
  bench_fail "client's entry for the VIP is '$(bench_client_neigh)', not node2's $BENCH_MAC2"
bench_vip_on 2 || bench_fail "node2 does not hold the VIP"
bench_poll 5000 bench_garps_at_least "$BENCH_MAC2" 3 ||
  bench_fail "the capture shows $(bench_garp_requests "$BENCH_MAC2") gratuitous ARP requests from node2, expected a burst of 3"
bench_capture_stop
echo "PASS: crash -> node2 active, client follows ($(bench_garp_requests "$BENCH_MAC2") GARP requests seen)"
