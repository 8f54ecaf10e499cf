#!/usr/bin/env bash
# The network-namespace lab shared by the demo, the integration tests and the benchmarks.
# Source it, call lab_init, build hosts with lab_ns / lab_switch / lab_link, start processes
# with lab_spawn (their PIDs are remembered) and let the EXIT trap remove everything.
# Only 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24 are used, inside the namespaces.

LAB_PREFIX=""
LAB_DIR=""
LAB_NS=()
LAB_PIDS=()
LAB_MOUNTS=()
LAB_CGROUPS=()
LAB_IFINDEX=$(( 2000 + ($$ % 1000) * 50 ))

lab_init() {
  [ "$(id -u)" -eq 0 ] || { echo "the lab needs root (network namespaces)" >&2; exit 1; }
  LAB_PREFIX="rmha$$"
  LAB_DIR=$(mktemp -d "/tmp/${LAB_PREFIX}.XXXXXX")
  chmod 700 "$LAB_DIR"
  trap lab_down EXIT
  trap 'exit 130' INT TERM
}

lab_down() {
  local pid
  for pid in "${LAB_PIDS[@]}"; do
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${LAB_PIDS[@]}"; do
    # Bounded: a process that ignores TERM for 2 s is killed.
    timeout 2 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  done
  # After the processes (nothing holds them any more), before LAB_DIR is removed.
  local dir
  for dir in "${LAB_MOUNTS[@]}"; do
    umount "$dir" 2>/dev/null || umount -l "$dir" 2>/dev/null || true
  done
  for dir in "${LAB_CGROUPS[@]}"; do
    # Bounded: the kernel drops a cgroup's last exited tasks a moment after they are reaped.
    timeout 2 bash -c "until rmdir '$dir' 2>/dev/null; do sleep 0.05; done" || true
  done
  local ns
  for ns in "${LAB_NS[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
  done
  # LAB_KEEP=DIR: keep a copy of the lab's logs and captures in DIR for a post-mortem.
  if [ -n "${LAB_KEEP:-}" ] && [ -n "$LAB_DIR" ]; then
    mkdir -p "$LAB_KEEP" && cp -r "$LAB_DIR" "$LAB_KEEP/" 2>/dev/null || true
  fi
  [ -n "$LAB_DIR" ] && rm -rf "$LAB_DIR"
  LAB_PIDS=()
  LAB_NS=()
  LAB_MOUNTS=()
  LAB_CGROUPS=()
}

# lab_ns NAME: a host (namespace "$LAB_PREFIX-NAME") with loopback up.
lab_ns() {
  local ns="$LAB_PREFIX-$1"
  ip netns add "$ns"
  LAB_NS+=("$ns")
  ip -n "$ns" link set lo up
}

# lab_switch NAME: a host holding bridge br0 (a LAN).
lab_switch() {
  lab_ns "$1"
  ip -n "$LAB_PREFIX-$1" link add br0 type bridge
  ip -n "$LAB_PREFIX-$1" link set br0 up
}

# lab_link HOST IFNAME SWITCH ADDR/PREFIX [MAC]: a veth from HOST's IFNAME to a port of SWITCH.
# Distinct ifindexes on both ends make link events immediate (see docs/testing.md).
lab_link() {
  local host="$LAB_PREFIX-$1" ifname=$2 sw="$LAB_PREFIX-$3" addr=$4 mac=${5:-}
  local port="p$1-$2"
  port=${port:0:15}
  LAB_IFINDEX=$((LAB_IFINDEX + 2))
  ip link add "$ifname" index "$LAB_IFINDEX" netns "$host" type veth \
    peer name "$port" index $((LAB_IFINDEX + 1)) netns "$sw"
  [ -n "$mac" ] && ip -n "$host" link set "$ifname" address "$mac"
  ip -n "$sw" link set "$port" master br0
  ip -n "$sw" link set "$port" up
  ip -n "$host" addr add "$addr" dev "$ifname"
  ip -n "$host" link set "$ifname" up
}

# lab_port HOST IFNAME SWITCH: the switch-side port name of HOST's link.
lab_port() {
  local port="p$1-$2"
  echo "${port:0:15}"
}

# lab_tmpfs DIR SIZE INODES: a small tmpfs on DIR (created under LAB_DIR), unmounted by
# lab_down on every exit path. For faults of a full disk.
lab_tmpfs() {
  mkdir -p "$1"
  mount -t tmpfs -o "size=$2,nr_inodes=$3,mode=0755" "${LAB_PREFIX}-tmpfs" "$1"
  LAB_MOUNTS+=("$1")
}

# lab_memcg NAME LIMIT: a memory cgroup nested in this script's own, limited to LIMIT bytes;
# sets LAB_LAST_CGROUP to its directory (removed by lab_down once its processes are gone). cgroup v1 (the
# memory hierarchy) or v2 (memory.max, when the parent delegates the memory controller).
# Fails when neither is usable.
lab_memcg() {
  local rel dir
  if [ -d /sys/fs/cgroup/memory ] && rel=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup) &&
    [ -n "$rel" ]; then
    dir="/sys/fs/cgroup/memory${rel%/}/${LAB_PREFIX}-$1"
    mkdir "$dir" || return 1
    LAB_CGROUPS+=("$dir")
    echo "$2" >"$dir/memory.limit_in_bytes" || return 1
  elif rel=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup) &&
    grep -qw memory "/sys/fs/cgroup${rel%/}/cgroup.subtree_control" 2>/dev/null; then
    dir="/sys/fs/cgroup${rel%/}/${LAB_PREFIX}-$1"
    mkdir "$dir" || return 1
    LAB_CGROUPS+=("$dir")
    echo "$2" >"$dir/memory.max" || return 1
  else
    return 1
  fi
  LAB_LAST_CGROUP=$dir
}

lab_exec() {
  local host="$LAB_PREFIX-$1"
  shift
  ip netns exec "$host" "$@"
}

# lab_spawn HOST LOGFILE cmd...: runs cmd in HOST in the background; sets LAB_LAST_PID.
lab_spawn() {
  local host="$LAB_PREFIX-$1" log=$2
  shift 2
  ip netns exec "$host" "$@" >"$log" 2>&1 &
  LAB_LAST_PID=$!
  disown "$LAB_LAST_PID" 2>/dev/null || true # no "Killed" job notices: we end it by PID
  LAB_PIDS+=("$LAB_LAST_PID")
}

lab_now_us() {
  local t=$EPOCHREALTIME
  echo "${t/./}"
}
