#pragma once
// The HA engine's shell: feeds events to the pure state machine, applies its actions through
// the seams in the order it returns them, keeps the timers (heartbeats, deadlines) and the
// record an operator reads. Everything here runs on the HA thread.
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/ports.h"
#include "core/timer.h"
#include "failover/engine/machine.h"
#include "failover/engine/peer_port.h"

namespace rmha::failover {

struct HaServiceOptions {
  EngineSettings engine;
  core::Duration heartbeatInterval = core::Millis{10};
  std::string modeName;       ///< for status: none / active-standby / active-active
  /// Graceful handover: how long the active waits for the standby to hold every session.
  core::Duration handoverSyncTimeout = std::chrono::seconds(5);
  /// A timer of this node that fires later than this means the node itself was stalled
  /// (0: half the dead interval).
  core::Duration stallThreshold{};
};

/// Graceful handover (session replication): before an operator failover or maintenance
/// hands the role over, the active stops taking new calls and asks the gate to wait until
/// the standby has acknowledged every session.
class HandoverGate {
public:
  virtual ~HandoverGate() = default;
  /// Runs `done(true, "")` once the peer holds every session, or `done(false, why)` (time
  /// out, channel lost). Called on the HA thread; `done` runs on the HA thread.
  virtual void prepareHandover(core::Duration timeout,
                               std::function<void(bool ok, const std::string& why)> done) = 0;
};

/// One logged transition, kept for status and timelines.
struct TransitionRecord {
  std::int64_t timeUs = 0;    ///< wall clock, µs since the epoch
  HaState from = HaState::Init;
  HaState to = HaState::Init;
  std::string event;
  std::string reason;
};

using CommandDone = std::function<void(bool ok, const std::string& message)>;

class HaService final : public PeerEvents, public core::LinkEvents, public core::SteeringEvents {
public:
  HaService(HaServiceOptions options, const core::TimeSource& time, core::TimerFactory& timers,
            PeerTransport* peer, core::TrafficSteering& steering, core::LinkMonitor& links,
            core::ServiceControl& service, const core::SessionStore& sessions);

  /// Starts the engine: clears stale traffic, feeds Start, begins heartbeats.
  void start();
  /// Releases what we own, tells the peer, stops the timers; then `done` (at once, or once
  /// the service has closed its connections, at most 50 ms later, on this thread).
  void shutdown(std::function<void()> done = {});
  /// An operator command (OperatorFailover, OperatorTakeover, MaintenanceOn/Off). `done`
  /// runs once, possibly later (a handover waits for the peer). One command at a time.
  void command(HaEvent event, CommandDone done);

  HaState state() const { return machine_.state(); }
  /// Called after every transition (for waiters on the control socket).
  void setTransitionObserver(std::function<void(const TransitionRecord&)> observer) {
    observer_ = std::move(observer);
  }
  nlohmann::json status() const;
  const std::deque<TransitionRecord>& history() const { return history_; }
  /// Sets (or clears) the graceful-handover gate. Without one, handovers start at once.
  void setHandoverGate(HandoverGate* gate);

  // PeerEvents
  void onPeerMessage(const PeerMessage& m, int path) override;
  void onPeerChannel(bool up) override;
  // LinkEvents
  void onLinkHealth(bool healthy, const std::string& reason) override;
  void onBondActiveSlaveChanged(const std::string& bond, const std::string& slave) override;
  // SteeringEvents
  void onTrafficConflict(const std::string& otherMac) override;

private:
  void feed(HaEvent event, const EventInput& input = {});
  void drain();
  void step(HaEvent e, const EventInput& in);
  void failSafe(const std::string& step, const std::string& what, bool inSafeState);
  void apply(const Transition& t, HaEvent event);
  void runActions(const std::vector<Action>& actions, bool changed);
  /// True: the actions after this one wait for the service (AwaitService before a release).
  bool applyAction(const Action& a);
  /// Asks the service to say when it has done what was asked; true if that is later.
  bool holdForService();
  void resume(bool inTime);  ///< runs the held actions (the service answered, or the bound)
  void sendToPeer(PeerMsgKind kind, std::uint32_t handoverId);
  void onHeartbeatTimer();
  void armDeadline();
  void noticeStall();
  core::Duration overdue() const;  ///< how late the most overdue timer of ours is now
  void notePeerGap(core::MonotonicTime now);
  void record(const Transition& t, HaEvent event);
  void prepareHandover();  ///< PrepareHandover: asks the gate, answers HandoverPrepared
  void completeCommand(bool ok, const std::string& message);
  core::SelfTestResult selfTest();  ///< the steering's self-test, logged

  HaServiceOptions options_;
  const core::TimeSource& time_;
  PeerTransport* peer_;
  core::TrafficSteering& steering_;
  core::LinkMonitor& links_;
  core::ServiceControl& service_;
  const core::SessionStore& sessions_;
  HaStateMachine machine_;
  core::TimerPtr heartbeatTimer_;
  core::TimerPtr deadlineTimer_;
  core::TimerPtr commandTimer_;
  core::TimerPtr pauseTimer_;  ///< delivers PauseEnded at the machine's pauseDeadline()
  std::deque<std::pair<HaEvent, EventInput>> queue_;
  /// The rest of a transition's actions, waiting for the service (at most kServiceBound).
  struct Held {
    std::vector<Action> rest;
    bool changed = false;
    bool safeState = false; ///< the rest of an InternalError's actions
  };
  bool applyingSafeState_ = false; ///< step() is applying an InternalError transition
  static constexpr core::Duration kServiceBound = core::Millis{50};
  std::optional<Held> held_;
  core::TimerPtr holdTimer_;
  std::uint64_t holdGeneration_ = 0;
  bool awaitingService_ = false;
  bool serviceDoneAtOnce_ = false;
  std::uint64_t slowServiceAnswers_ = 0;
  std::function<void()> shutdownDone_;
  bool feeding_ = false;
  bool heartbeatSent_ = false;
  std::uint64_t lastPeerSessions_ = 0;
  CommandDone pendingCommand_;
  std::uint64_t acquireGeneration_ = 0;
  bool channelUp_ = false;
  int lastPath_ = -1;
  std::uint64_t transitions_ = 0;
  std::uint64_t reasserts_ = 0;
  std::deque<TransitionRecord> history_;
  std::function<void(const TransitionRecord&)> observer_;
  HandoverGate* gate_ = nullptr;
  std::uint64_t gateGeneration_ = 0;
  std::string linkReason_;
  std::string lastDecision_;
  core::MonotonicTime lastDecisionLogged_{};
  core::MonotonicTime lastReassert_{};
  // Stall detection: when each timer was due, and the last stall episode seen.
  std::optional<core::MonotonicTime> heartbeatDue_;
  std::optional<core::MonotonicTime> deadlineDue_;
  core::MonotonicTime lastStallEnd_{};
  core::MonotonicTime lastStallLogged_{};
  std::uint64_t stalls_ = 0;
  core::Duration worstStall_{};
  core::Duration lastStall_{};
  // The peer's heartbeats as this node heard them (any path).
  std::optional<core::MonotonicTime> lastPeerMessage_;
  core::Duration worstPeerGap_{};
  std::uint64_t peerAnswers_ = 0;  ///< probes the silent peer answered (takeover held back)
};

} // namespace rmha::failover
