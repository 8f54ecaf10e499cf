#!/usr/bin/env bash
# Helpers for the VIP integration tests (tests/integration/vip_*.sh) and the failover
# benchmark (scripts/bench-failover), on top of lab.sh and pair.sh (source those first).
# Everything waits on an event or polls with a bounded deadline; nothing sleeps to wait.

BENCH_MAC1=02:00:00:00:01:11  # node1 eth0 (pair_topology)
BENCH_MAC2=02:00:00:00:01:12  # node2 eth0
BENCH_CAP_PID=""
BENCH_CAP_FILE=""

# bench_mac MEMBER: the service NIC's MAC of nodeN.
bench_mac() {
  if [ "$1" = 1 ]; then echo "$BENCH_MAC1"; else echo "$BENCH_MAC2"; fi
}

# bench_vip_hex: the VIP as the 0x........ a BPF filter compares arp[14:4] with.
bench_vip_hex() {
  local a b c d
  IFS=. read -r a b c d <<<"$PAIR_VIP"
  printf '0x%02x%02x%02x%02x' "$a" "$b" "$c" "$d"
}

# bench_fail MESSAGE: prints the message and every node's log tail, exits 1 (the EXIT trap
# of lab.sh cleans up).
bench_fail() {
  echo "FAIL: $*" >&2
  local f
  for f in "$LAB_DIR"/node*.log; do
    [ -f "$f" ] || continue
    echo "--- $(basename "$f") (last 15 lines)" >&2
    tail -n 15 "$f" >&2
  done
  exit 1
}

# bench_poll DEADLINE_MS CMD...: runs CMD every ~10 ms until it succeeds (0) or the deadline
# passes (1). For state the kernel changes on its own (neighbour entries, address expiry):
# there is no event to wait on.
bench_poll() {
  local deadline=$(( $(lab_now_us) + $1 * 1000 ))
  shift
  while :; do
    "$@" && return 0
    [ "$(lab_now_us)" -lt "$deadline" ] || return 1
    sleep 0.01
  done
}

# bench_pair_up [extra [cluster] lines...]: topology, both configs, both daemons; node1 active
# and node2 standby on return (bounded), or the test fails.
bench_pair_up() {
  pair_topology
  pair_config 1 "$@"
  pair_config 2 "$@"
  pair_start 1 || bench_fail "rmhad did not start on node1"
  pair_start 2 || bench_fail "rmhad did not start on node2"
  pair_wait 1 active 15000 || bench_fail "node1 did not become active"
  pair_wait 2 standby 15000 || bench_fail "node2 did not become standby"
}

# bench_client_neigh: the MAC the client's neighbour table has for the VIP ("" if none).
bench_client_neigh() {
  lab_exec client ip neigh show "$PAIR_VIP" dev eth0 | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}'
}

bench_client_neigh_is() { [ "$(bench_client_neigh)" = "$1" ]; }

# bench_seed_client: the client talks to the VIP once, so it has a neighbour entry that a
# gratuitous ARP then updates (a GARP creates no entry without arp_accept).
bench_seed_client() {
  lab_exec client ping -c 1 -W 2 "$PAIR_VIP" >/dev/null || bench_fail "the client cannot reach the VIP"
}

# bench_wait_client_neigh MAC DEADLINE_MS: until the client's entry for the VIP is MAC.
bench_wait_client_neigh() {
  bench_poll "$2" bench_client_neigh_is "$1"
}

# bench_vip_on MEMBER: the VIP is on nodeN's eth0.
bench_vip_on() {
  lab_exec "node$1" ip -4 -o addr show dev eth0 | grep -q " $PAIR_VIP/"
}

bench_vip_off() { ! bench_vip_on "$1"; }

# bench_node_pids MEMBER: every process running in nodeN's namespace.
bench_node_pids() {
  ip netns pids "$LAB_PREFIX-node$1"
}

# bench_signal_node MEMBER SIGNAL: SIGNAL to every process of nodeN (a silent death is
# SIGSTOP then SIGKILL: the stopped processes send nothing, not even a FIN).
bench_signal_node() {
  local pids
  pids=$(bench_node_pids "$1")
  [ -n "$pids" ] && kill "-$2" $pids 2>/dev/null
  return 0
}

# bench_capture_start [NAME]: tcpdump of ARP on the client's eth0 into $LAB_DIR/NAME.pcap,
# returns once it is capturing (bounded: 10 s).
bench_capture_start() {
  local name=${1:-client}
  BENCH_CAP_FILE="$LAB_DIR/$name.pcap"
  lab_spawn client "$LAB_DIR/$name.tcpdump.log" tcpdump -i eth0 -nn -U -Z root \
    --time-stamp-precision=micro -w "$BENCH_CAP_FILE" arp
  BENCH_CAP_PID=$LAB_LAST_PID
  bench_poll 10000 grep -q "listening on" "$LAB_DIR/$name.tcpdump.log" ||
    bench_fail "tcpdump did not start: $(cat "$LAB_DIR/$name.tcpdump.log")"
}

# bench_capture_stop: ends the capture (by PID) and waits for it to flush (bounded: 5 s).
bench_capture_stop() {
  [ -n "$BENCH_CAP_PID" ] || return 0
  kill -INT "$BENCH_CAP_PID" 2>/dev/null || true
  timeout 5 tail --pid="$BENCH_CAP_PID" -f /dev/null 2>/dev/null || kill -KILL "$BENCH_CAP_PID" 2>/dev/null || true
  BENCH_CAP_PID=""
}

# bench_arp_lines MAC [extra filter]: the captured ARP frames from MAC whose sender IP is the
# VIP, one line each, "EPOCH.USEC ..." (tcpdump -tt).
bench_arp_lines() {
  local mac=$1 extra=${2:-}
  local filter="ether src $mac and arp[14:4] = $(bench_vip_hex)"
  [ -n "$extra" ] && filter="$filter and $extra"
  tcpdump -r "$BENCH_CAP_FILE" -tt -nn "$filter" 2>/dev/null
}

# bench_garp_requests MAC: gratuitous ARP requests from MAC (op 1, sender = target = VIP).
bench_garp_requests() {
  bench_arp_lines "$1" "arp[6:2] = 1 and arp[24:4] = $(bench_vip_hex)" | wc -l
}

# bench_garps_at_least MAC N: the capture holds at least N GARP requests from MAC.
bench_garps_at_least() {
  [ "$(bench_garp_requests "$1")" -ge "$2" ]
}

# bench_first_arp_us MAC SINCE_US: wall-clock µs of the first ARP for the VIP from MAC at or
# after SINCE_US ("" if none).
bench_first_arp_us() {
  local since=$2
  bench_arp_lines "$1" | awk -v since="$since" '{
    split($1, t, "."); us = t[1] * 1000000 + t[2];
    if (us >= since) { printf "%.0f\n", us; exit } }'
}

# bench_restart MEMBER: pair_start, retried for up to 10 s. Stopgap: an rmhad started right
# after its frozen-then-killed predecessor sometimes cannot bind the peer link's TCP port yet
# ("tcp 192.0.2.11:9801: Address already in use").
bench_restart() {
  local deadline=$(( $(lab_now_us) + 10000000 ))
  until pair_start "$1" 2>/dev/null; do
    echo "rmhad on node$1 did not start, retrying: $(grep -E ' (error|fatal) ' "$LAB_DIR/node$1.log" | tail -n 1)" >&2
    [ "$(lab_now_us)" -lt "$deadline" ] || { pair_start "$1"; return; }
    sleep 0.1
  done
}
