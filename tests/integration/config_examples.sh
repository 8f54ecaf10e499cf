#!/usr/bin/env bash
# Every example configuration in docs/examples/ is accepted by `rmhad --check-config` (exit 0)
# (the Windows one is refused on Linux for its nlb line alone), what a path points at (empty
# file, directory, FIFO, oversize key) is refused, interfaces this host lacks are warnings,
# and broken variants of one are refused (exit 2) with a "FILE:LINE:" message.
#
#   RMHA_BIN=build/failover/daemon RMHA_SOURCE=. bash tests/integration/config_examples.sh
#
# Needs no root and no network: --check-config only reads files and lists this host's links. The examples name the key
# file /etc/rmha/peer.key; each copy here points at a temporary key (mode 0600, 32 random
# bytes) instead, and gets `local-member = 1` when it relies on finding its member address
# among this host's addresses.
set -uo pipefail

: "${RMHA_BIN:?set RMHA_BIN to the directory holding rmhad}"
: "${RMHA_SOURCE:?set RMHA_SOURCE to the repository root}"
RMHAD=$RMHA_BIN/rmhad
EXAMPLES=$RMHA_SOURCE/docs/examples

# The examples this test checks; every *.conf in docs/examples must be listed here (checked
# below), so a new example cannot be forgotten. windows-nlb.conf is for a Windows build: on
# Linux it must be refused for its traffic-steering = nlb line, and for nothing else.
examples=(
  standalone.conf
  active-standby-vip.conf
  active-standby-bond.conf
  active-standby-two-nic.conf
  active-active-lb.conf
  active-active-sipserver.conf
)
windows_only=(windows-nlb.conf)

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
  for e in "${examples[@]}" "${windows_only[@]}"; do
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

# --- the Windows example: on Linux, refused for nlb alone --------------------------------------
for e in "${windows_only[@]}"; do
  cfg=$WORK/$e
  prepare "$EXAMPLES/$e" "$cfg"
  out=$("$RMHAD" --check-config "$cfg" 2>&1)
  rc=$?
  line=$(grep -n '^traffic-steering = nlb' "$cfg" | cut -d: -f1)
  if [ "$rc" -eq 2 ] && [ "$(grep -c . <<<"$out")" -eq 1 ] &&
    grep -q "^$cfg:$line: traffic-steering = nlb: this Linux build has no Windows NLB steering; write traffic-steering = vip" <<<"$out"; then
    echo "ok refused on Linux $e: only its nlb line"
  else
    fail "$e: exit $rc, expected 2 with one message for line $line:"
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
  "dead-interval = 20 ms is not comfortably above heartbeat-interval = 10 ms" \
  's/^dead-interval = .*/dead-interval = 20/'
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
sed -i -e 's/^dead-interval = .*/dead-interval = 20/' -e 's/^member.2 = .*/member.2 = nowhere/' \
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

# --- what a path points at, and the host's interfaces ----------------------------------------
# expect NAME WANT-RC PATTERN -- ARGS...: rmhad ARGS exits WANT-RC, bounded by `timeout` (a
# FIFO that hung rmhad would end the test as a failure), with a line matching PATTERN.
expect() {
  local name=$1 want=$2 pattern=$3
  shift 4
  local out rc
  out=$(timeout 20 "$RMHAD" "$@" 2>&1)
  rc=$?
  if [ "$rc" -eq 124 ]; then
    fail "$name: rmhad hung (killed after 20 s)"
  elif [ "$rc" -ne "$want" ]; then
    fail "$name: exit $rc, expected $want:"
    sed 's/^/    /' <<<"$out"
  elif ! grep -Eq -- "$pattern" <<<"$out"; then
    fail "$name: no line matching '$pattern' in:"
    sed 's/^/    /' <<<"$out"
  else
    echo "ok $name: $(grep -E -- "$pattern" <<<"$out" | head -1 | sed "s#$WORK/##g")"
  fi
}

: >"$WORK/empty.conf"
expect empty-file 2 "^$WORK/empty.conf: holds no setting .*'\[cluster\]' with 'ha-mode = none'" \
  -- --check-config "$WORK/empty.conf"
printf '# nothing but comments\n[cluster]\n' >"$WORK/comments.conf"
expect comments-only 2 "^$WORK/comments.conf: holds no setting" -- --check-config "$WORK/comments.conf"
mkdir "$WORK/conf.d"
expect directory 2 "^$WORK/conf.d: is a directory, not a regular file; give the path of the configuration file itself" \
  -- --check-config "$WORK/conf.d"
mkfifo "$WORK/fifo.conf"
expect fifo-config 2 "^$WORK/fifo.conf: is a FIFO, not a regular file" -- --check-config "$WORK/fifo.conf"
expect fifo-config-at-start 2 "^$WORK/fifo.conf: is a FIFO, not a regular file" -- -c "$WORK/fifo.conf"

# key_variant NAME KEY-PATH: active-standby-vip.conf with auth-key-file = KEY-PATH.
key_variant() {
  local cfg=$WORK/key-$1.conf
  prepare "$EXAMPLES/active-standby-vip.conf" "$cfg"
  sed -i "s#^auth-key-file = .*#auth-key-file = $2#" "$cfg"
  echo "$cfg"
}
mkfifo "$WORK/fifo.key"
cfg=$(key_variant fifo "$WORK/fifo.key")
expect fifo-key 2 "^$cfg:[0-9]+: auth-key-file '$WORK/fifo.key' is a FIFO, not a regular file" \
  -- --check-config "$cfg"
# Sparse: 300 MiB on paper, no disk used; rmhad must refuse it without reading it.
truncate -s 300M "$WORK/huge.key" && chmod 600 "$WORK/huge.key"
cfg=$(key_variant huge "$WORK/huge.key")
expect oversize-key 2 "^$cfg:[0-9]+: auth-key-file '$WORK/huge.key' is 314572800 bytes, more than the 4096 allowed" \
  -- --check-config "$cfg"
: >"$WORK/empty.key" && chmod 600 "$WORK/empty.key"
cfg=$(key_variant empty "$WORK/empty.key")
expect empty-key 2 "^$cfg:[0-9]+: auth-key-file '$WORK/empty.key' is empty" -- --check-config "$cfg"

# An interface this host lacks is a warning with its line, and the check still passes.
cfg=$WORK/no-such-nic.conf
prepare "$EXAMPLES/active-standby-vip.conf" "$cfg"
sed -i -e 's/^vip-interface = .*/vip-interface = rmha-none0/' \
  -e 's/^monitor-nics = .*/monitor-nics = rmha-none1/' "$cfg"
expect missing-interface-warns 0 "^$cfg:[0-9]+: warning: vip-interface = rmha-none0: no interface of that name on this host" \
  -- --check-config "$cfg"
expect missing-nic-warns 0 "^$cfg:[0-9]+: warning: monitor-nics entry 'rmha-none1': no interface of that name" \
  -- --check-config "$cfg"
expect missing-interface-still-ok 0 "^$cfg: OK: " -- --check-config "$cfg"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "ok all ${#examples[@]} examples valid, broken variants refused"
