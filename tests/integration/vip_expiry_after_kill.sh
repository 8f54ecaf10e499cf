#!/usr/bin/env bash
# After SIGKILL of the active's rmhad its host is alive, but nobody renews the VIP's short
# lifetime any more: the kernel removes the address by itself and the old node stops
# answering ARP for the VIP within vip-lifetime (plus the kernel's expiry work period, ~1 s).
set -euo pipefail
source "$RMHA_SOURCE/scripts/lib/lab.sh"
source "$RMHA_SOURCE/scripts/lib/pair.sh"
source "$RMHA_SOURCE/scripts/lib/bench.sh"

LIFETIME_MS=2000
EXPIRY_SLACK_MS=1500  # the kernel checks lifetimes about once a second

# arp_answerers: the MACs answering the client's broadcast ARP requests for the VIP (bounded:
# two answers, or two requests 1 s apart).
arp_answerers() {
  { lab_exec client arping -I eth0 -b -c 2 -w 2 "$PAIR_VIP" 2>/dev/null || true; } |
    sed -n 's/.*reply from [0-9.]* \[\([0-9a-fA-F:]*\)\].*/\1/p' | tr 'A-F' 'a-f' | sort -u
}

lab_init
bench_pair_up "vip-lifetime = $LIFETIME_MS"
arp_answerers | grep -qx "$BENCH_MAC1" || bench_fail "node1 does not answer ARP for the VIP while active"

t0=$(lab_now_us)
kill -KILL "$PAIR_PID1"
pair_wait 2 active 15000 || bench_fail "node2 did not become active after node1's rmhad was killed"
bench_poll $((LIFETIME_MS + EXPIRY_SLACK_MS)) bench_vip_off 1 ||
  bench_fail "node1 still holds the VIP $((LIFETIME_MS + EXPIRY_SLACK_MS)) ms after its rmhad died"
gone_ms=$(( ($(lab_now_us) - t0) / 1000 ))
answerers=$(arp_answerers)
echo "$answerers" | grep -qx "$BENCH_MAC1" && bench_fail "node1 still answers ARP for the VIP (answerers: $answerers)"
echo "$answerers" | grep -qx "$BENCH_MAC2" || bench_fail "node2 does not answer ARP for the VIP (answerers: $answerers)"
echo "PASS: node1's VIP expired ${gone_ms} ms after its rmhad was killed (vip-lifetime $LIFETIME_MS ms); only node2 answers ARP"
