// The HA state machine's table: every (state, event) pair, the state it leads to and the
// actions it asks of the shell, in order. A dropped, added or reordered action fails a row.
#include <gtest/gtest.h>

#include <set>

#include "tests/unit/engine/machine_support.h"

namespace rmha::failover {
namespace {

using namespace std::chrono_literals;
using namespace rmha::test;
using S = HaState;
using E = HaEvent;

// Puts a fresh driver into `target` through real events only.
Driver driveTo(S target) {
  Driver d(settings(1, 100, target == S::Standalone ? EngineSettings::Mode::Standalone
                                                     : EngineSettings::Mode::ActiveStandby));
  auto toTakingOver = [&] {
    d.fire(E::Start);
    d.now += 61ms;
    d.fire(E::Tick);
  };
  switch (target) {
  case S::Init: break;
  case S::Standalone: d.fire(E::Start); break;
  case S::Waiting: d.fire(E::Start); break;
  case S::Standby:
    d.fire(E::Start);
    d.peer(E::PeerHeartbeat, peerAs(S::Active));
    break;
  case S::TakingOver: toTakingOver(); break;
  case S::Active:
    toTakingOver();
    d.fire(E::SteeringAcquired);
    d.peer(E::PeerHeartbeat, peerAs(S::Standby));
    break;
  case S::HandingOver:
    toTakingOver();
    d.fire(E::SteeringAcquired);
    d.peer(E::PeerHeartbeat, peerAs(S::Standby));
    d.fire(E::OperatorFailover);
    break;
  case S::Maintenance:
    d.fire(E::Start);
    d.fire(E::MaintenanceOn);
    break;
  case S::Fault:
    d.fire(E::Start);
    d.fire(E::LinkDown);
    break;
  case S::Terminated:
    d.fire(E::Start);
    d.fire(E::Shutdown);
    break;
  }
  EXPECT_EQ(d.m.state(), target) << "setup did not reach " << toString(target);
  return d;
}

// Fires `e` with the input a real peer or shell would send in that situation.
Transition fireDefault(Driver& d, E e) {
  switch (e) {
  case E::PeerHeartbeat: return d.peer(e, peerAs(S::Standby));
  case E::PeerHandoverRequest: return d.peer(e, peerAs(S::Active, 0x02000007));
  case E::PeerHandoverReady: return d.peer(e, peerAs(S::Standby, d.lastSentId));
  case E::PeerHandoverRefused: return d.peer(e, peerAs(S::Standby, d.lastSentId));
  case E::PeerHandoverCommit: {
    auto p = peerAs(S::Standby, d.lastSentId);
    p.yielding = true;
    return d.peer(e, p);
  }
  case E::PeerTakeoverRequest: return d.peer(e, peerAs(S::Standby, 0x02000009));
  case E::Tick: d.now += 1s; return d.fire(e);
  case E::Start: {
    EventInput in;
    in.fit = true;
    return d.fire(e, in);
  }
  default: {
    EventInput in;
    in.detail = "test";
    return d.fire(e, in);
  }
  }
}

struct Row {
  S from;
  E event;
  S to;
  const char* actions;
};

// clang-format off
const std::vector<Row> kTable = {
  // Init: only Start and Shutdown matter.
  {S::Init, E::Start, S::Waiting, ""},
  {S::Init, E::PeerHeartbeat, S::Init, ""},
  {S::Init, E::PeerHandoverRequest, S::Init, ""},
  {S::Init, E::PeerHandoverReady, S::Init, ""},
  {S::Init, E::PeerHandoverRefused, S::Init, ""},
  {S::Init, E::PeerHandoverCommit, S::Init, ""},
  {S::Init, E::PeerTakeoverRequest, S::Init, ""},
  {S::Init, E::PeerChannelDown, S::Init, ""},
  {S::Init, E::Tick, S::Init, ""},
  {S::Init, E::LinkDown, S::Init, ""},
  {S::Init, E::LinkUp, S::Init, ""},
  {S::Init, E::SteeringAcquired, S::Init, ""},
  {S::Init, E::SteeringFailed, S::Init, ""},
  {S::Init, E::TrafficConflict, S::Init, ""},
  {S::Init, E::OperatorFailover, S::Init, ""},
  {S::Init, E::OperatorTakeover, S::Init, ""},
  {S::Init, E::MaintenanceOn, S::Init, ""},
  {S::Init, E::MaintenanceOff, S::Init, ""},
  {S::Init, E::Shutdown, S::Terminated, ""},
  {S::Init, E::SelfTest, S::Init, ""},
  {S::Init, E::InternalError, S::Init, ""},
  {S::Init, E::HandoverPrepared, S::Init, ""},
  {S::Init, E::PauseEnded, S::Init, ""},
  // Standalone: no peer, always serving; commands that need a peer are refused.
  {S::Standalone, E::Start, S::Standalone, ""},
  {S::Standalone, E::PeerHeartbeat, S::Standalone, ""},
  {S::Standalone, E::PeerHandoverRequest, S::Standalone, ""},
  {S::Standalone, E::PeerHandoverReady, S::Standalone, ""},
  {S::Standalone, E::PeerHandoverRefused, S::Standalone, ""},
  {S::Standalone, E::PeerHandoverCommit, S::Standalone, ""},
  {S::Standalone, E::PeerTakeoverRequest, S::Standalone, ""},
  {S::Standalone, E::PeerChannelDown, S::Standalone, ""},
  {S::Standalone, E::Tick, S::Standalone, ""},
  {S::Standalone, E::LinkDown, S::Standalone, ""},
  {S::Standalone, E::LinkUp, S::Standalone, ""},
  {S::Standalone, E::SteeringAcquired, S::Standalone, ""},
  {S::Standalone, E::SteeringFailed, S::Standalone, ""},
  {S::Standalone, E::TrafficConflict, S::Standalone, ""},
  {S::Standalone, E::OperatorFailover, S::Standalone, "answer(refused)"},
  {S::Standalone, E::OperatorTakeover, S::Standalone, "answer(refused)"},
  {S::Standalone, E::MaintenanceOn, S::Standalone, "answer(refused)"},
  {S::Standalone, E::MaintenanceOff, S::Standalone, "answer(refused)"},
  {S::Standalone, E::Shutdown, S::Terminated, "pause(close) await"},
  {S::Standalone, E::SelfTest, S::Standalone, ""},
  {S::Standalone, E::InternalError, S::Standalone, "serve"},
  {S::Standalone, E::HandoverPrepared, S::Standalone, ""},
  {S::Standalone, E::PauseEnded, S::Standalone, ""},
  // Waiting: no peer heard yet, election deadline not reached.
  {S::Waiting, E::Start, S::Waiting, ""},
  {S::Waiting, E::PeerHeartbeat, S::TakingOver, "pause acquire(none)"},
  {S::Waiting, E::PeerHandoverRequest, S::Standby, "send(handover-ready)"},
  {S::Waiting, E::PeerHandoverReady, S::TakingOver, "pause acquire(none)"},
  {S::Waiting, E::PeerHandoverRefused, S::TakingOver, "pause acquire(none)"},
  {S::Waiting, E::PeerHandoverCommit, S::TakingOver, "pause acquire(none)"},
  {S::Waiting, E::PeerTakeoverRequest, S::TakingOver, "pause acquire(none)"},
  {S::Waiting, E::PeerChannelDown, S::Waiting, ""},
  {S::Waiting, E::Tick, S::TakingOver, "pause acquire(strict)"},
  {S::Waiting, E::LinkDown, S::Fault, ""},
  {S::Waiting, E::LinkUp, S::Waiting, ""},
  {S::Waiting, E::SteeringAcquired, S::Waiting, ""},
  {S::Waiting, E::SteeringFailed, S::Waiting, ""},
  {S::Waiting, E::TrafficConflict, S::Waiting, ""},
  {S::Waiting, E::OperatorFailover, S::Waiting, "answer(refused)"},
  {S::Waiting, E::OperatorTakeover, S::TakingOver, "pause acquire(strict)"},
  {S::Waiting, E::MaintenanceOn, S::Maintenance, "answer(ok)"},
  {S::Waiting, E::MaintenanceOff, S::Waiting, "answer(ok)"},
  {S::Waiting, E::Shutdown, S::Terminated, ""},
  {S::Waiting, E::SelfTest, S::Waiting, ""},
  {S::Waiting, E::InternalError, S::Fault, "refuse await release send(heartbeat)"},
  {S::Waiting, E::HandoverPrepared, S::Waiting, ""},
  {S::Waiting, E::PauseEnded, S::Waiting, ""},
  // Standby: the peer is active and alive.
  {S::Standby, E::Start, S::Standby, ""},
  {S::Standby, E::PeerHeartbeat, S::TakingOver, "pause acquire(none)"},
  {S::Standby, E::PeerHandoverRequest, S::Standby, "send(handover-ready)"},
  {S::Standby, E::PeerHandoverReady, S::TakingOver, "pause acquire(none)"},
  {S::Standby, E::PeerHandoverRefused, S::TakingOver, "pause acquire(none)"},
  {S::Standby, E::PeerHandoverCommit, S::TakingOver, "pause acquire(none)"},
  {S::Standby, E::PeerTakeoverRequest, S::TakingOver, "pause acquire(none)"},
  {S::Standby, E::PeerChannelDown, S::TakingOver, "pause acquire(none)"},
  {S::Standby, E::Tick, S::TakingOver, "pause acquire(ask-peer)"},
  {S::Standby, E::LinkDown, S::Fault, ""},
  {S::Standby, E::LinkUp, S::Standby, ""},
  {S::Standby, E::SteeringAcquired, S::Standby, ""},
  {S::Standby, E::SteeringFailed, S::Standby, ""},
  {S::Standby, E::TrafficConflict, S::Standby, ""},
  {S::Standby, E::OperatorFailover, S::Standby, "answer(refused)"},
  {S::Standby, E::OperatorTakeover, S::Standby, "send(takeover-request)"},
  {S::Standby, E::MaintenanceOn, S::Maintenance, "answer(ok)"},
  {S::Standby, E::MaintenanceOff, S::Standby, "answer(ok)"},
  {S::Standby, E::Shutdown, S::Terminated, ""},
  {S::Standby, E::SelfTest, S::Standby, ""},
  {S::Standby, E::InternalError, S::Fault, "refuse await release send(heartbeat)"},
  {S::Standby, E::HandoverPrepared, S::Standby, ""},
  {S::Standby, E::PauseEnded, S::Standby, ""},
  // TakingOver: no peer heard.
  {S::TakingOver, E::Start, S::TakingOver, ""},
  {S::TakingOver, E::PeerHeartbeat, S::TakingOver, ""},
  {S::TakingOver, E::PeerHandoverRequest, S::TakingOver, ""},
  {S::TakingOver, E::PeerHandoverReady, S::TakingOver, ""},
  {S::TakingOver, E::PeerHandoverRefused, S::TakingOver, ""},
  {S::TakingOver, E::PeerHandoverCommit, S::TakingOver, ""},
  {S::TakingOver, E::PeerTakeoverRequest, S::TakingOver, ""},
  {S::TakingOver, E::PeerChannelDown, S::TakingOver, ""},
  {S::TakingOver, E::Tick, S::TakingOver, ""},
  {S::TakingOver, E::LinkDown, S::Fault, "refuse await release send(heartbeat)"},
  {S::TakingOver, E::LinkUp, S::TakingOver, ""},
  {S::TakingOver, E::SteeringAcquired, S::Active, "serve send(heartbeat)"},
  {S::TakingOver, E::SteeringFailed, S::Fault, "refuse release"},
  {S::TakingOver, E::TrafficConflict, S::TakingOver, "reassert"},
  {S::TakingOver, E::OperatorFailover, S::TakingOver, "answer(refused)"},
  {S::TakingOver, E::OperatorTakeover, S::TakingOver, "answer(refused)"},
  {S::TakingOver, E::MaintenanceOn, S::TakingOver, "answer(refused)"},
  {S::TakingOver, E::MaintenanceOff, S::TakingOver, "answer(refused)"},
  {S::TakingOver, E::Shutdown, S::Terminated, "refuse await release send(heartbeat)"},
  {S::TakingOver, E::SelfTest, S::TakingOver, ""},
  {S::TakingOver, E::InternalError, S::Fault, "refuse await release send(heartbeat)"},
  {S::TakingOver, E::HandoverPrepared, S::TakingOver, ""},
  {S::TakingOver, E::PauseEnded, S::TakingOver, ""},
  // Active: the peer is a fit standby.
  {S::Active, E::Start, S::Active, ""},
  {S::Active, E::PeerHeartbeat, S::Active, ""},
  {S::Active, E::PeerHandoverRequest, S::Active, ""},
  {S::Active, E::PeerHandoverReady, S::Active, ""},
  {S::Active, E::PeerHandoverRefused, S::Active, ""},
  {S::Active, E::PeerHandoverCommit, S::Active, ""},
  {S::Active, E::PeerTakeoverRequest, S::Standby, "pause(close) await release send(heartbeat) send(handover-commit)"},
  {S::Active, E::PeerChannelDown, S::Active, ""},
  {S::Active, E::Tick, S::Active, ""},
  {S::Active, E::LinkDown, S::Fault, "pause(close) await release send(heartbeat)"},
  {S::Active, E::LinkUp, S::Active, ""},
  {S::Active, E::SteeringAcquired, S::Active, ""},
  {S::Active, E::SteeringFailed, S::Active, ""},
  {S::Active, E::TrafficConflict, S::Active, "reassert"},
  {S::Active, E::OperatorFailover, S::HandingOver, "send(handover-request)"},
  {S::Active, E::OperatorTakeover, S::Active, "answer(ok)"},
  {S::Active, E::MaintenanceOn, S::HandingOver, "send(handover-request)"},
  {S::Active, E::MaintenanceOff, S::Active, "answer(ok)"},
  {S::Active, E::Shutdown, S::Terminated, "pause(close) await release send(heartbeat)"},
  {S::Active, E::SelfTest, S::Active, ""},
  {S::Active, E::InternalError, S::Fault, "pause(close) await release send(heartbeat)"},
  {S::Active, E::HandoverPrepared, S::Active, ""},
  {S::Active, E::PauseEnded, S::Active, ""},
  // HandingOver: waiting for the standby's confirmation.
  {S::HandingOver, E::Start, S::HandingOver, ""},
  {S::HandingOver, E::PeerHeartbeat, S::HandingOver, ""},
  {S::HandingOver, E::PeerHandoverRequest, S::HandingOver, ""},
  {S::HandingOver, E::PeerHandoverReady, S::Standby, "pause(close) await release send(heartbeat) send(handover-commit) answer(ok)"},
  {S::HandingOver, E::PeerHandoverRefused, S::Active, "answer(refused)"},
  {S::HandingOver, E::PeerHandoverCommit, S::HandingOver, ""},
  {S::HandingOver, E::PeerTakeoverRequest, S::HandingOver, ""},
  {S::HandingOver, E::PeerChannelDown, S::Active, "answer(refused)"},
  {S::HandingOver, E::Tick, S::Active, "answer(refused)"},
  {S::HandingOver, E::LinkDown, S::Fault, "answer(refused) pause(close) await release send(heartbeat)"},
  {S::HandingOver, E::LinkUp, S::HandingOver, ""},
  {S::HandingOver, E::SteeringAcquired, S::HandingOver, ""},
  {S::HandingOver, E::SteeringFailed, S::HandingOver, ""},
  {S::HandingOver, E::TrafficConflict, S::Active, "answer(refused) reassert"},
  {S::HandingOver, E::OperatorFailover, S::HandingOver, "answer(refused)"},
  {S::HandingOver, E::OperatorTakeover, S::HandingOver, "answer(refused)"},
  {S::HandingOver, E::MaintenanceOn, S::HandingOver, "answer(refused)"},
  {S::HandingOver, E::MaintenanceOff, S::HandingOver, "answer(refused)"},
  {S::HandingOver, E::Shutdown, S::Terminated, "answer(refused) pause(close) await release send(heartbeat)"},
  {S::HandingOver, E::SelfTest, S::HandingOver, ""},
  {S::HandingOver, E::InternalError, S::Fault, "answer(refused) pause(close) await release send(heartbeat)"},
  {S::HandingOver, E::HandoverPrepared, S::HandingOver, ""},
  {S::HandingOver, E::PauseEnded, S::HandingOver, ""},
  // Maintenance: never active; only maintenance off leaves it.
  {S::Maintenance, E::Start, S::Maintenance, ""},
  {S::Maintenance, E::PeerHeartbeat, S::Maintenance, ""},
  {S::Maintenance, E::PeerHandoverRequest, S::Maintenance, "send(handover-refused)"},
  {S::Maintenance, E::PeerHandoverReady, S::Maintenance, ""},
  {S::Maintenance, E::PeerHandoverRefused, S::Maintenance, ""},
  {S::Maintenance, E::PeerHandoverCommit, S::Maintenance, ""},
  {S::Maintenance, E::PeerTakeoverRequest, S::Maintenance, ""},
  {S::Maintenance, E::PeerChannelDown, S::Maintenance, ""},
  {S::Maintenance, E::Tick, S::Maintenance, ""},
  {S::Maintenance, E::LinkDown, S::Maintenance, ""},
  {S::Maintenance, E::LinkUp, S::Maintenance, ""},
  {S::Maintenance, E::SteeringAcquired, S::Maintenance, ""},
  {S::Maintenance, E::SteeringFailed, S::Maintenance, ""},
  {S::Maintenance, E::TrafficConflict, S::Maintenance, ""},
  {S::Maintenance, E::OperatorFailover, S::Maintenance, "answer(refused)"},
  {S::Maintenance, E::OperatorTakeover, S::Maintenance, "answer(refused)"},
  {S::Maintenance, E::MaintenanceOn, S::Maintenance, "answer(ok)"},
  {S::Maintenance, E::MaintenanceOff, S::TakingOver, "answer(ok) pause acquire(strict)"},
  {S::Maintenance, E::Shutdown, S::Terminated, ""},
  {S::Maintenance, E::SelfTest, S::Maintenance, ""},
  {S::Maintenance, E::InternalError, S::Maintenance, "refuse await release send(heartbeat)"},
  {S::Maintenance, E::HandoverPrepared, S::Maintenance, ""},
  {S::Maintenance, E::PauseEnded, S::Maintenance, ""},
  // Fault: unfit until the link comes back.
  {S::Fault, E::Start, S::Fault, ""},
  {S::Fault, E::PeerHeartbeat, S::Fault, ""},
  {S::Fault, E::PeerHandoverRequest, S::Fault, "send(handover-refused)"},
  {S::Fault, E::PeerHandoverReady, S::Fault, ""},
  {S::Fault, E::PeerHandoverRefused, S::Fault, ""},
  {S::Fault, E::PeerHandoverCommit, S::Fault, ""},
  {S::Fault, E::PeerTakeoverRequest, S::Fault, ""},
  {S::Fault, E::PeerChannelDown, S::Fault, ""},
  {S::Fault, E::Tick, S::Fault, ""},
  {S::Fault, E::LinkDown, S::Fault, ""},
  {S::Fault, E::LinkUp, S::TakingOver, "pause acquire(strict)"},
  {S::Fault, E::SteeringAcquired, S::Fault, ""},
  {S::Fault, E::SteeringFailed, S::Fault, ""},
  {S::Fault, E::TrafficConflict, S::Fault, ""},
  {S::Fault, E::OperatorFailover, S::Fault, "answer(refused)"},
  {S::Fault, E::OperatorTakeover, S::Fault, "answer(refused)"},
  {S::Fault, E::MaintenanceOn, S::Maintenance, "answer(ok)"},
  {S::Fault, E::MaintenanceOff, S::Fault, "answer(ok)"},
  {S::Fault, E::Shutdown, S::Terminated, ""},
  {S::Fault, E::SelfTest, S::Fault, ""},
  {S::Fault, E::InternalError, S::Fault, "refuse await release send(heartbeat)"},
  {S::Fault, E::HandoverPrepared, S::Fault, ""},
  {S::Fault, E::PauseEnded, S::Fault, ""},
  // Terminated: the end; nothing leaves it.
  {S::Terminated, E::Start, S::Terminated, ""},
  {S::Terminated, E::PeerHeartbeat, S::Terminated, ""},
  {S::Terminated, E::PeerHandoverRequest, S::Terminated, ""},
  {S::Terminated, E::PeerHandoverReady, S::Terminated, ""},
  {S::Terminated, E::PeerHandoverRefused, S::Terminated, ""},
  {S::Terminated, E::PeerHandoverCommit, S::Terminated, ""},
  {S::Terminated, E::PeerTakeoverRequest, S::Terminated, ""},
  {S::Terminated, E::PeerChannelDown, S::Terminated, ""},
  {S::Terminated, E::Tick, S::Terminated, ""},
  {S::Terminated, E::LinkDown, S::Terminated, ""},
  {S::Terminated, E::LinkUp, S::Terminated, ""},
  {S::Terminated, E::SteeringAcquired, S::Terminated, ""},
  {S::Terminated, E::SteeringFailed, S::Terminated, ""},
  {S::Terminated, E::TrafficConflict, S::Terminated, ""},
  {S::Terminated, E::OperatorFailover, S::Terminated, ""},
  {S::Terminated, E::OperatorTakeover, S::Terminated, ""},
  {S::Terminated, E::MaintenanceOn, S::Terminated, ""},
  {S::Terminated, E::MaintenanceOff, S::Terminated, ""},
  {S::Terminated, E::Shutdown, S::Terminated, ""},
  {S::Terminated, E::SelfTest, S::Terminated, ""},
  {S::Terminated, E::InternalError, S::Terminated, ""},
  {S::Terminated, E::HandoverPrepared, S::Terminated, ""},
  {S::Terminated, E::PauseEnded, S::Terminated, ""},
};
// clang-format on

TEST(HaStateMachineTable, EveryStateEventPairHasOneRow) {
  std::set<std::pair<int, int>> seen;
  for (const auto& r : kTable) {
    EXPECT_TRUE(seen.insert({static_cast<int>(r.from), static_cast<int>(r.event)}).second)
        << "two rows for " << toString(r.from) << " x " << toString(r.event);
  }
  for (int s = 0; s < kHaStateCount; ++s) {
    for (int e = 0; e < kHaEventCount; ++e) {
      EXPECT_TRUE(seen.contains({s, e}))
          << "no row for " << toString(static_cast<S>(s)) << " x " << toString(static_cast<E>(e));
    }
  }
}

// The next state and the actions, in order: the takeover and release order is pinned here.
TEST(HaStateMachineTable, EveryRowLeadsToItsStateWithItsActions) {
  for (const auto& r : kTable) {
    SCOPED_TRACE(fmt::format("{} x {}", r.from, r.event));
    auto d = driveTo(r.from);
    fireDefault(d, r.event);
    EXPECT_EQ(d.m.state(), r.to) << "reason: " << d.last.reason;
    EXPECT_EQ(actionList(d.last), r.actions) << "reason: " << d.last.reason;
  }
}

} // namespace
} // namespace rmha::failover
