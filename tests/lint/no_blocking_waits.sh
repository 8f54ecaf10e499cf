#!/usr/bin/env bash
# The HA thread never waits for another thread: no future, promise or condition variable, no
# bounded wait and no sleep anywhere in the product's code (core, failover, netlink, winnlb).
# Work for another thread is posted to it, and its answer is posted back (a completion), as
# SteeringDone and ServiceControl::whenDone are. Joining a thread at exit, after the HA loop
# has ended, is not a wait of the HA thread and is not matched.
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"
pattern='std::(future|shared_future|promise|packaged_task|condition_variable)|\.wait_for\(|\.wait_until\(|\.get_future\(|sleep_for|sleep_until|\busleep\(|\bnanosleep\(|\bsleep\('
rc=0
hits=$(grep -rnE "$pattern" --include='*.cc' --include='*.h' \
  "$root/core" "$root/failover" "$root/netlink" "$root/winnlb") || rc=$?
if [ "$rc" -eq 0 ]; then
  echo "blocking waits in the product's code (post the work and its completion instead):"
  echo "$hits" | sed "s|$root/||"
  exit 1
elif [ "$rc" -ne 1 ]; then
  echo "could not search the sources under $root" >&2
  exit 2
fi
echo "no blocking waits in core, failover, netlink, winnlb"
