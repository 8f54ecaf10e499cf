// What the HA state machine's tests share: a peer as it would appear in an event, the probe
// of a takeover, and an action list written as text so that a table can pin it.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include <fmt/format.h>

#include "failover/engine/machine.h"

namespace rmha::failover {

inline void PrintTo(HaState s, std::ostream* os) { *os << toString(s); }

} // namespace rmha::failover

namespace rmha::test {

using namespace rmha::failover;

/// The settings the table and the scenarios run with: 60 ms dead interval and election wait,
/// 500 ms handover timeout.
inline EngineSettings settings(int member, int priority = 100,
                               EngineSettings::Mode mode = EngineSettings::Mode::ActiveStandby) {
  using namespace std::chrono_literals;
  EngineSettings s;
  s.mode = mode;
  s.localMember = member;
  s.priority = priority;
  s.deadInterval = 60ms;
  s.handoverTimeout = 500ms;
  s.electionWait = 60ms;
  return s;
}

/// A fit peer (member `member`, priority 100) in `state`, as a heartbeat would report it.
inline PeerView peerAs(HaState state, std::uint32_t handoverId = 0, int member = 2) {
  PeerView p;
  p.member = static_cast<std::uint8_t>(member);
  p.state = state;
  p.priority = 100;
  p.fit = true;
  p.handoverId = handoverId;
  p.yielding = false;
  return p;
}

/// The event input of a heartbeat from a fit active member 1.
inline EventInput activePeer() {
  EventInput in;
  in.peer = peerAs(HaState::Active, 0, 1);
  return in;
}

/// The probe of the transition's AcquireTraffic, if it has one.
inline std::optional<action::AcquireTraffic::Probe> probeOf(const Transition& t) {
  for (const auto& a : t.actions) {
    if (const auto* acq = std::get_if<action::AcquireTraffic>(&a)) {
      return acq->probe;
    }
  }
  return std::nullopt;
}

inline std::string_view toString(action::AcquireTraffic::Probe p) {
  using P = action::AcquireTraffic::Probe;
  switch (p) {
  case P::Strict: return "strict";
  case P::AskPeer: return "ask-peer";
  case P::IgnorePeer: return "ignore-peer";
  case P::None: return "none";
  }
  return "?";
}

inline std::string_view toString(PeerMsgKind k) {
  switch (k) {
  case PeerMsgKind::Heartbeat: return "heartbeat";
  case PeerMsgKind::HandoverRequest: return "handover-request";
  case PeerMsgKind::HandoverReady: return "handover-ready";
  case PeerMsgKind::HandoverRefused: return "handover-refused";
  case PeerMsgKind::HandoverCommit: return "handover-commit";
  case PeerMsgKind::TakeoverRequest: return "takeover-request";
  case PeerMsgKind::ChannelHello: return "hello";
  }
  return "?";
}

/// The actions in order, one word each: "pause(close) await release send(handover-commit)". Texts
/// (reasons, command answers' wording) are left out; whether a command succeeded is not.
inline std::string actionList(const Transition& t) {
  std::string out;
  for (const auto& a : t.actions) {
    if (!out.empty()) {
      out += ' ';
    }
    std::visit(
        [&out](const auto& act) {
          using A = std::decay_t<decltype(act)>;
          if constexpr (std::is_same_v<A, action::AcquireTraffic>) {
            out += fmt::format("acquire({})", toString(act.probe));
          } else if constexpr (std::is_same_v<A, action::ReleaseTraffic>) {
            out += "release";
          } else if constexpr (std::is_same_v<A, action::ReassertTraffic>) {
            out += "reassert";
          } else if constexpr (std::is_same_v<A, action::Serve>) {
            out += "serve";
          } else if constexpr (std::is_same_v<A, action::Pause>) {
            out += act.closeConnections ? "pause(close)" : "pause";
          } else if constexpr (std::is_same_v<A, action::Refuse>) {
            out += "refuse";
          } else if constexpr (std::is_same_v<A, action::AwaitService>) {
            out += "await";
          } else if constexpr (std::is_same_v<A, action::PrepareHandover>) {
            out += "prepare-handover";
          } else if constexpr (std::is_same_v<A, action::SendToPeer>) {
            out += fmt::format("send({})", toString(act.kind));
          } else if constexpr (std::is_same_v<A, action::CompleteCommand>) {
            out += act.ok ? "answer(ok)" : "answer(refused)";
          } else if constexpr (std::is_same_v<A, action::RunSelfTest>) {
            out += "self-test";
          } else {
            static_assert(sizeof(A) == 0, "a new action needs its word here");
          }
        },
        a);
  }
  return out;
}

/// Drives one machine on simulated time, remembering the handover id it last sent so that
/// answers can match it.
struct Driver {
  explicit Driver(EngineSettings s) : m(std::move(s)) {}
  HaStateMachine m;
  core::MonotonicTime now = core::MonotonicTime{} + std::chrono::hours(1);
  std::uint32_t lastSentId = 0;
  Transition last;

  Transition fire(HaEvent e, EventInput in = {}) {
    last = m.onEvent(e, in, now);
    for (const auto& a : last.actions) {
      if (const auto* send = std::get_if<action::SendToPeer>(&a); send && send->handoverId) {
        lastSentId = send->handoverId;
      }
    }
    return last;
  }
  Transition peer(HaEvent e, PeerView p) {
    EventInput in;
    in.peer = p;
    return fire(e, in);
  }
};

} // namespace rmha::test
