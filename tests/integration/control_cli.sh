#!/usr/bin/env bash
# rmhactl and the control protocol against a running daemon (stand-alone, no [sip]): status
# prints on a node that sends no replication or sip fields; a mistyped command is named;
# --version; a wait with timeout_ms = 2^63-1 is refused and the daemon lives on; a refused
# reload exits non-zero.
source "$RMHA_SOURCE/tests/integration/lib/check.sh"

lab_init
lab_ns node1
cat >"$LAB_DIR/node1.conf" <<CONF
[control]
socket = $LAB_DIR/node1.sock
CONF
pair_start 1

out=$(pair_ctl 1 status) || fail "rmhactl status failed: $out"
grep -q "^role         standalone" <<<"$out" || fail "unexpected status: $out"
ok "status of a node without [sip] prints"

set +e
out=$(pair_ctl 1 bogus 2>&1); rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "unknown command 'bogus'; the commands are status," <<<"$out" ||
  fail "rmhactl bogus: exit $rc: $out"
for p in rmhactl rmhad; do
  v=$("$RMHA_BIN/$p" --version) || fail "$p --version failed"
  grep -Eq "^$p [0-9]+\.[0-9]+\.[0-9]+" <<<"$v" || fail "$p --version: $v"
done
ok "rmhactl bogus names the command (exit 2); --version: $v"

answer=$(python3 - "$LAB_DIR/node1.sock" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1]); f = s.makefile("rw")
f.write(json.dumps({"cmd": "wait", "role": "active", "timeout_ms": 2**63 - 1}) + "\n"); f.flush()
print(f.readline().strip())
PY
)
grep -q "at most 3600000" <<<"$answer" || fail "huge wait timeout: $answer"
pair_ctl 1 status >/dev/null || fail "the daemon died after the huge wait timeout"
kill -0 "$PAIR_PID1" || fail "rmhad exited"
ok "wait with timeout_ms = 2^63-1 refused ($answer); the daemon lives on"

# A [control] change needs a restart: the reload is refused and rmhactl exits 1.
echo "max-clients = 8" >>"$LAB_DIR/node1.conf"
set +e
out=$(pair_ctl 1 reload 2>&1); rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "need a restart" <<<"$out" || fail "refused reload: exit $rc: $out"
ok "a refused reload exits 1: $out"
