// The HA engine's handlers, one per state (the shared rules they call: machine.cc).
#include <fmt/format.h>

#include "failover/engine/machine_ctx.h"

namespace rmha::failover {

// ---------------------------------------------------------------------------------------------
// Handlers, one per state.

void HaStateMachine::dispatch(Ctx& c) {
  if (c.event == HaEvent::HandoverPrepared) {
    if (state_ == HaState::Active) {
      onHandoverPrepared(c);  // anywhere else the handover it prepared was overtaken
    }
    return;
  }
  if (c.event == HaEvent::PauseEnded) {
    return;  // servingBeforeEvent did all there is to do
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
}

void HaStateMachine::onInit(Ctx& c) {
  if (c.event == HaEvent::Shutdown) {
    c.go(HaState::Terminated, "shutdown before start");
    return;
  }
  if (c.event != HaEvent::Start) {
    return;
  }
  fit_ = c.in.fit;
  linkProblem_ = c.in.fit ? "" : c.in.detail;
  selfTest_ = c.in.selfTest;
  if (!selfTest_.ok()) {
    // A node that cannot claim is never elected; it retests after the back-off (a missing
    // interface may yet appear), doubling up to the cap.
    backoff_ = settings_.claimBackoffMin;
    retestAt_ = c.now + backoff_;
  }
  switch (settings_.mode) {
  case EngineSettings::Mode::Standalone:
    serve(c);
    c.go(HaState::Standalone, "ha-mode = none");
    return;
  case EngineSettings::Mode::ActiveActive:
    if (!fit()) {
      c.go(HaState::Fault, "started unfit: " + unfitReason());
      return;
    }
    beginTakeover(c, "active-active: every node serves");
    return;
  case EngineSettings::Mode::ActiveStandby:
    if (!fit()) {
      c.go(HaState::Fault, "started unfit: " + unfitReason());
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
    leaveServing(c);
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
    serve(c);
    c.act(SendToPeer{PeerMsgKind::Heartbeat, 0, {}});
    if (commandPending_) {
      commandPending_ = false;
      c.act(CompleteCommand{true, "this node is active"});
    }
    claimFailures_ = 0;
    c.go(HaState::Active, "traffic acquired");
    return;
  case HaEvent::SteeringFailed:
    if (c.in.peerAnswered && !commandPending_) {
      // Not a failure: the silent peer's own MAC answered for the VIP. Stand by for one more
      // heartbeat window; a heartbeat ends the wait, silence claims over its leftover.
      peerAnsweredFor_ = peerLastHeard_;
      peerAnsweredUntil_ = c.now + settings_.peerAnswerWait;
      c.act(ReleaseTraffic{});
      c.go(HaState::Standby,
           fmt::format("the silent peer (member {}) answered the probe for the VIP: it may be "
                       "stalled, not dead; waiting {:.0f} ms more for its heartbeat",
                       peer_.member, core::toMillis(settings_.peerAnswerWait)));
      return;
    }
    claimFailed(c);
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
    if (!activeActive() && peer_.state == HaState::TakingOver) {
      // The peer is claiming while this node holds the traffic: wait for its claim's outcome
      // rather than let go. A claim that asks first fails on this node's answer to its probe
      // and the peer stands down; one that claims anyway ends `active`, and the election
      // below decides on that. Releasing here gave the role away on a stale message: an
      // active thawed after a stall read the peer's "taking-over" of a claim the peer had
      // already given up, and released before reading the "standby" queued behind it.
      return;
    }
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
    prepareHandover(c, HaState::Standby);
    return;
  case HaEvent::MaintenanceOn:
    if (activeActive()) {
      leaveServing(c);
      c.act(ReleaseTraffic{});
      c.act(CompleteCommand{true, "maintenance on: this node stopped serving"});
      c.go(HaState::Maintenance, "operator: maintenance on");
      return;
    }
    prepareHandover(c, HaState::Maintenance);
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
    if (!fit()) {
      c.go(HaState::Fault, "maintenance off, but unfit: " + unfitReason());
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
  // Fit again only when every part of fitness is: NICs, self-test, no claim back-off. Then
  // the node is a standby first (it claims only if the election says so).
  auto leave = [&](const std::string& why) {
    if (!fit()) {
      c.t.reason = "still unfit: " + unfitReason();
      return;
    }
    if (activeActive()) {
      beginTakeover(c, "fit again: " + why);
      return;
    }
    c.go(HaState::Standby, "fit again: " + why);
    evaluate(c, "fit again");
  };
  switch (c.event) {
  case HaEvent::LinkUp:
    if (!selfTest_.ok() && !retestPending_) {
      retest(c);  // what failed may have come back with the link
    }
    leave(c.in.detail);
    return;
  case HaEvent::SelfTest:
    leave("self-test passed");
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
    refuseCommand(c, "this node is unfit (" + unfitReason() + "); it cannot take the role");
    return;
  case HaEvent::PeerHandoverRequest:
    c.act(SendToPeer{PeerMsgKind::HandoverRefused, c.in.peer.handoverId,
                     "the standby is unfit: " + unfitReason()});
    return;
  case HaEvent::Shutdown:
    c.go(HaState::Terminated, "shutdown");
    return;
  default: return;
  }
}

} // namespace rmha::failover
