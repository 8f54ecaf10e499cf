// The serving sub-state: what the service does with new requests (serve, pause, refuse), kept
// by the machine beside the role. Every change goes through the functions here, so the order
// of a takeover and a release, as far as new requests are concerned, is in one place:
//
//   takeover   pause (absorb: traffic may arrive from the first gratuitous ARP on), acquire,
//              then serve once the traffic is ours; a failed claim refuses again.
//   release    pause and close connections (nobody serves yet: retransmissions reach the
//              peer once it does), await the service, release, tell the peer; refuse once the
//              peer is heard serving, or after handover-timeout.
//   graceful   pause and close connections while the standby catches up (PrepareHandover);
//              an active node that is not handing over serves again.
#include "failover/engine/machine_ctx.h"

namespace rmha::failover {

void HaStateMachine::serve(Ctx& c) {
  serving_ = Serving::Serve;
  pauseUntil_ = {};
  c.act(action::Serve{});
}

void HaStateMachine::pause(Ctx& c, bool closeConnections) {
  serving_ = Serving::Pause;
  c.act(action::Pause{closeConnections});
}

void HaStateMachine::refuse(Ctx& c) {
  serving_ = Serving::Refuse;
  pauseUntil_ = {};
  c.act(action::Refuse{});
}

std::optional<core::MonotonicTime> HaStateMachine::pauseDeadline() const {
  if (serving_ != Serving::Pause || pauseUntil_ == core::MonotonicTime{} ||
      state_ == HaState::TakingOver) {
    return std::nullopt;
  }
  return pauseUntil_;
}

bool HaStateMachine::peerServes(core::MonotonicTime now) const {
  return peerAlive(now) && peer_.state == HaState::Active;
}

// Leaving the active role (or any role, on the way to a release): while nobody serves yet,
// new requests are absorbed rather than refused; a peer already serving, a claim given up
// (nobody took the role from this node) or a node that was refusing anyway refuse at once.
// Either way the connections close before the traffic goes: the actions after this wait.
void HaStateMachine::leaveServing(Ctx& c) {
  if (serving_ == Serving::Refuse || state_ == HaState::TakingOver || peerServes(c.now)) {
    refuse(c);
  } else {
    pause(c, true);
    pauseUntil_ = c.now + settings_.handoverTimeout;
  }
  c.act(action::AwaitService{});
}

// Before the state's handler: the end of a claim (its answer) and the end of the absorbing
// after a release (handover-timeout, told by PauseEnded or seen by any later event; not while
// a claim runs, which serves or refuses itself).
void HaStateMachine::servingBeforeEvent(Ctx& c) {
  if (c.event == HaEvent::SteeringFailed && state_ == HaState::TakingOver &&
      serving_ == Serving::Pause) {
    refuse(c);
  }
  if (pauseUntil_ != core::MonotonicTime{} && c.now >= pauseUntil_ &&
      state_ != HaState::TakingOver) {
    pauseUntil_ = {};
    if (serving_ == Serving::Pause) {
      refuse(c);
    }
  }
}

// After the handler: a node still absorbing refuses once the peer is heard serving; an active
// node that is neither preparing a handover nor handing over serves.
void HaStateMachine::servingAfterEvent(Ctx& c) {
  if (c.t.to != HaState::Active) {
    preparing_ = false;
  }
  if (serving_ == Serving::Pause && c.t.to != HaState::TakingOver && peerServes(c.now)) {
    refuse(c);
  }
  if (c.t.to == HaState::Active && serving_ != Serving::Serve && !preparing_) {
    serve(c);
  }
}

// Graceful handover, first half: new calls are held back (absorbed, connections closed) until
// the standby holds every session; HandoverPrepared then starts the handover. Where nobody
// could take over, startHandover refuses at once and nothing stops serving.
void HaStateMachine::prepareHandover(Ctx& c, HaState onSuccess) {
  if (preparing_) {
    refuseCommand(c, "a graceful handover is being prepared");
    return;
  }
  if (!handoverSync_ || activeActive() || !peerAlive(c.now) || !peer_.fit ||
      peer_.state != HaState::Standby) {
    startHandover(c, onSuccess);
    return;
  }
  preparing_ = true;
  preparingThen_ = onSuccess;
  commandPending_ = true;
  pause(c, true);
  c.act(action::PrepareHandover{});
  c.t.reason = "graceful handover: new calls held back until the standby holds every session";
}

void HaStateMachine::onHandoverPrepared(Ctx& c) {
  if (!preparing_) {
    return;  // late, or for a handover overtaken by events
  }
  preparing_ = false;
  commandPending_ = false;
  if (c.in.prepared) {
    startHandover(c, preparingThen_);
    return;
  }
  serve(c);
  c.act(CompleteCommand{false, "graceful handover aborted: " + c.in.detail +
                                   "; this node stays active"});
  c.t.reason = "graceful handover aborted: " + c.in.detail;
}

} // namespace rmha::failover
