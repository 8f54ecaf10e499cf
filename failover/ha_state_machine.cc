// The HA engine's rules. One handler per state; the shared rules (election, takeover and
// release order, dual-active resolution, handover) live in one place each, below the handlers.
#include "failover/ha_state_machine.h"

#include <fmt/format.h>

namespace rmha::failover {

using action::AcquireTraffic;
using action::CompleteCommand;
using action::ReassertTraffic;
using action::ReleaseTraffic;
using action::SendToPeer;
using action::StartServing;
using action::StopServing;

struct HaStateMachine::Ctx {
  HaEvent event;
  const EventInput& in;
  core::MonotonicTime now;
  Transition t;

  void go(HaState next, std::string why) {
    t.to = next;
    t.reason = std::move(why);
  }
  void act(Action a) { t.actions.push_back(std::move(a)); }
};

HaStateMachine::HaStateMachine(EngineSettings settings) : settings_(std::move(settings)) {}

Transition HaStateMachine::onEvent(HaEvent event, const EventInput& input,
                                   core::MonotonicTime now) {
  Ctx c{event, input, now, Transition{state_, state_, {}, {}}};
  peerReturned_ = false;
  recordPeer(input, event, now);
  if (event == HaEvent::LinkDown) {
    fit_ = false;
  } else if (event == HaEvent::LinkUp) {
    fit_ = true;
  }
  if (yielding_ && (now >= yieldUntil_ || (peerAlive(now) && peer_.state == HaState::Active))) {
    yielding_ = false;
  }
  const bool standbySide = state_ == HaState::Standby || state_ == HaState::Waiting;
  const bool refused = event == HaEvent::PeerHandoverRefused && expectCommit_ != 0 &&
                       input.peer.handoverId == expectCommit_;
  if (expectCommit_ != 0 && (now >= expectCommitUntil_ || refused)) {
    expectCommit_ = 0;
    if (commandPending_ && standbySide) {
      // The takeover this node asked for did not come.
      commandPending_ = false;
      c.act(CompleteCommand{false, refused ? "the active node refused: " + input.detail
                                           : "the active node did not hand over in time"});
    }
  }
  switch (state_) {
  case HaState::Init: onInit(c); break;
  case HaState::Standalone: onStandalone(c); break;
  case HaState::Waiting:
  case HaState::Standby: onWaitingOrStandby(c); break;
  case HaState::TakingOver: onTakingOver(c); break;
  case HaState::Active: onActive(c); break;
  case HaState::HandingOver: onHandingOver(c); break;
  case HaState::Maintenance: onMaintenance(c); break;
  case HaState::Fault: onFault(c); break;
  case HaState::Terminated: break;
  }
  // An operator command waits only where an outcome can still come; anywhere else it has
  // been overtaken by events and is answered now.
  const bool canComplete = c.t.to == HaState::TakingOver || c.t.to == HaState::HandingOver ||
                           ((c.t.to == HaState::Standby || c.t.to == HaState::Waiting) &&
                            expectCommit_ != 0);
  if (commandPending_ && !canComplete) {
    commandPending_ = false;
    c.act(CompleteCommand{false, "overtaken by events: " + c.t.reason});
  }
  state_ = c.t.to;
  return std::move(c.t);
}

void HaStateMachine::recordPeer(const EventInput& in, HaEvent e, core::MonotonicTime now) {
  switch (e) {
  case HaEvent::PeerHeartbeat:
  case HaEvent::PeerHandoverRequest:
  case HaEvent::PeerHandoverReady:
  case HaEvent::PeerHandoverRefused:
  case HaEvent::PeerHandoverCommit:
  case HaEvent::PeerTakeoverRequest:
    peerReturned_ = peerHeard_ && !peerAlive(now);
    peer_ = in.peer;
    peerHeard_ = true;
    peerLastHeard_ = now;
    // A peer that says it is terminated is gone now, not after the dead interval.
    peerGone_ = in.peer.state == HaState::Terminated;
    break;
  case HaEvent::PeerChannelDown:
    // The peer's process closed the channel (it died, or its host closed the socket): treat
    // it as gone at once; its next authenticated message brings it back.
    peerGone_ = true;
    break;
  default: break;
  }
}

bool HaStateMachine::peerAlive(core::MonotonicTime now) const {
  return peerHeard_ && !peerGone_ && now - peerLastHeard_ < settings_.deadInterval;
}

bool HaStateMachine::peerClaimsTraffic(core::MonotonicTime now) const {
  return peerAlive(now) && (peer_.state == HaState::Active || peer_.state == HaState::TakingOver ||
                            peer_.state == HaState::HandingOver);
}

bool HaStateMachine::outranksPeer() const {
  if (!peerHeard_) {
    // A conflict with a peer never heard (a broken peer link): its priority is unknown, so
    // both sides decide by member index alone, and reach the same answer.
    return settings_.localMember == 1;
  }
  if (settings_.priority != peer_.priority) {
    return settings_.priority > peer_.priority;
  }
  return settings_.localMember < peer_.member;
}

std::optional<core::MonotonicTime> HaStateMachine::nextDeadline(core::MonotonicTime now) const {
  std::optional<core::MonotonicTime> next;
  auto consider = [&next, now](core::MonotonicTime t) {
    if (t > now && (!next || t < *next)) {
      next = t;
    }
  };
  if (peerHeard_ && !peerGone_) {
    consider(peerLastHeard_ + settings_.deadInterval);
  }
  if (state_ == HaState::Waiting) {
    consider(electionDeadline_);
  }
  if (state_ == HaState::HandingOver) {
    consider(handoverDeadline_);
  }
  if (yielding_) {
    consider(yieldUntil_);
  }
  if (expectCommit_ != 0) {
    consider(expectCommitUntil_);
  }
  if (state_ == HaState::Standby && acquireBackoffUntil_ > core::MonotonicTime{}) {
    consider(acquireBackoffUntil_);
  }
  return next;
}

// ---------------------------------------------------------------------------------------------
// Handlers, one per state.

void HaStateMachine::onInit(Ctx& c) {
  if (c.event == HaEvent::Shutdown) {
    c.go(HaState::Terminated, "shutdown before start");
    return;
  }
  if (c.event != HaEvent::Start) {
    return;
  }
  fit_ = c.in.fit;
  switch (settings_.mode) {
  case EngineSettings::Mode::Standalone:
    c.act(StartServing{});
    c.go(HaState::Standalone, "ha-mode = none");
    return;
  case EngineSettings::Mode::ActiveActive:
    if (!fit_) {
      c.go(HaState::Fault, "started unfit: " + c.in.detail);
      return;
    }
    beginTakeover(c, "active-active: every node serves");
    return;
  case EngineSettings::Mode::ActiveStandby:
    if (!fit_) {
      c.go(HaState::Fault, "started unfit: " + c.in.detail);
      return;
    }
    electionDeadline_ = c.now + settings_.electionWait;
    c.go(HaState::Waiting, "started; listening for the peer before electing");
    return;
  }
}

void HaStateMachine::onStandalone(Ctx& c) {
  switch (c.event) {
  case HaEvent::Shutdown:
    c.act(StopServing{});
    c.go(HaState::Terminated, "shutdown");
    return;
  case HaEvent::OperatorFailover:
  case HaEvent::OperatorTakeover:
  case HaEvent::MaintenanceOn:
  case HaEvent::MaintenanceOff:
    c.act(CompleteCommand{false, "this node is stand-alone (ha-mode = none): there is no peer"});
    return;
  default: return;
  }
}

void HaStateMachine::onWaitingOrStandby(Ctx& c) {
  switch (c.event) {
  case HaEvent::LinkDown:
    c.go(HaState::Fault, "unfit: " + c.in.detail);
    return;
  case HaEvent::Shutdown:
    c.go(HaState::Terminated, "shutdown");
    return;
  case HaEvent::MaintenanceOn:
    c.act(CompleteCommand{true, "maintenance on"});
    c.go(HaState::Maintenance, "operator: maintenance on");
    return;
  case HaEvent::MaintenanceOff:
    c.act(CompleteCommand{true, "maintenance was already off"});
    return;
  case HaEvent::OperatorFailover:
    refuseCommand(c, fmt::format("this node is {}, not active: run failover on the active node, "
                                 "or takeover here",
                                 state_));
    return;
  case HaEvent::OperatorTakeover:
    requestTakeover(c);
    return;
  case HaEvent::PeerHandoverRequest:
    evaluate(c, "");
    if (c.t.to == HaState::Standby || c.t.to == HaState::Waiting) {
      answerHandoverRequest(c);
    }
    return;
  case HaEvent::PeerHandoverCommit:
    if (c.in.peer.handoverId != 0 && c.in.peer.handoverId == expectCommit_) {
      expectCommit_ = 0;
      beginTakeover(c, "handover: the peer released the traffic to us");
      return;
    }
    evaluate(c, "peer commit for a handover we did not agree to");
    return;
  default:
    evaluate(c, "");
    return;
  }
}

void HaStateMachine::onTakingOver(Ctx& c) {
  switch (c.event) {
  case HaEvent::SteeringAcquired:
    // The order of a takeover, second half: the traffic is ours, now serve, then tell the peer.
    c.act(StartServing{});
    c.act(SendToPeer{PeerMsgKind::Heartbeat, 0, {}});
    if (commandPending_) {
      commandPending_ = false;
      c.act(CompleteCommand{true, "this node is active"});
    }
    c.go(HaState::Active, "traffic acquired");
    return;
  case HaEvent::SteeringFailed:
    acquireBackoffUntil_ = c.now + settings_.handoverTimeout;
    if (commandPending_) {
      commandPending_ = false;
      c.act(CompleteCommand{false, "could not take the traffic: " + c.in.detail});
    }
    c.act(ReleaseTraffic{});
    c.go(activeActive() ? HaState::Fault : HaState::Standby,
         "could not take the traffic: " + c.in.detail);
    return;
  case HaEvent::LinkDown:
    releaseTo(c, HaState::Fault, "unfit: " + c.in.detail);
    return;
  case HaEvent::Shutdown:
    releaseTo(c, HaState::Terminated, "shutdown");
    return;
  case HaEvent::PeerHeartbeat:
  case HaEvent::TrafficConflict:
    if (!activeActive() && (c.event == HaEvent::TrafficConflict || peerClaimsTraffic(c.now))) {
      resolveDualActive(c, "both nodes claim the traffic");
    }
    return;
  case HaEvent::OperatorFailover:
  case HaEvent::OperatorTakeover:
  case HaEvent::MaintenanceOn:
  case HaEvent::MaintenanceOff:
    refuseCommand(c, "this node is taking over right now; try again in a moment");
    return;
  default: return;
  }
}

void HaStateMachine::onActive(Ctx& c) {
  switch (c.event) {
  case HaEvent::LinkDown:
    releaseTo(c, HaState::Fault, "unfit: " + c.in.detail);
    return;
  case HaEvent::Shutdown:
    releaseTo(c, HaState::Terminated, "shutdown");
    return;
  case HaEvent::PeerHeartbeat:
    if (!activeActive() && peerClaimsTraffic(c.now)) {
      resolveDualActive(c, fmt::format("peer (member {}) is also {}", peer_.member, peer_.state));
    } else if (!activeActive() && peerReturned_) {
      // A peer we had lost is back (a healed partition, a thawed process): it may have
      // claimed the traffic and released it before we heard it, leaving hosts pointing at
      // it. Announce again.
      c.act(ReassertTraffic{});
      c.t.reason = fmt::format("peer (member {}) is back as {}; re-announcing", peer_.member,
                               peer_.state);
    }
    return;
  case HaEvent::TrafficConflict:
    if (!activeActive()) {
      resolveDualActive(c, "another station announced the traffic (" + c.in.detail + ")");
    }
    return;
  case HaEvent::PeerTakeoverRequest:
    if (activeActive() || !peer_.fit || peer_.state != HaState::Standby) {
      c.act(SendToPeer{PeerMsgKind::HandoverRefused, c.in.peer.handoverId,
                       "the active node refuses: the requester is not a fit standby"});
      return;
    }
    releaseTo(c, HaState::Standby, "handover: the peer asked to take over");
    c.act(SendToPeer{PeerMsgKind::HandoverCommit, c.in.peer.handoverId, {}});
    yielding_ = true;
    yieldUntil_ = c.now + settings_.handoverTimeout;
    return;
  case HaEvent::OperatorFailover:
    startHandover(c, HaState::Standby);
    return;
  case HaEvent::MaintenanceOn:
    if (activeActive()) {
      c.act(StopServing{});
      c.act(ReleaseTraffic{});
      c.act(CompleteCommand{true, "maintenance on: this node stopped serving"});
      c.go(HaState::Maintenance, "operator: maintenance on");
      return;
    }
    startHandover(c, HaState::Maintenance);
    return;
  case HaEvent::OperatorTakeover:
    c.act(CompleteCommand{true, "this node is already active"});
    return;
  case HaEvent::MaintenanceOff:
    c.act(CompleteCommand{true, "maintenance was already off"});
    return;
  default: return;
  }
}

void HaStateMachine::onHandingOver(Ctx& c) {
  auto abort = [&](const std::string& why) {
    commandPending_ = false;
    c.act(CompleteCommand{false, "handover aborted: " + why + "; this node stays active"});
    c.go(HaState::Active, "handover aborted: " + why);
  };
  switch (c.event) {
  case HaEvent::PeerHandoverReady:
    if (c.in.peer.handoverId != handoverId_) {
      return;
    }
    // Make-before-break: the standby confirmed it is ready; only now do we let go.
    releaseTo(c, handoverThen_, "handover: the peer is ready");
    c.act(SendToPeer{PeerMsgKind::HandoverCommit, handoverId_, {}});
    yielding_ = true;
    yieldUntil_ = c.now + settings_.handoverTimeout;
    commandPending_ = false;
    c.act(CompleteCommand{true, fmt::format("handed over to member {}", peer_.member)});
    return;
  case HaEvent::PeerHandoverRefused:
    if (c.in.peer.handoverId == handoverId_) {
      abort("the peer refused: " + c.in.detail);
    }
    return;
  case HaEvent::Tick:
    if (c.now >= handoverDeadline_) {
      abort("the peer did not confirm in time");
    } else if (!peerAlive(c.now)) {
      abort("the peer went silent");
    }
    return;
  case HaEvent::PeerChannelDown:
    abort("the peer closed the channel");
    return;
  case HaEvent::LinkDown:
    commandPending_ = false;
    c.act(CompleteCommand{false, "handover aborted: this node became unfit"});
    releaseTo(c, HaState::Fault, "unfit: " + c.in.detail);
    return;
  case HaEvent::Shutdown:
    commandPending_ = false;
    c.act(CompleteCommand{false, "handover aborted: shutdown"});
    releaseTo(c, HaState::Terminated, "shutdown");
    return;
  case HaEvent::PeerHeartbeat:
  case HaEvent::TrafficConflict:
    if (c.event == HaEvent::TrafficConflict || peerClaimsTraffic(c.now)) {
      commandPending_ = false;
      c.act(CompleteCommand{false, "handover aborted: both nodes claim the traffic"});
      c.go(HaState::Active, "handover aborted");
      resolveDualActive(c, "both nodes claim the traffic");
    }
    return;
  case HaEvent::OperatorFailover:
  case HaEvent::OperatorTakeover:
  case HaEvent::MaintenanceOn:
  case HaEvent::MaintenanceOff:
    refuseCommand(c, "a handover is in progress");
    return;
  default: return;
  }
}

void HaStateMachine::onMaintenance(Ctx& c) {
  switch (c.event) {
  case HaEvent::MaintenanceOff:
    c.act(CompleteCommand{true, "maintenance off"});
    if (!fit_) {
      c.go(HaState::Fault, "maintenance off, but unfit");
      return;
    }
    if (activeActive()) {
      beginTakeover(c, "maintenance off");
      return;
    }
    c.go(HaState::Standby, "operator: maintenance off");
    evaluate(c, "maintenance off");
    return;
  case HaEvent::MaintenanceOn:
    c.act(CompleteCommand{true, "maintenance was already on"});
    return;
  case HaEvent::OperatorFailover:
  case HaEvent::OperatorTakeover:
    refuseCommand(c, "this node is in maintenance; run 'rmhactl maintenance off' first");
    return;
  case HaEvent::PeerHandoverRequest:
    c.act(SendToPeer{PeerMsgKind::HandoverRefused, c.in.peer.handoverId,
                     "the standby is in maintenance"});
    return;
  case HaEvent::Shutdown:
    c.go(HaState::Terminated, "shutdown");
    return;
  default: return;
  }
}

void HaStateMachine::onFault(Ctx& c) {
  switch (c.event) {
  case HaEvent::LinkUp:
    if (activeActive()) {
      beginTakeover(c, "fit again: " + c.in.detail);
      return;
    }
    c.go(HaState::Standby, "fit again: " + c.in.detail);
    evaluate(c, "fit again");
    return;
  case HaEvent::MaintenanceOn:
    c.act(CompleteCommand{true, "maintenance on"});
    c.go(HaState::Maintenance, "operator: maintenance on");
    return;
  case HaEvent::MaintenanceOff:
    c.act(CompleteCommand{true, "maintenance was already off"});
    return;
  case HaEvent::OperatorFailover:
  case HaEvent::OperatorTakeover:
    refuseCommand(c, "this node is unfit (a monitored NIC is down); fix the network first");
    return;
  case HaEvent::PeerHandoverRequest:
    c.act(SendToPeer{PeerMsgKind::HandoverRefused, c.in.peer.handoverId, "the standby is unfit"});
    return;
  case HaEvent::Shutdown:
    c.go(HaState::Terminated, "shutdown");
    return;
  default: return;
  }
}

// ---------------------------------------------------------------------------------------------
// Shared rules.

void HaStateMachine::evaluate(Ctx& c, const std::string& why) {
  const HaState cur = c.t.to;
  if (!fit_) {
    c.go(HaState::Fault, "unfit");
    return;
  }
  if (activeActive()) {
    beginTakeover(c, "active-active: every node serves");
    return;
  }
  if (c.now < acquireBackoffUntil_) {
    return;
  }
  if (peerAlive(c.now)) {
    if (peerClaimsTraffic(c.now)) {
      if (cur == HaState::Waiting) {
        c.go(HaState::Standby, fmt::format("peer (member {}) is {}", peer_.member, peer_.state));
      }
      if (settings_.preempt && outranksPeer() && peer_.state == HaState::Active &&
          expectCommit_ == 0 && c.now >= nextPreemptAt_) {
        // preempt: ask the lower-ranked active to hand over, make-before-break.
        expectCommit_ = (static_cast<std::uint32_t>(settings_.localMember) << 24) | nextHandoverId_++;
        expectCommitUntil_ = c.now + settings_.handoverTimeout;
        nextPreemptAt_ = c.now + settings_.handoverTimeout;
        c.act(SendToPeer{PeerMsgKind::TakeoverRequest, expectCommit_, "preempt"});
      }
      return;
    }
    bool mine = false;
    std::string rule;
    if (!peer_.fit || peer_.state == HaState::Maintenance || peer_.state == HaState::Fault ||
        peer_.state == HaState::Terminated) {
      mine = true;
      rule = fmt::format("the peer cannot serve (it is {})", peer_.state);
    } else if (yielding_) {
      rule = "we just handed over";
    } else if (peer_.yielding) {
      mine = true;
      rule = "the peer handed over";
    } else {
      mine = outranksPeer();
      rule = fmt::format("election: priority {} vs {}, member {} vs {}: {}", settings_.priority,
                         peer_.priority, settings_.localMember, peer_.member,
                         mine ? "we win" : "the peer wins");
    }
    if (mine) {
      beginTakeover(c, rule);
    } else if (cur == HaState::Waiting) {
      c.go(HaState::Standby, rule);
    }
    return;
  }
  if (cur == HaState::Waiting && c.now < electionDeadline_) {
    return;
  }
  if (!peerHeard_) {
    beginTakeover(c, "no peer heard while waiting");
  } else if (peerGone_) {
    beginTakeover(c, fmt::format("peer lost: its channel closed (it was {})", peer_.state));
  } else {
    beginTakeover(c, fmt::format("peer lost: silent for {:.1f} ms (it was {})",
                                 core::toMillis(c.now - peerLastHeard_), peer_.state));
  }
  (void)why;
}

void HaStateMachine::beginTakeover(Ctx& c, const std::string& why) {
  // The order of a takeover, first half: claim the traffic. The shell answers with
  // SteeringAcquired or SteeringFailed; serving starts only once the traffic is ours.
  const bool peerLetGo =
      peerHeard_ && (peerGone_ || peer_.yielding ||
                     !(peer_.state == HaState::Active || peer_.state == HaState::TakingOver ||
                       peer_.state == HaState::HandingOver));
  c.act(AcquireTraffic{!peerHeard_  ? AcquireTraffic::Probe::Strict
                       : peerLetGo ? AcquireTraffic::Probe::None
                                   : AcquireTraffic::Probe::IgnorePeer});
  c.go(HaState::TakingOver, why);
}

void HaStateMachine::releaseTo(Ctx& c, HaState next, const std::string& why) {
  // The order of a release: stop serving, give up the traffic, then tell the peer.
  c.act(StopServing{});
  c.act(ReleaseTraffic{});
  c.act(SendToPeer{PeerMsgKind::Heartbeat, 0, {}});
  c.go(next, why);
}

void HaStateMachine::resolveDualActive(Ctx& c, const std::string& what) {
  if (outranksPeer()) {
    c.act(ReassertTraffic{});
    c.t.reason = fmt::format("{}; this node wins (priority {} vs {}, member {} vs {}) and "
                             "re-announces",
                             what, settings_.priority, peer_.priority, settings_.localMember,
                             peer_.member);
    return;
  }
  releaseTo(c, HaState::Standby,
            fmt::format("{}; the peer wins (priority {} vs {}, member {} vs {}): releasing", what,
                        peer_.priority, settings_.priority, peer_.member, settings_.localMember));
}

void HaStateMachine::startHandover(Ctx& c, HaState onSuccess) {
  if (activeActive()) {
    refuseCommand(c, "active-active: both nodes serve; use 'rmhactl maintenance on' to drain one");
    return;
  }
  if (!peerAlive(c.now)) {
    refuseCommand(c, peerHeard_ ? fmt::format("the peer is not heard (last heard {:.0f} ms ago); "
                                              "nobody could take over",
                                              core::toMillis(c.now - peerLastHeard_))
                                : "no peer has been heard; nobody could take over");
    return;
  }
  if (peer_.state != HaState::Standby || !peer_.fit) {
    refuseCommand(c, fmt::format("the peer is {}{}, not a fit standby; nobody could take over",
                                 peer_.state, peer_.fit ? "" : " and unfit"));
    return;
  }
  handoverId_ = (static_cast<std::uint32_t>(settings_.localMember) << 24) | nextHandoverId_++;
  handoverThen_ = onSuccess;
  handoverDeadline_ = c.now + settings_.handoverTimeout;
  commandPending_ = true;
  c.act(SendToPeer{PeerMsgKind::HandoverRequest, handoverId_, {}});
  c.go(HaState::HandingOver, onSuccess == HaState::Maintenance
                                 ? "operator: maintenance on, handing over first"
                                 : "operator: failover, handing over");
}

void HaStateMachine::answerHandoverRequest(Ctx& c) {
  const auto id = c.in.peer.handoverId;
  if (!fit_ || c.t.to != HaState::Standby || c.now < acquireBackoffUntil_) {
    c.act(SendToPeer{PeerMsgKind::HandoverRefused, id,
                     fmt::format("the standby is {}{}", c.t.to, fit_ ? "" : " and unfit")});
    return;
  }
  expectCommit_ = id;
  expectCommitUntil_ = c.now + settings_.handoverTimeout;
  c.act(SendToPeer{PeerMsgKind::HandoverReady, id, {}});
}

void HaStateMachine::requestTakeover(Ctx& c) {
  if (!fit_) {
    refuseCommand(c, "this node is unfit; it cannot take over");
    return;
  }
  if (peerClaimsTraffic(c.now)) {
    if (peer_.state != HaState::Active) {
      refuseCommand(c, fmt::format("the peer is {}; try again in a moment", peer_.state));
      return;
    }
    expectCommit_ = (static_cast<std::uint32_t>(settings_.localMember) << 24) | nextHandoverId_++;
    expectCommitUntil_ = c.now + settings_.handoverTimeout;
    commandPending_ = true;
    c.act(SendToPeer{PeerMsgKind::TakeoverRequest, expectCommit_, "operator takeover"});
    return;
  }
  commandPending_ = true;
  beginTakeover(c, "operator: takeover (no active peer)");
}

void HaStateMachine::refuseCommand(Ctx& c, std::string message) {
  c.act(CompleteCommand{false, std::move(message)});
}

} // namespace rmha::failover
