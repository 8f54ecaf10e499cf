#!/usr/bin/env bash
# An rmha pair in the lab: two nodes on a service LAN (192.0.2.0/24) and a heartbeat LAN
# (198.51.100.0/24), a client on the service LAN. Needs lab.sh sourced and RMHA_BIN set.
#
#   client 192.0.2.50 ---+                     VIP 192.0.2.100
#   node1  192.0.2.11 ---+-- svc (bridge)      node1 198.51.100.11 --+-- hb (bridge)
#   node2  192.0.2.12 ---+                     node2 198.51.100.12 --+

PAIR_VIP=192.0.2.100
PAIR_DEAD_MS=${PAIR_DEAD_MS:-}
# PAIR_LOG_PIPE="1 2": the members whose stderr goes into a pipe read by a separate process
# (PAIR_READER_PID<N>, which a test may SIGSTOP to block the node's log output) instead of
# straight into $LAB_DIR/node<N>.log; the reader copies it there.
PAIR_LOG_PIPE=${PAIR_LOG_PIPE:-}

pair_topology() {
  lab_switch svc
  lab_switch hb
  lab_ns client
  lab_ns node1
  lab_ns node2
  lab_link client eth0 svc 192.0.2.50/24 02:00:00:00:00:50
  lab_link node1 eth0 svc 192.0.2.11/24 02:00:00:00:01:11
  lab_link node2 eth0 svc 192.0.2.12/24 02:00:00:00:01:12
  lab_link node1 eth1 hb 198.51.100.11/24 02:00:00:00:02:11
  lab_link node2 eth1 hb 198.51.100.12/24 02:00:00:00:02:12
  head -c 32 /dev/urandom | base64 >"$LAB_DIR/peer.key"
  chmod 600 "$LAB_DIR/peer.key"
}

# pair_config MEMBER [extra [cluster] lines...]: writes $LAB_DIR/nodeN.conf.
pair_config() {
  local m=$1
  shift
  {
    echo "[cluster]"
    echo "ha-mode = active-standby"
    echo "virtual-ip = $PAIR_VIP/24"
    echo "vip-interface = eth0"
    echo "member.1 = 192.0.2.11"
    echo "member.2 = 192.0.2.12"
    echo "alt-member.1 = 198.51.100.11"
    echo "alt-member.2 = 198.51.100.12"
    echo "local-member = $m"
    echo "auth-key-file = $LAB_DIR/peer.key"
    [ -n "$PAIR_DEAD_MS" ] && echo "dead-interval = $PAIR_DEAD_MS"
    local line
    for line in "$@"; do echo "$line"; done
    echo "[control]"
    echo "socket = $LAB_DIR/node$m.sock"
  } >"$LAB_DIR/node$m.conf"
}

# pair_start MEMBER [RMHAD-ARGS...]: starts rmhad on nodeN (with those extra arguments, e.g.
# --test-hook) and returns once it is ready (bounded: 10 s).
# PAIR_WRAP, when set, is a command rmhad is started under (e.g. setpriv to drop privileges).
pair_start() {
  local m=$1 fifo="$LAB_DIR/node$1.ready" wrap=()
  [ -n "${PAIR_WRAP:-}" ] && read -ra wrap <<<"$PAIR_WRAP"
  rm -f "$fifo"
  mkfifo "$fifo"
  # Opened read-write here so that neither side blocks in open(); rmhad writes "ready".
  exec 7<>"$fifo"
  local out="$LAB_DIR/node$m.log"
  if [[ " $PAIR_LOG_PIPE " == *" $m "* ]]; then
    out="$LAB_DIR/node$m.logpipe"
    rm -f "$out"
    mkfifo "$out"
    cat "$out" >"$LAB_DIR/node$m.log" 7>&- &
    eval "PAIR_READER_PID$m=$!"
    disown "$!" 2>/dev/null || true
    LAB_PIDS+=("$!")
  fi
  lab_spawn "node$m" "$out" "${wrap[@]}" "$RMHA_BIN/rmhad" -c "$LAB_DIR/node$m.conf" \
    --ready-fd 3 "${@:2}" 3>&7 7>&-
  eval "PAIR_PID$m=$LAB_LAST_PID"
  local line=""
  read -r -t 10 -u 7 line || true
  exec 7>&-
  if [ "$line" != "ready" ]; then
    echo "rmhad on node$m did not start; its log:" >&2
    cat "$LAB_DIR/node$m.log" >&2
    return 1
  fi
}

pair_ctl() {
  local m=$1
  shift
  "$RMHA_BIN/rmhactl" -s "$LAB_DIR/node$m.sock" "$@"
}

# pair_role MEMBER: the node's role, or "down".
pair_role() {
  local r
  r=$(pair_ctl "$1" -t 2000 status --json 2>/dev/null | jq -r .role) || r=""
  echo "${r:-down}"
}

# pair_wait MEMBER ROLE [TIMEOUT_MS]: waits for the role change event (bounded).
pair_wait() {
  pair_ctl "$1" -t "${3:-10000}" wait "$2" >/dev/null
}

# pair_became_active_us MEMBER: wall-clock µs of the node's last transition into active.
pair_became_active_us() {
  pair_ctl "$1" status --json | jq '[.transitions[] | select(.to == "active")] | last | .time_us // 0'
}

# pair_settled MEMBER PEER_ROLE [TIMEOUT_MS]: waits (bounded, polling every 10 ms) until the
# node hears its peer in PEER_ROLE over an established channel.
pair_settled() {
  local deadline=$(( $(lab_now_us) + ${3:-5000} * 1000 ))
  until [ "$(pair_ctl "$1" -t 2000 status --json | jq -r '.peer.channel + "/" + (.peer.role // "")')" = "up/$2" ]; do
    [ "$(lab_now_us)" -lt "$deadline" ] || { echo "member $1 never settled with a $2 peer" >&2; return 1; }
    sleep 0.01
  done
}
