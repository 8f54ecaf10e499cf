#pragma once
// The HA engine's decisions, as a pure state machine: no I/O, no clock reads, no threads.
// Each event comes with `now`; the machine returns a Transition (next state, the actions the
// shell must apply in order, a reason) and tells when it next needs a Tick.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/ports.h"
#include "core/time_source.h"
#include "failover/engine/state.h"
#include "failover/engine/silence_threshold.h"

namespace rmha::failover {

struct EngineSettings {
  enum class Mode { Standalone, ActiveStandby, ActiveActive };
  Mode mode = Mode::Standalone;
  int localMember = 1;          ///< 1 or 2
  int priority = 100;           ///< higher wins elections
  bool preempt = false;         ///< take the active role back from a lower-ranked active
  core::Duration deadInterval = core::Millis{25};
  /// The ceiling of the adaptive dead interval (SilenceThreshold): while the peer's recent
  /// heartbeat gaps are long, a silence counts as death only after 3/2 of the worst of them,
  /// up to this. At or below deadInterval: no adaptation.
  core::Duration deadIntervalMax{};
  core::Duration handoverTimeout = core::Millis{500};
  core::Duration electionWait = core::Millis{25};
  /// After a failed claim the node is unfit (Fault) for this long, doubling with each failed
  /// claim in a row up to claimBackoffMax; then it re-runs the self-test.
  core::Duration claimBackoffMin = std::chrono::seconds(1);
  core::Duration claimBackoffMax = std::chrono::seconds(30);
  /// A silent peer whose own MAC still answered the takeover probe gets this much longer to
  /// send a heartbeat before the claim goes ahead anyway (its kernel is up: its process may be
  /// stalled, not dead).
  core::Duration peerAnswerWait = core::Millis{10};
};

/// What the peer's last authenticated message said.
struct PeerView {
  int member = 0;
  HaState state = HaState::Init;
  int priority = 0;
  bool fit = false;
  bool yielding = false;        ///< it just handed over and must not win an election
  std::uint32_t handoverId = 0;
  core::UnfitCode unfitCode = core::UnfitCode::None; ///< why it is unfit (when !fit)
  bool claimFailed = false;     ///< its last claim failed: it does not win an election
};

/// The data that comes with an event.
struct EventInput {
  PeerView peer;                ///< for the Peer* events
  bool fit = true;              ///< for Start: is the node fit (NICs up)?
  std::string detail;           ///< reason text: link, conflict MAC, steering error, refusal
  core::SelfTestResult selfTest; ///< for Start and SelfTest: can this node claim at all?
  /// For Tick: this node itself was stalled (a timer fired this late, or the monotonic clock
  /// jumped); zero when it was not. The silence of that time is not the peer's.
  core::Duration stalledFor{};
  /// For SteeringFailed: the probe was answered from the peer's own address (AskPeer).
  bool peerAnswered = false;
  /// For HandoverPrepared: the standby holds every session (false: detail says why not).
  bool prepared = false;
};

namespace action {
/// Probe, claim and announce; the shell answers with SteeringAcquired or SteeringFailed.
struct AcquireTraffic {
  enum class Probe {
    Strict,       ///< the peer was never heard: even its answers are a conflict
    AskPeer,      ///< the peer was heard and went silent: its answer means its kernel is up;
                  ///< the shell answers SteeringFailed with peerAnswered, not a claim
    IgnorePeer,   ///< as AskPeer, after the wait (or by operator order): its answers are its
                  ///< leftover VIP, the claim goes ahead
    None,         ///< the peer let go (said so, or its process is gone): no probe
  };
  Probe probe = Probe::Strict;
};
struct ReleaseTraffic {};
struct ReassertTraffic {};    ///< re-announce what we own
// The serving sub-state (Serving): the machine says what the service does with new requests.
struct Serve {};              ///< take new calls
/// Absorb new requests while the role moves; with closeConnections (a node that served),
/// its connections close as with Refuse.
struct Pause {
  bool closeConnections = false;
};
struct Refuse {};             ///< answer new calls 503; connections close, calls in progress kept
/// The actions after this one wait until the service has done what was asked before it
/// (connections closed), at most a short bound: a release lets the traffic go only after.
struct AwaitService {};
/// Graceful handover: ask the standby to acknowledge every session; the shell answers with
/// HandoverPrepared.
struct PrepareHandover {};
struct SendToPeer {
  PeerMsgKind kind = PeerMsgKind::Heartbeat;
  std::uint32_t handoverId = 0;
  std::string detail;
};
struct CompleteCommand {      ///< answer the operator command in progress
  bool ok = false;
  std::string message;
};
/// Run the steering self-test; the shell answers with SelfTest.
struct RunSelfTest {};
} // namespace action

using Action = std::variant<action::AcquireTraffic, action::ReleaseTraffic,
                            action::ReassertTraffic, action::Serve, action::Pause,
                            action::Refuse, action::AwaitService, action::PrepareHandover,
                            action::SendToPeer, action::CompleteCommand, action::RunSelfTest>;

struct Transition {
  HaState from = HaState::Init;
  HaState to = HaState::Init;
  std::vector<Action> actions;
  std::string reason;           ///< why, for the log and status ("" when nothing happened)
  bool changed() const { return from != to; }
};

class HaStateMachine {
public:
  explicit HaStateMachine(EngineSettings settings);

  /// Feeds one event. Never throws for any (state, event) pair.
  Transition onEvent(HaEvent event, const EventInput& input, core::MonotonicTime now);

  HaState state() const { return state_; }
  /// When the shell must deliver the next Tick (dead peer, election, handover deadlines):
  /// the earliest deadline after `now`; deadlines already passed were handled by the event
  /// that brought `now`.
  std::optional<core::MonotonicTime> nextDeadline(core::MonotonicTime now) const;

  bool peerAlive(core::MonotonicTime now) const;
  /// How long the peer may be silent at `now` before it counts lost: the dead interval,
  /// raised by its recent heartbeat gaps (SilenceThreshold).
  core::Duration deadInterval(core::MonotonicTime now) const { return silence_.current(now); }
  const SilenceThreshold& silence() const { return silence_; }
  /// Until when this node's own stall keeps the peer counted alive ({} when no grace runs).
  core::MonotonicTime stallGraceUntil() const { return stallGraceUntil_; }
  bool peerKnown() const { return peerHeard_; }
  const PeerView& peer() const { return peer_; }
  core::MonotonicTime peerLastHeard() const { return peerLastHeard_; }
  /// Fit = NICs healthy, self-test passed, and no claim failure or internal error whose
  /// back-off still runs.
  bool fit() const { return fit_ && selfTest_.ok() && !claimUnfit_ && !internalUnfit_; }
  /// Why the node is unfit (None when fit); the first of: self-test, claim failure, NICs.
  core::UnfitCode unfitCode() const;
  /// The same as a sentence for status and the log ("" when fit).
  std::string unfitReason() const;
  /// Claims that failed in a row (reset by a successful claim).
  int claimFailures() const { return claimFailures_; }
  /// Transitions the shell could not apply (InternalError events) since start.
  int internalErrors() const { return internalErrors_; }
  bool yielding() const { return yielding_; }
  const EngineSettings& settings() const { return settings_; }
  /// What the service does with new requests now.
  Serving serving() const { return serving_; }
  /// Graceful handover: an operator failover or maintenance first holds new calls back and
  /// asks for PrepareHandover (the shell has a gate that waits for session replication).
  void setHandoverSync(bool on) { handoverSync_ = on; }
  /// When the shell must deliver PauseEnded: the end of the absorbing after a release. Apart
  /// from nextDeadline because it must not run the election: a node that lost a conflict to
  /// a peer it cannot hear stays standby until something about the peer changes.
  std::optional<core::MonotonicTime> pauseDeadline() const;
  /// A graceful handover waits for HandoverPrepared.
  bool preparingHandover() const { return preparing_; }

private:
  struct Ctx;
  void recordPeer(const EventInput& in, HaEvent e, core::MonotonicTime now);
  void recordStall(core::Duration stalledFor, core::MonotonicTime now);
  bool waitingForAnsweredPeer(core::MonotonicTime now) const;

  void dispatch(Ctx& c);  ///< to the handler of the current state
  void onInit(Ctx& c);
  void onStandalone(Ctx& c);
  void onWaitingOrStandby(Ctx& c);
  void onTakingOver(Ctx& c);
  void onActive(Ctx& c);
  void onHandingOver(Ctx& c);
  void onMaintenance(Ctx& c);
  void onFault(Ctx& c);

  // Shared rules.
  void evaluate(Ctx& c, const std::string& why);
  void beginTakeover(Ctx& c, const std::string& why);
  void releaseTo(Ctx& c, HaState next, const std::string& why);
  void resolveDualActive(Ctx& c, const std::string& what);
  void startHandover(Ctx& c, HaState onSuccess);
  void answerHandoverRequest(Ctx& c);
  void requestTakeover(Ctx& c);
  void refuseCommand(Ctx& c, std::string message);
  void prepareHandover(Ctx& c, HaState onSuccess);
  void onHandoverPrepared(Ctx& c);
  // The serving sub-state (serving.cc): every change of what the service does goes through
  // these, so that the order of serving, pausing and refusing is in one place.
  void serve(Ctx& c);
  void pause(Ctx& c, bool closeConnections);
  void refuse(Ctx& c);
  void leaveServing(Ctx& c);
  void servingBeforeEvent(Ctx& c);
  void servingAfterEvent(Ctx& c);
  bool peerServes(core::MonotonicTime now) const;
  bool outranksPeer() const;
  bool winsAgainstIdlePeer(std::string& rule) const;
  bool peerClaimsTraffic(core::MonotonicTime now) const;
  bool activeActive() const { return settings_.mode == EngineSettings::Mode::ActiveActive; }
  void claimFailed(Ctx& c);
  void internalError(Ctx& c);
  /// Unfit for a reason that a back-off and a self-test end (not the NICs).
  bool retestable() const { return claimUnfit_ || internalUnfit_ || !selfTest_.ok(); }
  void retest(Ctx& c);
  void onSelfTest(Ctx& c);

  EngineSettings settings_;
  HaState state_ = HaState::Init;
  bool fit_ = true;                     ///< NIC health (LinkUp / LinkDown)
  std::string linkProblem_;
  core::SelfTestResult selfTest_;       ///< the last self-test's answer
  bool claimUnfit_ = false;             ///< a claim failed; unfit until retested
  std::string claimProblem_;
  int claimFailures_ = 0;
  bool internalUnfit_ = false;          ///< a transition could not be applied; until retested
  std::string internalProblem_;
  int internalErrors_ = 0;
  core::Duration backoff_{};            ///< the current back-off before a retest
  core::MonotonicTime retestAt_{};      ///< Fault: when to re-run the self-test
  bool retestPending_ = false;          ///< RunSelfTest sent, SelfTest not yet back
  PeerView peer_;
  bool peerHeard_ = false;
  bool peerGone_ = false;               ///< channel closed / terminated since last heard
  core::MonotonicTime peerLastHeard_{};
  SilenceThreshold silence_;            ///< the adaptive dead interval
  core::MonotonicTime electionDeadline_{};
  bool yielding_ = false;
  core::MonotonicTime yieldUntil_{};
  std::uint32_t nextHandoverId_ = 1;
  std::uint32_t handoverId_ = 0;        ///< the handover we lead (HandingOver)
  HaState handoverThen_ = HaState::Standby;
  core::MonotonicTime handoverDeadline_{};
  std::uint32_t expectCommit_ = 0;      ///< the handover we agreed to take (standby side)
  core::MonotonicTime expectCommitUntil_{};
  bool commandPending_ = false;         ///< an operator command waits for an outcome
  bool peerReturned_ = false;           ///< this event brought back a peer we had lost
  core::MonotonicTime nextPreemptAt_{};
  core::MonotonicTime stallGraceUntil_{};  ///< own stall: the peer counts alive until then
  core::MonotonicTime peerAnsweredUntil_{}; ///< the silent peer answered the probe: wait
  core::MonotonicTime peerAnsweredFor_{};   ///< ... for the silence that began then
  Serving serving_ = Serving::Refuse;
  core::MonotonicTime pauseUntil_{};    ///< after leaving the active role: refuse from then on
  bool handoverSync_ = false;           ///< operator handovers prepare first (setHandoverSync)
  bool preparing_ = false;              ///< Active: PrepareHandover asked, HandoverPrepared not back
  HaState preparingThen_ = HaState::Standby;
};

} // namespace rmha::failover
