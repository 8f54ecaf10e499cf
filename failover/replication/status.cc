// The replicator's status for `rmhactl status`.
#include <algorithm>

#include "failover/replication/replicator.h"
#include "failover/replication/detail.h"

namespace rmha::failover {

using detail::hex;

// --- status ---------------------------------------------------------------------------------

std::string Replicator::stateName() const {
  if (!open_) {
    return "disconnected";
  }
  if (source_) {
    if (bulk_ || !peerPositionKnown_ || bulkAwaitAck_ != 0) {
      return "syncing";
    }
    return acked_ == seq_ ? "in-sync" : "behind";
  }
  return incoming_ || resyncRequested_ ? "syncing" : "in-sync";
}

nlohmann::json Replicator::status() const {
  Guard g(*this);
  auto lag = lagMs_;
  auto pct = [&lag](double q) -> nlohmann::json {
    if (lag.empty()) {
      return nullptr;
    }
    auto k = static_cast<std::size_t>(q * static_cast<double>(lag.size() - 1));
    std::nth_element(lag.begin(), lag.begin() + static_cast<std::ptrdiff_t>(k), lag.end());
    return lag[k];
  };
  const auto& c = counters_;
  nlohmann::json j = {
      {"role", source_ ? "source" : "sink"},
      {"state", stateName()},
      {"behind", source_ ? seq_ - acked_ : 0},
      {"stream", hex(source_ ? streamId_ : followStream_)},
      {"seq", seq_},
      {"acked_seq", acked_},
      {"applied_seq", applied_},
      {"sessions", mirror_.size()},
      {"backlog", backlog_.size()},
      {"backlog_limit", opt_.backlogLimit},
      {"lag_ms", {{"p50", pct(0.5)}, {"p99", pct(0.99)}, {"samples", lagMs_.size()}}},
      {"bulk", {{"running", bulk_.has_value()},
                {"last_ms", lastBulkMs_ < 0 ? nlohmann::json(nullptr) : nlohmann::json(lastBulkMs_)},
                {"last_sessions", lastBulkSessions_}}},
      {"counters", {{"records_sent", c.recordsSent}, {"records_resent", c.recordsResent},
                    {"records_applied", c.recordsApplied}, {"records_refused", c.recordsRefused},
                    {"duplicates_ignored", c.duplicatesIgnored},
                    {"backlog_overflows", c.backlogOverflows},
                    {"bulk_syncs_sent", c.bulkSyncsSent},
                    {"bulk_syncs_received", c.bulkSyncsReceived},
                    {"resyncs_requested", c.resyncsRequested},
                    {"resyncs_answered", c.resyncsAnswered}, {"resumes", c.resumes},
                    {"changes_coalesced", c.changesCoalesced},
                    {"ignored_as_source", c.ignoredAsSource}}}};
  if (!lastRefusal_.empty()) {
    j["last_refusal"] = lastRefusal_;
  }
  return j;
}

} // namespace rmha::failover
