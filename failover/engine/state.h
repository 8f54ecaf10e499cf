#pragma once
// The HA engine's states and events, with names for logs, status and tests.
#include <cstdint>
#include <string_view>

#include <fmt/format.h>

namespace rmha::failover {

enum class HaState : std::uint8_t {
  Init = 0,     ///< not started
  Standalone,   ///< ha-mode = none: serves, no peer
  Waiting,      ///< HA start: listening for the peer before electing
  Standby,      ///< fit, not serving, ready to take over
  TakingOver,   ///< claiming the traffic (probe, VIP, GARP); serves once acquired
  Active,       ///< owns the traffic and serves
  HandingOver,  ///< active, handing the role to the peer (make-before-break)
  Maintenance,  ///< operator: never becomes active
  Fault,        ///< unfit (NICs down, self-test failed, claim failed): never becomes active
  Terminated,   ///< shut down
};
inline constexpr int kHaStateCount = 10;

enum class HaEvent : std::uint8_t {
  Start = 0,
  PeerHeartbeat,
  PeerHandoverRequest,
  PeerHandoverReady,
  PeerHandoverRefused,
  PeerHandoverCommit,
  PeerTakeoverRequest,
  PeerChannelDown,
  Tick,
  LinkDown,
  LinkUp,
  SteeringAcquired,
  SteeringFailed,
  TrafficConflict,
  OperatorFailover,
  OperatorTakeover,
  MaintenanceOn,
  MaintenanceOff,
  Shutdown,
  SelfTest,        ///< the answer to RunSelfTest (EventInput::selfTest)
  InternalError,   ///< the shell could not apply a transition (EventInput::detail says why)
  HandoverPrepared, ///< the answer to PrepareHandover (EventInput::prepared, detail)
  /// The absorbing after a release has lasted handover-timeout (at pauseDeadline()). Not a
  /// Tick: it changes only what the service does, never the role.
  PauseEnded,
};
inline constexpr int kHaEventCount = 23;

/// What a peer-link message is for. Every message also carries the sender's state.
enum class PeerMsgKind : std::uint8_t {
  Heartbeat = 1,       ///< periodic, and at once on every state change
  HandoverRequest = 2, ///< active -> standby: are you ready to take over?
  HandoverReady = 3,   ///< standby -> active: ready; release and commit
  HandoverRefused = 4, ///< standby -> active: not ready (unfit, maintenance, ...)
  HandoverCommit = 5,  ///< active -> standby: released; take the traffic now
  TakeoverRequest = 6, ///< standby -> active: please hand over to me
  ChannelHello = 7,    ///< first frame on the TCP channel, both ways
};
inline constexpr std::uint8_t kMaxPeerMsgKind = 7;

constexpr std::string_view toString(HaState s) {
  switch (s) {
  case HaState::Init: return "init";
  case HaState::Standalone: return "standalone";
  case HaState::Waiting: return "waiting";
  case HaState::Standby: return "standby";
  case HaState::TakingOver: return "taking-over";
  case HaState::Active: return "active";
  case HaState::HandingOver: return "handing-over";
  case HaState::Maintenance: return "maintenance";
  case HaState::Fault: return "fault";
  case HaState::Terminated: return "terminated";
  }
  return "unknown";
}

constexpr std::string_view toString(HaEvent e) {
  switch (e) {
  case HaEvent::Start: return "start";
  case HaEvent::PeerHeartbeat: return "peer-heartbeat";
  case HaEvent::PeerHandoverRequest: return "peer-handover-request";
  case HaEvent::PeerHandoverReady: return "peer-handover-ready";
  case HaEvent::PeerHandoverRefused: return "peer-handover-refused";
  case HaEvent::PeerHandoverCommit: return "peer-handover-commit";
  case HaEvent::PeerTakeoverRequest: return "peer-takeover-request";
  case HaEvent::PeerChannelDown: return "peer-channel-down";
  case HaEvent::Tick: return "tick";
  case HaEvent::LinkDown: return "link-down";
  case HaEvent::LinkUp: return "link-up";
  case HaEvent::SteeringAcquired: return "steering-acquired";
  case HaEvent::SteeringFailed: return "steering-failed";
  case HaEvent::TrafficConflict: return "traffic-conflict";
  case HaEvent::OperatorFailover: return "operator-failover";
  case HaEvent::OperatorTakeover: return "operator-takeover";
  case HaEvent::MaintenanceOn: return "maintenance-on";
  case HaEvent::MaintenanceOff: return "maintenance-off";
  case HaEvent::Shutdown: return "shutdown";
  case HaEvent::SelfTest: return "self-test";
  case HaEvent::InternalError: return "internal-error";
  case HaEvent::HandoverPrepared: return "handover-prepared";
  case HaEvent::PauseEnded: return "pause-ended";
  }
  return "unknown";
}

/// True in the states where this node owns (or is claiming) the traffic.
constexpr bool ownsTraffic(HaState s) {
  return s == HaState::Active || s == HaState::HandingOver || s == HaState::TakingOver ||
         s == HaState::Standalone;
}

/// What the node does with new requests (the serving sub-state, kept by the machine).
enum class Serving : std::uint8_t {
  Refuse = 0,  ///< not serving: new calls get 503, OPTIONS 503
  Pause,       ///< the role is moving: new requests are absorbed (their retransmission
               ///< reaches the node that serves next), calls in progress kept
  Serve,       ///< taking new calls
};

constexpr std::string_view toString(Serving s) {
  switch (s) {
  case Serving::Refuse: return "refuse";
  case Serving::Pause: return "pause";
  case Serving::Serve: return "serve";
  }
  return "unknown";
}

/// A state byte from the wire; false when it names no state.
constexpr bool haStateFromByte(std::uint8_t b, HaState& out) {
  if (b >= kHaStateCount) {
    return false;
  }
  out = static_cast<HaState>(b);
  return true;
}

} // namespace rmha::failover

template <> struct fmt::formatter<rmha::failover::HaState> : fmt::formatter<std::string_view> {
  auto format(rmha::failover::HaState s, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(toString(s), ctx);
  }
};
template <> struct fmt::formatter<rmha::failover::HaEvent> : fmt::formatter<std::string_view> {
  auto format(rmha::failover::HaEvent e, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(toString(e), ctx);
  }
};
