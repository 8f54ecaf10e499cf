#!/usr/bin/env bash
# Every example configuration in docs/examples/ is accepted by `rmhad --check-config` (exit 0),
# and broken variants of one are refused (exit 2) with a "FILE:LINE:" message.
#
#   RMHA_BIN=build/failover/daemon RMHA_SOURCE=. bash tests/integration/config_examples.sh
#
# Needs no root and no network: --check-config only reads files. The examples name the key
# file /etc/rmha/peer.key; each copy here points at a temporary key (mode 0600, 32 random
# bytes) instead, and gets `local-member = 1` when it relies on finding its member address
# among this host's addresses.
set -uo pipefail

: "${RMHA_BIN:?set RMHA_BIN to the directory holding rmhad}"
: "${RMHA_SOURCE:?set RMHA_SOURCE to the repository root}"
RMHAD=$RMHA_BIN/rmhad
EXAMPLES=$RMHA_SOURCE/docs/examples

# The examples this test checks; every *.conf in docs/examples must be listed here (checked
# below), so a new example cannot be forgotten.
examples=(
  standalone.conf
  active-standby-vip.conf
  active-standby-bond.conf
  active-standby-two-nic.conf
  windows-nlb.conf
  active-active-lb.conf
  active-active-sipserver.conf
)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rmha-config-examples.XXXXXX") || exit 1
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

failures=0
fail() {
  echo "FAIL $*"
  failures=$((failures + 1))
}

[ -x "$RMHAD" ] || { echo "FAIL no rmhad at $RMHAD"; exit 1; }

KEY=$WORK/peer.key
head -c 32 /dev/urandom >"$KEY"
chmod 600 "$KEY"

# prepare SRC DST: a copy of an example that validates on this host.
prepare() {
  local src=$1 dst=$2
  sed "s#/etc/rmha/peer.key#$KEY#" "$src" >"$dst"
  if grep -Eq '^[[:space:]]*ha-mode[[:space:]]*=[[:space:]]*active' "$dst" &&
    ! grep -Eq '^[[:space:]]*local-member[[:space:]]*=' "$dst"; then
    # Right below the [cluster] header, so the key lands in that section.
    sed -i '/^[[:space:]]*\[cluster\][[:space:]]*$/a local-member = 1' "$dst"
  fi
}

# --- every example is listed ------------------------------------------------------------------
for f in "$EXAMPLES"/*.conf; do
  name=$(basename "$f")
  listed=no
  for e in "${examples[@]}"; do
    [ "$e" = "$name" ] && listed=yes
  done
  if [ "$listed" = yes ]; then
    echo "ok listed $name"
  else
    fail "docs/examples/$name is not in this test's list"
  fi
done

# --- every example validates ------------------------------------------------------------------
for e in "${examples[@]}"; do
  if [ ! -f "$EXAMPLES/$e" ]; then
    fail "$e: missing from docs/examples"
    continue
  fi
  cfg=$WORK/$e
  prepare "$EXAMPLES/$e" "$cfg"
  out=$("$RMHAD" --check-config "$cfg" 2>&1)
  rc=$?
  if [ "$rc" -eq 0 ] && grep -q "^$cfg: OK: " <<<"$out"; then
    echo "ok valid $e"
  else
    fail "$e: exit $rc, expected 0:"
    sed 's/^/    /' <<<"$out"
  fi
done

# --- broken variants are refused with file:line -----------------------------------------------
# refused NAME BASE-EXAMPLE EXPECTED-LINE-PATTERN SED-SCRIPT: the variant made by SED-SCRIPT
# from a prepared copy of BASE-EXAMPLE must exit 2 with "FILE:LINE: " and the pattern.
refused() {
  local name=$1 base=$2 pattern=$3 script=$4
  local cfg=$WORK/broken-$name.conf
  prepare "$EXAMPLES/$base" "$cfg"
  sed -i "$script" "$cfg"
  local out rc
  out=$("$RMHAD" --check-config "$cfg" 2>&1)
  rc=$?
  if [ "$rc" -ne 2 ]; then
    fail "$name: exit $rc, expected 2:"
    sed 's/^/    /' <<<"$out"
  elif ! grep -Eq "^$cfg:[0-9]+: .*$pattern" <<<"$out"; then
    fail "$name: no '$cfg:LINE: ...$pattern' message in:"
    sed 's/^/    /' <<<"$out"
  else
    echo "ok refused $name: $(grep -E "^$cfg:[0-9]+: " <<<"$out" | head -1 | sed "s#^$WORK/##")"
  fi
}

refused unknown-key active-standby-vip.conf "unknown key 'heartbeat-intervall'" \
  '/^\[cluster\]/a heartbeat-intervall = 10'
refused bad-address active-standby-vip.conf "member.2 = '192.0.2.300' is not an address" \
  's/^member.2 = .*/member.2 = 192.0.2.300/'
refused dead-interval-too-small active-standby-vip.conf \
  "dead-interval = 10 ms is not comfortably above heartbeat-interval = 5 ms" \
  's/^dead-interval = .*/dead-interval = 10/'
refused other-active-in-active-standby active-standby-vip.conf \
  "other-active-rmnode-ip is only for ha-mode = active-active" \
  '/^\[cluster\]/a other-active-rmnode-ip = 192.0.2.12'
refused handover-below-dead active-standby-two-nic.conf \
  "handover-timeout = 20 ms is shorter than dead-interval = 25 ms" \
  's/^handover-timeout = .*/handover-timeout = 20/'
refused steering-in-active-active active-active-lb.conf \
  "in active-active the load balancer owns the traffic" \
  '/^\[cluster\]/a traffic-steering = vip'
refused sip-advertised-not-the-vip active-standby-vip.conf \
  "advertised-address 192.0.2.99 differs from cluster virtual-ip 192.0.2.10" \
  's/^advertised-address = .*/advertised-address = 192.0.2.99/'

# Every problem is reported at once, not only the first.
cfg=$WORK/broken-many.conf
prepare "$EXAMPLES/active-standby-vip.conf" "$cfg"
sed -i -e 's/^dead-interval = .*/dead-interval = 10/' -e 's/^member.2 = .*/member.2 = nowhere/' \
  -e '/^\[log\]/a colour = yes' "$cfg"
out=$("$RMHAD" --check-config "$cfg" 2>&1)
rc=$?
n=$(grep -Ec "^$cfg:[0-9]+: " <<<"$out")
if [ "$rc" -eq 2 ] && [ "$n" -ge 3 ]; then
  echo "ok refused many: $n problems reported at once"
else
  fail "many: exit $rc with $n file:line messages, expected 2 with at least 3:"
  sed 's/^/    /' <<<"$out"
fi

# A key file others can read is refused (the examples rely on mode 0600).
cfg=$WORK/broken-key-mode.conf
loose=$WORK/loose.key
head -c 32 /dev/urandom >"$loose"
chmod 644 "$loose"
prepare "$EXAMPLES/active-standby-vip.conf" "$cfg"
sed -i "s#^auth-key-file = .*#auth-key-file = $loose#" "$cfg"
out=$("$RMHAD" --check-config "$cfg" 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && grep -Eq "^$cfg:[0-9]+: auth-key-file .* is readable by others" <<<"$out"; then
  echo "ok refused key-mode-0644"
else
  fail "key-mode-0644: exit $rc:"
  sed 's/^/    /' <<<"$out"
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "ok all ${#examples[@]} examples valid, broken variants refused"
