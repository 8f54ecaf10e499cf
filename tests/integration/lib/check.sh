#!/usr/bin/env bash
# Shared by the script integration tests: the lab, the pair, and small assertions.
set -euo pipefail
: "${RMHA_SOURCE:?set by ctest}" "${RMHA_BIN:?set by ctest}"
source "$RMHA_SOURCE/scripts/lib/lab.sh"
source "$RMHA_SOURCE/scripts/lib/pair.sh"

TEST_NAME=$(basename "$0" .sh)

fail() {
  echo "FAIL $TEST_NAME: $*" >&2
  local f
  for f in "$LAB_DIR"/node*.log; do
    [ -f "$f" ] || continue
    echo "--- $f (last 30 lines)" >&2
    tail -30 "$f" >&2
  done
  exit 1
}

ok() { echo "ok $TEST_NAME: $*"; }

# wait_until MS COMMAND...: true once COMMAND succeeds; polls every 20 ms up to MS.
# The deadline is on the monotonic clock (/proc/uptime, 10 ms steps): a step of the wall
# clock must neither end a wait early nor stretch it.
mono_ms() {
  local up
  read -r up _ </proc/uptime
  echo $(( ${up%.*} * 1000 + 10#${up#*.} * 10 ))
}
wait_until() {
  local deadline=$(( $(mono_ms) + $1 ))
  shift
  until eval "$*"; do
    [ "$(mono_ms)" -lt "$deadline" ] || return 1
    sleep 0.02
  done
}

roles_are() { [ "$(pair_role 1)" = "$1" ] && [ "$(pair_role 2)" = "$2" ]; }

# status_field MEMBER JQ: a field of the node's status.
status_field() { pair_ctl "$1" -t 2000 status --json | jq -r "$2"; }

# pair_up [extra config lines...]: topology, both configs, both daemons started together.
pair_up() {
  lab_init
  pair_topology
  pair_config 1 "$@"
  pair_config 2 "$@"
  pair_start 1
  pair_start 2
}
