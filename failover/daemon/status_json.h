#pragma once
// The counter blocks of `rmhactl status` (docs/control-protocol.md), one function per source,
// so that each thread adds the blocks it may read.
#include <nlohmann/json.hpp>

#include "core/control_server.h"
#include "failover/peer/link.h"

namespace rmha::daemon {

/// counters.peer: the HA thread's peer link.
nlohmann::json peerCountersJson(const failover::PeerLinkCounters& k);
/// counters.control: atomic snapshots, any thread.
nlohmann::json controlCountersJson(const core::ControlCounters& c);
/// counters.log: atomic snapshots, any thread.
nlohmann::json logCountersJson();

} // namespace rmha::daemon
