#include "failover/daemon/status_json.h"

#include <cstring>
#include <string>

#include "core/log.h"

namespace rmha::daemon {

using nlohmann::json;

json peerCountersJson(const failover::PeerLinkCounters& k) {
  json drops = json::object();
  for (int i = 0; i < failover::kPeerDropCount; ++i) {
    drops[std::string(failover::toString(static_cast<failover::PeerDrop>(i)))] =
        k.dropped[static_cast<std::size_t>(i)];
  }
  return {{"sent", k.sent},           {"received", k.received},
          {"send_errors", k.sendErrors}, {"dropped", drops},
          {"channel_ups", k.channelUps}, {"channel_downs", k.channelDowns}};
}

json controlCountersJson(const core::ControlCounters& c) {
  return {{"clients", c.clients},             {"accepted", c.accepted},
          {"refused_full", c.refusedFull},    {"evicted_idle", c.evictedIdle},
          {"refused_no_fds", c.refusedNoFds}, {"accept_failures", c.acceptFailures},
          {"accept_backoffs", c.acceptBackoffs}, {"request_timeouts", c.requestTimeouts},
          {"idle_timeouts", c.idleTimeouts},  {"oversized", c.oversized}};
}

json logCountersJson() {
  const auto lc = core::Log::counters();
  return {{"written", lc.written},         {"dropped", lc.dropped},
          {"write_errors", lc.writeErrors}, {"format_errors", lc.formatErrors},
          {"queued", lc.queued},
          {"last_write_error", lc.lastWriteError ? std::strerror(lc.lastWriteError) : ""}};
}

} // namespace rmha::daemon
