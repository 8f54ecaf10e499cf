// The HA engine's shell. Events are queued and fed one at a time, so a seam that answers
// synchronously (steering that completes inside acquire()) never re-enters the machine.
#include "failover/engine/service.h"

#include "core/log.h"

namespace rmha::failover {

namespace {
constexpr std::size_t kHistory = 64;

HaEvent eventFor(PeerMsgKind k) {
  switch (k) {
  case PeerMsgKind::HandoverRequest: return HaEvent::PeerHandoverRequest;
  case PeerMsgKind::HandoverReady: return HaEvent::PeerHandoverReady;
  case PeerMsgKind::HandoverRefused: return HaEvent::PeerHandoverRefused;
  case PeerMsgKind::HandoverCommit: return HaEvent::PeerHandoverCommit;
  case PeerMsgKind::TakeoverRequest: return HaEvent::PeerTakeoverRequest;
  default: return HaEvent::PeerHeartbeat;
  }
}
} // namespace

HaService::HaService(HaServiceOptions options, const core::TimeSource& time,
                     core::TimerFactory& timers, PeerTransport* peer,
                     core::TrafficSteering& steering, core::LinkMonitor& links,
                     core::ServiceControl& service, const core::SessionStore& sessions)
    : options_(std::move(options)), time_(time), peer_(peer), steering_(steering), links_(links),
      service_(service), sessions_(sessions), machine_(options_.engine) {
  if (options_.stallThreshold <= core::Duration::zero()) {
    options_.stallThreshold = options_.engine.deadInterval / 2;
  }
  heartbeatTimer_ = timers.createTimer([this] { onHeartbeatTimer(); });
  deadlineTimer_ = timers.createTimer([this] { feed(HaEvent::Tick); });
  holdTimer_ = timers.createTimer([this] { resume(false); });
  pauseTimer_ = timers.createTimer([this] { feed(HaEvent::PauseEnded); });
  commandTimer_ = timers.createTimer([this] {
    if (!pendingCommand_) {
      return;
    }
    RMHA_LOG(Error, "failover", "operator command had no outcome in time; answering it");
    ++gateGeneration_;
    if (machine_.preparingHandover()) {
      // The gate never answered: the machine gives the handover up and serves again.
      EventInput in;
      in.detail = "the standby's acknowledgement did not come in time";
      feed(HaEvent::HandoverPrepared, in);
    }
    completeCommand(false, "no outcome in time; see the daemon's log");
  });
}

void HaService::start() {
  steering_.setEvents(*this);
  steering_.clearStale();
  EventInput in;
  in.fit = links_.healthy();
  in.detail = in.fit ? "monitored NICs up" : "a monitored NIC is down";
  linkReason_ = in.detail;
  if (options_.engine.mode != EngineSettings::Mode::Standalone) {
    in.selfTest = selfTest();
  }
  feed(HaEvent::Start, in);
  if (peer_) {
    onHeartbeatTimer();
  }
}

core::SelfTestResult HaService::selfTest() {
  auto r = steering_.selfTest();
  if (r.ok()) {
    RMHA_LOG(Info, "failover", "SELF_TEST_PASSED {}: this node can claim", steering_.describe());
  } else {
    RMHA_LOG(Error, "failover", "SELF_TEST_FAILED {}: {}; this node is unfit and is never "
             "elected until a self-test passes", steering_.describe(), r.problem);
  }
  return r;
}

void HaService::shutdown(std::function<void()> done) {
  feed(HaEvent::Shutdown);
  auto finish = [this, done = std::move(done)] {
    heartbeatTimer_->disable();
    deadlineTimer_->disable();
    heartbeatDue_.reset();
    deadlineDue_.reset();
    if (done) {
      done();
    }
  };
  if (held_) {
    shutdownDone_ = std::move(finish);  // once the release, held for the service, is done
    return;
  }
  finish();
}

void HaService::command(HaEvent event, CommandDone done) {
  if (pendingCommand_) {
    done(false, "another operator command is in progress; try again when it has finished");
    return;
  }
  pendingCommand_ = std::move(done);
  // A safety net only: the machine answers every command itself, within its own deadlines
  // (a graceful handover's wait for the standby included).
  commandTimer_->enable((gate_ ? options_.handoverSyncTimeout : core::Duration::zero()) +
                        options_.engine.handoverTimeout * 2 + options_.engine.deadInterval);
  feed(event);
}

void HaService::setHandoverGate(HandoverGate* gate) {
  gate_ = gate;
  machine_.setHandoverSync(gate != nullptr);
}

// Graceful handover: the machine holds new calls back and asks (PrepareHandover); the gate
// waits until the standby has acknowledged every session, and its answer goes back to the
// machine (HandoverPrepared), which hands over or serves again.
void HaService::prepareHandover() {
  const auto gen = ++gateGeneration_;
  auto answer = [this, gen](bool ok, const std::string& why) {
    if (gen != gateGeneration_) {
      return;  // the safety net answered first
    }
    if (ok) {
      RMHA_LOG(Info, "failover", "graceful handover: the standby holds every session; "
               "handing over");
    }
    EventInput in;
    in.prepared = ok;
    in.detail = why;
    feed(HaEvent::HandoverPrepared, in);
  };
  if (!gate_) {
    answer(true, "");
    return;
  }
  RMHA_LOG(Info, "failover", "graceful handover: new calls held back; waiting until the standby "
           "holds every session (at most {:.0f} ms)",
           core::toMillis(options_.handoverSyncTimeout));
  gate_->prepareHandover(options_.handoverSyncTimeout, std::move(answer));
}

void HaService::completeCommand(bool ok, const std::string& message) {
  commandTimer_->disable();
  if (pendingCommand_) {
    auto done = std::move(pendingCommand_);
    pendingCommand_ = nullptr;
    done(ok, message);
  }
}

void HaService::feed(HaEvent event, const EventInput& input) {
  if (!feeding_) {
    noticeStall();  // before the event: the machine must know first that the silence was ours
  }
  queue_.push_back({event, input});
  drain();
}

// Events wait while a transition's actions are held for the service: the machine sees the
// next one only after the previous one was fully applied.
void HaService::drain() {
  if (feeding_ || held_) {
    return;
  }
  feeding_ = true;
  while (!queue_.empty() && !held_) {
    auto [e, in] = std::move(queue_.front());
    queue_.pop_front();
    step(e, in);
  }
  feeding_ = false;
  if (!held_) {
    armDeadline();
  }
}

// One event through the machine and its actions. An exception on the way (an adapter's, or
// the machine's own) must not leave the node on a transition half-applied, nor escape the HA
// loop (which would end the daemon with the traffic where it happened to be).
void HaService::step(HaEvent e, const EventInput& in) {
  applyingSafeState_ = e == HaEvent::InternalError;
  const HaState before = machine_.state();
  try {
    const auto t = machine_.onEvent(e, in, time_.monotonicTime());
    apply(t, e);
  } catch (const std::exception& ex) {
    failSafe(fmt::format("{} in {}", e, before), ex.what(), e == HaEvent::InternalError);
  } catch (...) {
    failSafe(fmt::format("{} in {}", e, before), "an exception of an unknown type",
             e == HaEvent::InternalError);
  }
}

// The machine takes the node to its safe state (InternalError), ahead of any queued event. If
// the safe state's own actions threw, nothing more is fed: the node is already unfit, and
// the back-off's self-test tries again.
void HaService::failSafe(const std::string& step, const std::string& what, bool inSafeState) {
  if (inSafeState) {
    RMHA_LOG(Error, "failover", "HA_INTERNAL_ERROR the safe state's actions failed too: {}; "
             "staying {} until the self-test after the back-off", what, machine_.state());
    return;
  }
  RMHA_LOG(Error, "failover", "HA_INTERNAL_ERROR {} could not be applied: {}; going to a safe "
           "state", step, what);
  EventInput in;
  in.detail = fmt::format("{} could not be applied: {}", step, what);
  queue_.push_front({HaEvent::InternalError, in});
}

void HaService::apply(const Transition& t, HaEvent event) {
  if (t.changed() || !t.reason.empty()) {
    record(t, event);
  }
  heartbeatSent_ = false;
  runActions(t.actions, t.changed());
}

void HaService::runActions(const std::vector<Action>& actions, bool changed) {
  for (std::size_t i = 0; i < actions.size(); ++i) {
    // After AwaitService, the release waits until the service has closed its connections.
    if (applyAction(actions[i]) && i + 1 < actions.size() && holdForService()) {
      held_ = Held{std::vector<Action>(actions.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                       actions.end()),
                   changed, applyingSafeState_};
      return;
    }
  }
  // Every state change is announced at once, not at the next heartbeat.
  if (changed && !heartbeatSent_) {
    sendToPeer(PeerMsgKind::Heartbeat, 0);
  }
}

// A posted completion, not a wait: the HA thread goes on running its timers and reading
// the peer meanwhile; events queue until the held actions ran.
bool HaService::holdForService() {
  const auto gen = ++holdGeneration_;
  serviceDoneAtOnce_ = false;
  awaitingService_ = true;
  service_.whenDone([this, gen] {
    if (gen != holdGeneration_) {
      return;  // the bound passed first
    }
    if (awaitingService_) {
      serviceDoneAtOnce_ = true;  // answered inside whenDone(): nothing to hold
      return;
    }
    resume(true);
  });
  awaitingService_ = false;
  if (serviceDoneAtOnce_) {
    return false;
  }
  holdTimer_->enable(kServiceBound);
  return true;
}

void HaService::resume(bool inTime) {
  if (!held_) {
    return;
  }
  holdTimer_->disable();
  ++holdGeneration_;
  if (!inTime) {
    ++slowServiceAnswers_;
    RMHA_LOG(Warn, "failover", "the SIP thread did not close its connections within {:.0f} ms; "
             "releasing the traffic without waiting longer", core::toMillis(kServiceBound));
  }
  auto h = std::move(*held_);
  held_.reset();
  feeding_ = true;
  try {
    runActions(h.rest, h.changed);
  } catch (const std::exception& ex) {
    failSafe(fmt::format("the rest of a release in {}", machine_.state()), ex.what(),
             h.safeState);
  } catch (...) {
    failSafe(fmt::format("the rest of a release in {}", machine_.state()),
             "an exception of an unknown type", h.safeState);
  }
  feeding_ = false;
  drain();
  if (!held_ && shutdownDone_) {
    auto done = std::move(shutdownDone_);
    shutdownDone_ = nullptr;
    done();
  }
}

bool HaService::applyAction(const Action& a) {
  bool hold = false;
  std::visit(
      [this, &hold](const auto& act) {
        using T = std::decay_t<decltype(act)>;
        if constexpr (std::is_same_v<T, action::AcquireTraffic>) {
          const auto gen = ++acquireGeneration_;
          auto done = [this, gen](std::error_code ec) {
            if (gen != acquireGeneration_) {
              return; // released since: this answer is stale
            }
            EventInput in;
            in.detail = ec ? ec.message() : "";
            in.peerAnswered = ec == core::peerAnsweredError();
            peerAnswers_ += in.peerAnswered ? 1 : 0;
            feed(ec ? HaEvent::SteeringFailed : HaEvent::SteeringAcquired, in);
          };
          switch (act.probe) {
          case action::AcquireTraffic::Probe::Strict: steering_.acquireStrict(std::move(done)); break;
          case action::AcquireTraffic::Probe::AskPeer: steering_.acquireAskPeer(std::move(done)); break;
          case action::AcquireTraffic::Probe::IgnorePeer: steering_.acquire(std::move(done)); break;
          case action::AcquireTraffic::Probe::None: steering_.acquireReleased(std::move(done)); break;
          }
        } else if constexpr (std::is_same_v<T, action::ReleaseTraffic>) {
          ++acquireGeneration_;
          steering_.release();
        } else if constexpr (std::is_same_v<T, action::ReassertTraffic>) {
          // The first re-announcement goes out at once; the same decision taken again on the
          // next queued heartbeats within 100 ms adds nothing but frames.
          const auto now = time_.monotonicTime();
          if (reasserts_ == 0 || now - lastReassert_ >= std::chrono::milliseconds(100)) {
            ++reasserts_;
            lastReassert_ = now;
            steering_.reassert();
          }
        } else if constexpr (std::is_same_v<T, action::Serve>) {
          service_.startServing();
        } else if constexpr (std::is_same_v<T, action::Pause>) {
          service_.pauseServing(act.closeConnections);
        } else if constexpr (std::is_same_v<T, action::Refuse>) {
          service_.stopServing();
        } else if constexpr (std::is_same_v<T, action::AwaitService>) {
          hold = true;
        } else if constexpr (std::is_same_v<T, action::PrepareHandover>) {
          prepareHandover();
        } else if constexpr (std::is_same_v<T, action::SendToPeer>) {
          sendToPeer(act.kind, act.handoverId);
        } else if constexpr (std::is_same_v<T, action::CompleteCommand>) {
          completeCommand(act.ok, act.message);
        } else if constexpr (std::is_same_v<T, action::RunSelfTest>) {
          EventInput in;
          in.selfTest = selfTest();
          feed(HaEvent::SelfTest, in);  // queued: fed after this transition's actions
        }
      },
      a);
  return hold;
}

void HaService::sendToPeer(PeerMsgKind kind, std::uint32_t handoverId) {
  if (!peer_) {
    return;
  }
  if (kind == PeerMsgKind::Heartbeat) {
    heartbeatSent_ = true;
  }
  PeerMessage m;
  m.kind = kind;
  m.state = machine_.state();
  m.priority = static_cast<std::uint8_t>(options_.engine.priority);
  m.flags = static_cast<std::uint8_t>((machine_.fit() ? kFlagFit : 0) |
                                      (machine_.yielding() ? kFlagYielding : 0) |
                                      (m.state == HaState::Maintenance ? kFlagMaintenance : 0) |
                                      (machine_.claimFailures() > 0 ? kFlagClaimFailed : 0));
  m.unfitCode = static_cast<std::uint8_t>(machine_.unfitCode());
  m.handoverId = handoverId;
  m.sessions = sessions_.sessionCount();
  peer_->send(m);
}

void HaService::onHeartbeatTimer() {
  if (machine_.state() == HaState::Terminated) {
    heartbeatDue_.reset();
    return;
  }
  // Tell the peer first that this node lives; then let the machine know if it was stalled.
  // Not while a release is held: the state it would carry is not true on the wire yet (the
  // release sends it the moment it is).
  if (!held_) {
    sendToPeer(PeerMsgKind::Heartbeat, 0);
  }
  if (!feeding_ && overdue() > options_.stallThreshold) {
    feed(HaEvent::Tick);  // feed() tells the machine of the stall first
  }
  heartbeatTimer_->enable(options_.heartbeatInterval);
  heartbeatDue_ = time_.monotonicTime() + options_.heartbeatInterval;
}

void HaService::armDeadline() {
  const auto now = time_.monotonicTime();
  if (const auto pause = machine_.pauseDeadline()) {
    pauseTimer_->enable(*pause > now ? *pause - now : core::Duration::zero());
  } else {
    pauseTimer_->disable();
  }
  const auto next = machine_.nextDeadline(now);
  if (!next || machine_.state() == HaState::Terminated) {
    deadlineTimer_->disable();
    deadlineDue_.reset();
    return;
  }
  deadlineTimer_->enable(*next > now ? *next - now : core::Duration::zero());
  deadlineDue_ = std::max(*next, now);
}

// A timer of ours that fires (or is still pending) much later than it was due means this
// node did not run meanwhile: its VM was stalled, the process stopped, the clock jumped. The
// monotonic clock moved on, so the peer's silence looks long, but it was ours. The machine is
// told once per episode (the overdue timers of one stall are one episode).
core::Duration HaService::overdue() const {
  const auto now = time_.monotonicTime();
  core::Duration late{};
  for (const auto& due : {heartbeatDue_, deadlineDue_}) {
    if (due && now - *due > late) {
      late = now - *due;
    }
  }
  return late;
}

void HaService::noticeStall() {
  const auto now = time_.monotonicTime();
  const auto overdue = this->overdue();
  if (overdue <= options_.stallThreshold) {
    return;
  }
  const auto began = now - overdue;
  const bool sameEpisode = stalls_ > 0 && began < lastStallEnd_;
  lastStallEnd_ = now;
  if (sameEpisode) {
    return;
  }
  ++stalls_;
  lastStall_ = overdue;
  worstStall_ = std::max(worstStall_, overdue);
  // Logged at most once a second: a host that stalls every 100 ms must not flood the log.
  if (stalls_ == 1 || now - lastStallLogged_ >= std::chrono::seconds(1)) {
    RMHA_LOG(Warn, "failover", "HA_SELF_STALLED this node was stalled for {:.1f} ms; not "
             "counting it against the peer ({} stall(s) since start)",
             core::toMillis(overdue), stalls_);
    lastStallLogged_ = now;
  }
  EventInput in;
  in.stalledFor = overdue;
  queue_.push_back({HaEvent::Tick, in});
}

void HaService::notePeerGap(core::MonotonicTime now) {
  if (lastPeerMessage_) {
    worstPeerGap_ = std::max(worstPeerGap_, now - *lastPeerMessage_);
  }
  lastPeerMessage_ = now;
}

void HaService::record(const Transition& t, HaEvent event) {
  TransitionRecord r{core::toEpochMicros(time_.systemTime()), t.from, t.to,
                     std::string(toString(event)), t.reason};
  if (t.changed()) {
    ++transitions_;
    RMHA_LOG(Info, "failover", "HA_STATE_TRANSITION {} -> {} on {}: {}", t.from, t.to, event,
             t.reason);
    history_.push_back(r);
    if (history_.size() > kHistory) {
      history_.pop_front();
    }
  } else if (t.reason != lastDecision_ ||
             time_.monotonicTime() - lastDecisionLogged_ >= std::chrono::seconds(1)) {
    // The same decision repeated on every queued heartbeat is logged once a second.
    RMHA_LOG(Info, "failover", "HA_DECISION in {} on {}: {}", t.from, event, t.reason);
    lastDecision_ = t.reason;
    lastDecisionLogged_ = time_.monotonicTime();
  }
  if (observer_) {
    observer_(r);
  }
}

void HaService::onPeerMessage(const PeerMessage& m, int path) {
  lastPath_ = path;
  lastPeerSessions_ = m.sessions;
  notePeerGap(time_.monotonicTime());
  EventInput in;
  in.peer.member = m.member;
  in.peer.state = m.state;
  in.peer.priority = m.priority;
  in.peer.fit = (m.flags & kFlagFit) != 0;
  in.peer.yielding = (m.flags & kFlagYielding) != 0;
  in.peer.handoverId = m.handoverId;
  in.peer.unfitCode = in.peer.fit ? core::UnfitCode::None : static_cast<core::UnfitCode>(m.unfitCode);
  in.peer.claimFailed = (m.flags & kFlagClaimFailed) != 0;
  if (m.kind == PeerMsgKind::HandoverRefused) {
    in.detail = fmt::format("the peer is {}{}", m.state, in.peer.fit ? "" : " and unfit");
  }
  feed(eventFor(m.kind), in);
}

void HaService::onPeerChannel(bool up) {
  channelUp_ = up;
  if (!up) {
    feed(HaEvent::PeerChannelDown);
  }
}

void HaService::onLinkHealth(bool healthy, const std::string& reason) {
  linkReason_ = reason;
  EventInput in;
  in.detail = reason;
  feed(healthy ? HaEvent::LinkUp : HaEvent::LinkDown, in);
}

void HaService::onBondActiveSlaveChanged(const std::string& bond, const std::string& slave) {
  RMHA_LOG(Info, "failover", "bond {} active slave is now {}", bond, slave);
  if (ownsTraffic(machine_.state())) {
    ++reasserts_;
    steering_.reassert();
  }
}

void HaService::onTrafficConflict(const std::string& otherMac) {
  EventInput in;
  in.detail = "MAC " + otherMac;
  feed(HaEvent::TrafficConflict, in);
}

} // namespace rmha::failover
