// The HA engine's status as `rmhactl status` shows it: role, fitness, peer, NICs, timers and
// counters, read on the HA thread.
#include "failover/engine/service.h"

namespace rmha::failover {

nlohmann::json HaService::status() const {
  using nlohmann::json;
  const auto now = time_.monotonicTime();
  const auto& s = options_.engine;
  json j;
  j["node"] = {{"member", s.localMember}, {"priority", s.priority}, {"mode", options_.modeName},
               {"preempt", s.preempt}};
  j["role"] = std::string(toString(machine_.state()));
  j["fit"] = machine_.fit();
  // Fit: why it is (the NICs' state); unfit: the sentence that says what to fix.
  j["fit_reason"] = machine_.fit() ? linkReason_ : machine_.unfitReason();
  j["claim_failures"] = machine_.claimFailures();
  j["internal_errors"] = machine_.internalErrors();
  j["serving"] = machine_.serving() == Serving::Serve;
  j["serving_mode"] = std::string(toString(machine_.serving()));
  j["sessions"] = sessions_.sessionCount();
  j["steering"] = steering_.describe();
  json transitions = json::array();
  for (const auto& r : history_) {
    transitions.push_back({{"time_us", r.timeUs}, {"from", std::string(toString(r.from))},
                           {"to", std::string(toString(r.to))}, {"event", r.event},
                           {"reason", r.reason}});
  }
  j["last_transition"] = transitions.empty() ? json(nullptr) : transitions.back();
  j["transitions"] = transitions;
  const auto& p = machine_.peer();
  json peer = {{"known", machine_.peerKnown()}, {"channel", channelUp_ ? "up" : "down"}};
  if (machine_.peerKnown()) {
    peer["member"] = p.member;
    peer["role"] = std::string(toString(p.state));
    peer["priority"] = p.priority;
    peer["fit"] = p.fit;
    peer["fit_reason"] = p.fit ? std::string() : "peer unfit: " + std::string(core::describe(p.unfitCode));
    peer["alive"] = machine_.peerAlive(now);
    peer["last_heard_ms"] = core::toMillis(now - machine_.peerLastHeard());
    peer["last_path"] = lastPath_;
    peer["sessions"] = lastPeerSessions_;
  }
  j["peer"] = peer;
  if (!machine_.fit() && machine_.peerAlive(now) && !p.fit) {
    j["pair_warning"] = "neither node is fit: nobody holds the traffic";
  }
  json nics = json::array();
  for (const auto& n : links_.nics()) {
    nics.push_back({{"selector", n.selector}, {"name", n.name}, {"mac", n.mac},
                    {"admin_up", n.adminUp}, {"lower_up", n.lowerUp}, {"healthy", n.healthy},
                    {"bond_active_slave", n.bondActiveSlave}});
  }
  j["nics"] = nics;
  j["timers"] = {{"heartbeat_interval_ms", core::toMillis(options_.heartbeatInterval)},
                 {"dead_interval_ms", core::toMillis(s.deadInterval)},
                 {"dead_interval_max_ms", core::toMillis(s.deadIntervalMax)},
                 {"dead_interval_now_ms", core::toMillis(machine_.deadInterval(now))},
                 {"recent_worst_gap_ms", core::toMillis(machine_.silence().worstRecentGap(now))},
                 {"stall_threshold_ms", core::toMillis(options_.stallThreshold)},
                 {"peer_answer_wait_ms", core::toMillis(s.peerAnswerWait)}};
  j["counters"] = {{"transitions", transitions_},
                   {"reasserts", reasserts_},
                   {"stalls", stalls_},
                   {"last_stall_ms", core::toMillis(lastStall_)},
                   {"worst_stall_ms", core::toMillis(worstStall_)},
                   {"worst_heartbeat_gap_ms", core::toMillis(worstPeerGap_)},
                   {"probe_answered_by_peer", peerAnswers_},
                   {"service_answers_over_bound", slowServiceAnswers_}};
  return j;
}

} // namespace rmha::failover
