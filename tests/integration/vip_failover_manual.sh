#!/usr/bin/env bash
# Manual: `rmhactl failover` on the active hands over to the standby (make-before-break). The
# new active's gratuitous ARP burst reaches the client and its neighbour entry for the VIP
# moves to the new active's MAC; the old active is standby and no longer holds the VIP.
set -euo pipefail
source "$RMHA_SOURCE/scripts/lib/lab.sh"
source "$RMHA_SOURCE/scripts/lib/pair.sh"
source "$RMHA_SOURCE/scripts/lib/bench.sh"

lab_init
bench_pair_up
bench_seed_client
bench_client_neigh_is "$BENCH_MAC1" || bench_fail "client's entry is '$(bench_client_neigh)', not node1's"
bench_capture_start

pair_ctl 1 failover >/dev/null || bench_fail "rmhactl failover was refused"
pair_wait 2 active 15000 || bench_fail "node2 did not become active after the failover command"
pair_wait 1 standby 15000 || bench_fail "node1 did not become standby after the failover command"
bench_wait_client_neigh "$BENCH_MAC2" 5000 ||
  bench_fail "client's entry for the VIP is '$(bench_client_neigh)', not node2's $BENCH_MAC2"
bench_vip_on 2 || bench_fail "node2 does not hold the VIP"
bench_vip_off 1 || bench_fail "node1 still holds the VIP"
bench_poll 5000 bench_garps_at_least "$BENCH_MAC2" 3 ||
  bench_fail "the capture shows $(bench_garp_requests "$BENCH_MAC2") gratuitous ARP requests from node2, expected a burst of 3"
bench_capture_stop
echo "PASS: manual failover -> node2 active, client follows ($(bench_garp_requests "$BENCH_MAC2") GARP requests seen)"
