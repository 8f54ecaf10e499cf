// The HA engine's rules: events in, deadlines, and the shared rules (election, takeover and
// release order, dual-active resolution, handover), one place each. The handlers, one per
// state, are in handlers.cc.
#include <fmt/format.h>

#include <algorithm>

#include "failover/engine/machine_ctx.h"

namespace rmha::failover {


HaStateMachine::HaStateMachine(EngineSettings settings)
    : settings_(std::move(settings)), silence_(settings_.deadInterval, settings_.deadIntervalMax) {}

Transition HaStateMachine::onEvent(HaEvent event, const EventInput& input,
                                   core::MonotonicTime now) {
  Ctx c{event, input, now, Transition{state_, state_, {}, {}}};
  if (event == HaEvent::InternalError) {
    internalError(c);
    servingAfterEvent(c);
    state_ = c.t.to;
    return std::move(c.t);
  }
  peerReturned_ = false;
  if (event == HaEvent::Tick && input.stalledFor > core::Duration::zero()) {
    recordStall(input.stalledFor, now);
  }
  recordPeer(input, event, now);
  if (event == HaEvent::LinkDown) {
    fit_ = false;
    linkProblem_ = input.detail;
  } else if (event == HaEvent::LinkUp) {
    fit_ = true;
  } else if (event == HaEvent::SelfTest) {
    onSelfTest(c);
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
  servingBeforeEvent(c);
  dispatch(c);
  // An operator command waits only where an outcome can still come; anywhere else it has
  // been overtaken by events and is answered now.
  const bool canComplete = c.t.to == HaState::TakingOver || c.t.to == HaState::HandingOver ||
                           (c.t.to == HaState::Active && preparing_) ||
                           ((c.t.to == HaState::Standby || c.t.to == HaState::Waiting) &&
                            expectCommit_ != 0);
  if (commandPending_ && !canComplete) {
    commandPending_ = false;
    c.act(CompleteCommand{false, "overtaken by events: " + c.t.reason});
  }
  servingAfterEvent(c);
  // However Fault was entered (from maintenance, say), a retest that is due runs now.
  if (c.t.to == HaState::Fault && retestable() && !retestPending_ &&
      c.now >= retestAt_) {
    retest(c);
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
    if (peerHeard_ && !peerGone_) {
      // Even a gap that outlasted the threshold teaches it: that peer was alive after all.
      silence_.recordGap(now - peerLastHeard_, now);
    }
    peer_ = in.peer;
    peerHeard_ = true;
    peerLastHeard_ = now;
    stallGraceUntil_ = {};
    peerAnsweredUntil_ = {};
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

void HaStateMachine::recordStall(core::Duration stalledFor, core::MonotonicTime now) {
  // This node did not run for `stalledFor`: heartbeats that arrived meanwhile still wait in
  // its sockets, and the peer's silence of that time proves nothing. A peer that was alive
  // when the stall began counts alive for one more dead interval from now, long enough to
  // read what is queued and to hear the peer's next heartbeats. A closed channel still ends
  // it at once.
  const auto began = now - stalledFor;
  const auto dead = deadInterval(now);
  if (peerHeard_ && !peerGone_ && began - peerLastHeard_ < dead) {
    stallGraceUntil_ = std::max(stallGraceUntil_, now + dead);
  }
}

bool HaStateMachine::peerAlive(core::MonotonicTime now) const {
  return peerHeard_ && !peerGone_ &&
         (now - peerLastHeard_ < deadInterval(now) || now < stallGraceUntil_);
}

bool HaStateMachine::waitingForAnsweredPeer(core::MonotonicTime now) const {
  return peerAnsweredFor_ == peerLastHeard_ && now < peerAnsweredUntil_;
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
    consider(peerLastHeard_ + deadInterval(now));
    consider(stallGraceUntil_);
    consider(peerAnsweredUntil_);
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
  if (state_ == HaState::Fault && retestable() && !retestPending_) {
    consider(retestAt_);
  }
  return next;
}

core::UnfitCode HaStateMachine::unfitCode() const {
  if (!selfTest_.ok()) {
    return selfTest_.code;
  }
  if (internalUnfit_) {
    return core::UnfitCode::InternalError;
  }
  if (claimUnfit_) {
    return core::UnfitCode::ClaimFailed;
  }
  return fit_ ? core::UnfitCode::None : core::UnfitCode::NicDown;
}

std::string HaStateMachine::unfitReason() const {
  if (!selfTest_.ok()) {
    return selfTest_.problem;
  }
  if (internalUnfit_) {
    return fmt::format("an internal error ({}); self-test again after a {:.0f} s back-off",
                       internalProblem_, core::toMillis(backoff_) / 1000.0);
  }
  if (claimUnfit_) {
    return fmt::format("the last claim failed ({}); self-test again after a {:.0f} s back-off",
                       claimProblem_, core::toMillis(backoff_) / 1000.0);
  }
  if (!fit_) {
    return linkProblem_.empty() ? "a monitored NIC is down" : linkProblem_;
  }
  return {};
}

// A claim failed at run time: this node is unfit (Fault) and says so at once (every state
// change is announced), so that a fit peer takes over now; the back-off doubles with each
// failed claim in a row, and its end brings a self-test, not a claim.
void HaStateMachine::claimFailed(Ctx& c) {
  ++claimFailures_;
  claimUnfit_ = true;
  claimProblem_ = c.in.detail;
  backoff_ = settings_.claimBackoffMin;
  for (int i = 1; i < claimFailures_ && backoff_ < settings_.claimBackoffMax; ++i) {
    backoff_ *= 2;
  }
  backoff_ = std::min(backoff_, settings_.claimBackoffMax);
  retestAt_ = c.now + backoff_;
  if (commandPending_) {
    commandPending_ = false;
    c.act(CompleteCommand{false, "could not take the traffic: " + c.in.detail});
  }
  c.act(ReleaseTraffic{});
  c.go(HaState::Fault, fmt::format("could not take the traffic: {}; unfit for {:.0f} s (claim {} "
                                   "failed in a row), then a self-test",
                                   c.in.detail, core::toMillis(backoff_) / 1000.0,
                                   claimFailures_));
}

// The shell could not apply a transition (an action threw; c.in.detail says what): part of
// it may be done, so what this node believes about the wire cannot be trusted. It goes where
// nothing can be half-done: not serving, the traffic released, the peer told, unfit for a
// back-off that doubles with each such error, then a self-test and the election again.
// Maintenance stays maintenance (the operator's choice) and Fault stays Fault, both with the
// same safe actions. Standalone has no peer to hand the role to: giving up the traffic
// would make things worse than no HA, so it serves again instead.
void HaStateMachine::internalError(Ctx& c) {
  const HaState cur = state_;
  if (cur == HaState::Init || cur == HaState::Terminated) {
    c.t.reason = "internal error ignored (nothing applied in " + std::string(toString(cur)) +
                 "): " + c.in.detail;
    return;
  }
  if (cur == HaState::Standalone) {
    serve(c);
    c.t.reason = "internal error: " + c.in.detail + "; standalone: serving again";
    return;
  }
  ++internalErrors_;
  internalUnfit_ = true;
  internalProblem_ = c.in.detail;
  backoff_ = settings_.claimBackoffMin;
  for (int i = 1; i < internalErrors_ && backoff_ < settings_.claimBackoffMax; ++i) {
    backoff_ *= 2;
  }
  backoff_ = std::min(backoff_, settings_.claimBackoffMax);
  retestAt_ = c.now + backoff_;
  retestPending_ = false;
  if (commandPending_) {
    commandPending_ = false;
    c.act(CompleteCommand{false, "internal error: " + c.in.detail});
  }
  expectCommit_ = 0;
  const HaState next = cur == HaState::Maintenance ? HaState::Maintenance : HaState::Fault;
  releaseTo(c, next, fmt::format("internal error: {}; not serving, traffic released, unfit for "
                                 "{:.0f} s (error {} since start), then a self-test",
                                 c.in.detail, core::toMillis(backoff_) / 1000.0,
                                 internalErrors_));
}

void HaStateMachine::retest(Ctx& c) {
  retestPending_ = true;
  c.act(action::RunSelfTest{});
}

void HaStateMachine::onSelfTest(Ctx& c) {
  retestPending_ = false;
  selfTest_ = c.in.selfTest;
  if (selfTest_.ok()) {
    claimUnfit_ = false;
    internalUnfit_ = false;
    return;
  }
  backoff_ = std::max(settings_.claimBackoffMin, std::min(backoff_ * 2, settings_.claimBackoffMax));
  retestAt_ = c.now + backoff_;
}

// ---------------------------------------------------------------------------------------------
// Shared rules.

void HaStateMachine::evaluate(Ctx& c, const std::string& why) {
  const HaState cur = c.t.to;
  if (!fit()) {
    c.go(HaState::Fault, "unfit: " + unfitReason());
    return;
  }
  if (activeActive()) {
    beginTakeover(c, "active-active: every node serves");
    return;
  }
  if (peerAlive(c.now)) {
    if (peerClaimsTraffic(c.now)) {
      if (cur == HaState::Waiting) {
        c.go(HaState::Standby, fmt::format("peer (member {}) is {}", peer_.member, peer_.state));
      }
      if (settings_.preempt && claimFailures_ == 0 && outranksPeer() &&
          peer_.state == HaState::Active &&
          expectCommit_ == 0 && c.now >= nextPreemptAt_) {
        // preempt: ask the lower-ranked active to hand over, make-before-break.
        expectCommit_ = (static_cast<std::uint32_t>(settings_.localMember) << 24) | nextHandoverId_++;
        expectCommitUntil_ = c.now + settings_.handoverTimeout;
        nextPreemptAt_ = c.now + settings_.handoverTimeout;
        c.act(SendToPeer{PeerMsgKind::TakeoverRequest, expectCommit_, "preempt"});
      }
      return;
    }
    std::string rule;
    if (winsAgainstIdlePeer(rule)) {
      beginTakeover(c, rule);
    } else if (cur == HaState::Waiting) {
      c.go(HaState::Standby, rule);
    }
    return;
  }
  if (cur == HaState::Waiting && c.now < electionDeadline_) {
    return;
  }
  if (!peerGone_ && waitingForAnsweredPeer(c.now)) {
    return;  // its MAC answered the probe: one more heartbeat window before claiming anyway
  }
  if (!peerHeard_) {
    beginTakeover(c, "no peer heard while waiting");
  } else if (peerGone_) {
    beginTakeover(c, fmt::format("peer lost: its channel closed (it was {})", peer_.state));
  } else {
    beginTakeover(c, fmt::format("peer lost: silent for {:.1f} ms, over its threshold of {:.1f} ms "
                                 "(it was {})",
                                 core::toMillis(c.now - peerLastHeard_),
                                 core::toMillis(deadInterval(c.now)), peer_.state));
  }
  (void)why;
}

// The peer is alive and claims nothing: whether this node takes the role, and why (the same
// numbers and flags on both sides, so both reach the same answer).
bool HaStateMachine::winsAgainstIdlePeer(std::string& rule) const {
  if (!peer_.fit || peer_.state == HaState::Maintenance || peer_.state == HaState::Fault ||
      peer_.state == HaState::Terminated) {
    rule = fmt::format("the peer cannot serve (it is {})", peer_.state);
    return true;
  }
  if (yielding_) {
    rule = "we just handed over";
    return false;
  }
  if (peer_.yielding) {
    rule = "the peer handed over";
    return true;
  }
  // Never two failed claims in a row while a fit peer is there: it goes first.
  if (claimFailures_ > 0 && !peer_.claimFailed) {
    rule = "our last claim failed: the fit peer goes first";
    return false;
  }
  if (peer_.claimFailed && claimFailures_ == 0) {
    rule = "the peer's last claim failed";
    return true;
  }
  const bool mine = outranksPeer();
  rule = fmt::format("election: priority {} vs {}, member {} vs {}: {}", settings_.priority,
                     peer_.priority, settings_.localMember, peer_.member,
                     mine ? "we win" : "the peer wins");
  return mine;
}

void HaStateMachine::beginTakeover(Ctx& c, const std::string& why) {
  // The order of a takeover, first half: claim the traffic. The shell answers with
  // SteeringAcquired or SteeringFailed; serving starts only once the traffic is ours.
  const bool peerLetGo =
      peerHeard_ && (peerGone_ || peer_.yielding ||
                     !(peer_.state == HaState::Active || peer_.state == HaState::TakingOver ||
                       peer_.state == HaState::HandingOver));
  // A silent peer's answer to the probe stops the first claim (AskPeer): its kernel is up, so
  // its process may only be stalled. After one more window of silence for the same silence,
  // or on an operator's order, the claim goes ahead over its leftover VIP (IgnorePeer): a
  // frozen process must not block the takeover, and the VIP's lifetime ends its copy.
  const bool askedAlready = peerAnsweredFor_ == peerLastHeard_ &&
                            peerAnsweredUntil_ > core::MonotonicTime{};
  if (serving_ == Serving::Refuse) {
    pause(c, false);  // traffic may arrive from the first announcement on: absorb, not 503
  }
  c.act(AcquireTraffic{!peerHeard_                      ? AcquireTraffic::Probe::Strict
                       : peerLetGo                     ? AcquireTraffic::Probe::None
                       : askedAlready || commandPending_ ? AcquireTraffic::Probe::IgnorePeer
                                                         : AcquireTraffic::Probe::AskPeer});
  c.go(HaState::TakingOver, why);
}

void HaStateMachine::releaseTo(Ctx& c, HaState next, const std::string& why) {
  // The order of a release: stop serving (connections closed), give up the traffic, then tell
  // the peer.
  leaveServing(c);
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
  if (!peer_.fit) {
    // Refused before letting go: an unfit peer would fail the claim and leave nobody serving.
    refuseCommand(c, fmt::format("peer unfit: {} (member {} is {}); this node stays active",
                                 core::describe(peer_.unfitCode), peer_.member, peer_.state));
    return;
  }
  if (peer_.state != HaState::Standby) {
    refuseCommand(c, fmt::format("the peer is {}, not a fit standby; nobody could take over",
                                 peer_.state));
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
  if (!fit() || c.t.to != HaState::Standby) {
    c.act(SendToPeer{PeerMsgKind::HandoverRefused, id,
                     fmt::format("the standby is {}{}", c.t.to,
                                 fit() ? "" : " and unfit: " + unfitReason())});
    return;
  }
  expectCommit_ = id;
  expectCommitUntil_ = c.now + settings_.handoverTimeout;
  c.act(SendToPeer{PeerMsgKind::HandoverReady, id, {}});
}

void HaStateMachine::requestTakeover(Ctx& c) {
  if (!fit()) {
    refuseCommand(c, "this node is unfit (" + unfitReason() + "); it cannot take over");
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
