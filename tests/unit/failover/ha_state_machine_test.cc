// The HA state machine: every (state, event) pair from a table, then scenarios with two
// machines wired back to back on simulated time.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "failover/ha_state_machine.h"

namespace rmha::failover {

void PrintTo(HaState s, std::ostream* os) { *os << toString(s); }

namespace {

using namespace std::chrono_literals;
using S = HaState;
using E = HaEvent;

EngineSettings settings(int member, int priority = 100,
                        EngineSettings::Mode mode = EngineSettings::Mode::ActiveStandby) {
  EngineSettings s;
  s.mode = mode;
  s.localMember = member;
  s.priority = priority;
  s.deadInterval = 60ms;
  s.handoverTimeout = 500ms;
  s.electionWait = 60ms;
  return s;
}

PeerView peerAs(HaState st, std::uint32_t id = 0) {
  PeerView p;
  p.member = 2;
  p.state = st;
  p.priority = 100;
  p.fit = true;
  p.handoverId = id;
  p.yielding = false;
  return p;
}

// Drives one machine, remembering the handover ids it sent so that answers can match them.
struct Driver {
  explicit Driver(EngineSettings s) : m(std::move(s)) {}
  HaStateMachine m;
  core::MonotonicTime now = core::MonotonicTime{} + 1h;
  std::uint32_t lastSentId = 0;
  Transition last;

  Transition fire(E e, EventInput in = {}) {
    last = m.onEvent(e, in, now);
    for (const auto& a : last.actions) {
      if (const auto* send = std::get_if<action::SendToPeer>(&a); send && send->handoverId) {
        lastSentId = send->handoverId;
      }
    }
    return last;
  }
  Transition peer(E e, PeerView p) {
    EventInput in;
    in.peer = p;
    return fire(e, in);
  }
};

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
};

// clang-format off
const std::vector<Row> kTable = {
  // Init: only Start and Shutdown matter.
  {S::Init, E::Start, S::Waiting}, {S::Init, E::Shutdown, S::Terminated},
  // Waiting: no peer heard yet, election deadline not reached.
  {S::Waiting, E::Start, S::Waiting}, {S::Waiting, E::PeerHeartbeat, S::TakingOver},
  {S::Waiting, E::PeerHandoverRequest, S::Standby}, {S::Waiting, E::PeerHandoverReady, S::TakingOver},
  {S::Waiting, E::PeerHandoverRefused, S::TakingOver}, {S::Waiting, E::PeerHandoverCommit, S::TakingOver},
  {S::Waiting, E::PeerTakeoverRequest, S::TakingOver}, {S::Waiting, E::PeerChannelDown, S::Waiting},
  {S::Waiting, E::Tick, S::TakingOver}, {S::Waiting, E::LinkDown, S::Fault},
  {S::Waiting, E::LinkUp, S::Waiting}, {S::Waiting, E::SteeringAcquired, S::Waiting},
  {S::Waiting, E::SteeringFailed, S::Waiting}, {S::Waiting, E::TrafficConflict, S::Waiting},
  {S::Waiting, E::OperatorFailover, S::Waiting}, {S::Waiting, E::OperatorTakeover, S::TakingOver},
  {S::Waiting, E::MaintenanceOn, S::Maintenance}, {S::Waiting, E::MaintenanceOff, S::Waiting},
  {S::Waiting, E::Shutdown, S::Terminated}, {S::Waiting, E::SelfTest, S::Waiting},
  // Standby: the peer is active and alive.
  {S::Standby, E::Start, S::Standby}, {S::Standby, E::PeerHeartbeat, S::TakingOver},
  {S::Standby, E::PeerHandoverRequest, S::Standby}, {S::Standby, E::PeerHandoverReady, S::TakingOver},
  {S::Standby, E::PeerHandoverRefused, S::TakingOver}, {S::Standby, E::PeerHandoverCommit, S::TakingOver},
  {S::Standby, E::PeerTakeoverRequest, S::TakingOver}, {S::Standby, E::PeerChannelDown, S::TakingOver},
  {S::Standby, E::Tick, S::TakingOver}, {S::Standby, E::LinkDown, S::Fault},
  {S::Standby, E::LinkUp, S::Standby}, {S::Standby, E::SteeringAcquired, S::Standby},
  {S::Standby, E::SteeringFailed, S::Standby}, {S::Standby, E::TrafficConflict, S::Standby},
  {S::Standby, E::OperatorFailover, S::Standby}, {S::Standby, E::OperatorTakeover, S::Standby},
  {S::Standby, E::MaintenanceOn, S::Maintenance}, {S::Standby, E::MaintenanceOff, S::Standby},
  {S::Standby, E::Shutdown, S::Terminated}, {S::Standby, E::SelfTest, S::Standby},
  // TakingOver: no peer heard.
  {S::TakingOver, E::Start, S::TakingOver}, {S::TakingOver, E::PeerHeartbeat, S::TakingOver},
  {S::TakingOver, E::PeerHandoverRequest, S::TakingOver}, {S::TakingOver, E::PeerHandoverReady, S::TakingOver},
  {S::TakingOver, E::PeerHandoverRefused, S::TakingOver}, {S::TakingOver, E::PeerHandoverCommit, S::TakingOver},
  {S::TakingOver, E::PeerTakeoverRequest, S::TakingOver}, {S::TakingOver, E::PeerChannelDown, S::TakingOver},
  {S::TakingOver, E::Tick, S::TakingOver}, {S::TakingOver, E::LinkDown, S::Fault},
  {S::TakingOver, E::LinkUp, S::TakingOver}, {S::TakingOver, E::SteeringAcquired, S::Active},
  {S::TakingOver, E::SteeringFailed, S::Fault}, {S::TakingOver, E::TrafficConflict, S::TakingOver},
  {S::TakingOver, E::OperatorFailover, S::TakingOver}, {S::TakingOver, E::OperatorTakeover, S::TakingOver},
  {S::TakingOver, E::MaintenanceOn, S::TakingOver}, {S::TakingOver, E::MaintenanceOff, S::TakingOver},
  {S::TakingOver, E::Shutdown, S::Terminated}, {S::TakingOver, E::SelfTest, S::TakingOver},
  // Active: the peer is a fit standby.
  {S::Active, E::Start, S::Active}, {S::Active, E::PeerHeartbeat, S::Active},
  {S::Active, E::PeerHandoverRequest, S::Active}, {S::Active, E::PeerHandoverReady, S::Active},
  {S::Active, E::PeerHandoverRefused, S::Active}, {S::Active, E::PeerHandoverCommit, S::Active},
  {S::Active, E::PeerTakeoverRequest, S::Standby}, {S::Active, E::PeerChannelDown, S::Active},
  {S::Active, E::Tick, S::Active}, {S::Active, E::LinkDown, S::Fault},
  {S::Active, E::LinkUp, S::Active}, {S::Active, E::SteeringAcquired, S::Active},
  {S::Active, E::SteeringFailed, S::Active}, {S::Active, E::TrafficConflict, S::Active},
  {S::Active, E::OperatorFailover, S::HandingOver}, {S::Active, E::OperatorTakeover, S::Active},
  {S::Active, E::MaintenanceOn, S::HandingOver}, {S::Active, E::MaintenanceOff, S::Active},
  {S::Active, E::Shutdown, S::Terminated}, {S::Active, E::SelfTest, S::Active},
  // HandingOver: waiting for the standby's confirmation.
  {S::HandingOver, E::Start, S::HandingOver}, {S::HandingOver, E::PeerHeartbeat, S::HandingOver},
  {S::HandingOver, E::PeerHandoverRequest, S::HandingOver}, {S::HandingOver, E::PeerHandoverReady, S::Standby},
  {S::HandingOver, E::PeerHandoverRefused, S::Active}, {S::HandingOver, E::PeerHandoverCommit, S::HandingOver},
  {S::HandingOver, E::PeerTakeoverRequest, S::HandingOver}, {S::HandingOver, E::PeerChannelDown, S::Active},
  {S::HandingOver, E::Tick, S::Active}, {S::HandingOver, E::LinkDown, S::Fault},
  {S::HandingOver, E::LinkUp, S::HandingOver}, {S::HandingOver, E::SteeringAcquired, S::HandingOver},
  {S::HandingOver, E::SteeringFailed, S::HandingOver}, {S::HandingOver, E::TrafficConflict, S::Active},
  {S::HandingOver, E::OperatorFailover, S::HandingOver}, {S::HandingOver, E::OperatorTakeover, S::HandingOver},
  {S::HandingOver, E::MaintenanceOn, S::HandingOver}, {S::HandingOver, E::MaintenanceOff, S::HandingOver},
  {S::HandingOver, E::Shutdown, S::Terminated}, {S::HandingOver, E::SelfTest, S::HandingOver},
  // Maintenance: never active; only maintenance off leaves it.
  {S::Maintenance, E::Start, S::Maintenance}, {S::Maintenance, E::PeerHeartbeat, S::Maintenance},
  {S::Maintenance, E::PeerHandoverRequest, S::Maintenance}, {S::Maintenance, E::PeerHandoverReady, S::Maintenance},
  {S::Maintenance, E::PeerHandoverRefused, S::Maintenance}, {S::Maintenance, E::PeerHandoverCommit, S::Maintenance},
  {S::Maintenance, E::PeerTakeoverRequest, S::Maintenance}, {S::Maintenance, E::PeerChannelDown, S::Maintenance},
  {S::Maintenance, E::Tick, S::Maintenance}, {S::Maintenance, E::LinkDown, S::Maintenance},
  {S::Maintenance, E::LinkUp, S::Maintenance}, {S::Maintenance, E::SteeringAcquired, S::Maintenance},
  {S::Maintenance, E::SteeringFailed, S::Maintenance}, {S::Maintenance, E::TrafficConflict, S::Maintenance},
  {S::Maintenance, E::OperatorFailover, S::Maintenance}, {S::Maintenance, E::OperatorTakeover, S::Maintenance},
  {S::Maintenance, E::MaintenanceOn, S::Maintenance}, {S::Maintenance, E::MaintenanceOff, S::TakingOver},
  {S::Maintenance, E::Shutdown, S::Terminated}, {S::Maintenance, E::SelfTest, S::Maintenance},
  // Fault: unfit until the link comes back.
  {S::Fault, E::Start, S::Fault}, {S::Fault, E::PeerHeartbeat, S::Fault},
  {S::Fault, E::PeerHandoverRequest, S::Fault}, {S::Fault, E::PeerHandoverReady, S::Fault},
  {S::Fault, E::PeerHandoverRefused, S::Fault}, {S::Fault, E::PeerHandoverCommit, S::Fault},
  {S::Fault, E::PeerTakeoverRequest, S::Fault}, {S::Fault, E::PeerChannelDown, S::Fault},
  {S::Fault, E::Tick, S::Fault}, {S::Fault, E::LinkDown, S::Fault},
  {S::Fault, E::LinkUp, S::TakingOver}, {S::Fault, E::SteeringAcquired, S::Fault},
  {S::Fault, E::SteeringFailed, S::Fault}, {S::Fault, E::TrafficConflict, S::Fault},
  {S::Fault, E::OperatorFailover, S::Fault}, {S::Fault, E::OperatorTakeover, S::Fault},
  {S::Fault, E::MaintenanceOn, S::Maintenance}, {S::Fault, E::MaintenanceOff, S::Fault},
  {S::Fault, E::Shutdown, S::Terminated}, {S::Fault, E::SelfTest, S::Fault},
};
// clang-format on

// States and events for which every event but the listed ones leaves the state unchanged.
const std::map<S, std::map<E, S>> kSparse = {
    {S::Init, {{E::Start, S::Waiting}, {E::Shutdown, S::Terminated}}},
    {S::Standalone, {{E::Shutdown, S::Terminated}}},
    {S::Terminated, {}},
};

TEST(HaStateMachineTable, EveryStateEventPairIsCovered) {
  std::set<std::pair<int, int>> seen;
  for (const auto& r : kTable) {
    seen.insert({static_cast<int>(r.from), static_cast<int>(r.event)});
  }
  for (int s = 0; s < kHaStateCount; ++s) {
    if (kSparse.contains(static_cast<S>(s))) {
      continue;
    }
    for (int e = 0; e < kHaEventCount; ++e) {
      EXPECT_TRUE(seen.contains({s, e}))
          << "no row for " << toString(static_cast<S>(s)) << " x " << toString(static_cast<E>(e));
    }
  }
}

TEST(HaStateMachineTable, Transitions) {
  for (const auto& r : kTable) {
    SCOPED_TRACE(fmt::format("{} x {} -> {}", r.from, r.event, r.to));
    auto d = driveTo(r.from);
    fireDefault(d, r.event);
    EXPECT_EQ(d.m.state(), r.to) << "reason: " << d.last.reason;
  }
}

TEST(HaStateMachineTable, SparseStates) {
  for (const auto& [from, special] : kSparse) {
    for (int e = 0; e < kHaEventCount; ++e) {
      const auto ev = static_cast<E>(e);
      SCOPED_TRACE(fmt::format("{} x {}", from, ev));
      auto d = driveTo(from);
      fireDefault(d, ev);
      const auto it = special.find(ev);
      EXPECT_EQ(d.m.state(), it == special.end() ? from : it->second);
    }
  }
}

} // namespace
} // namespace rmha::failover

namespace rmha::failover {
namespace {

action::AcquireTraffic::Probe probeOf(const Transition& t) {
  for (const auto& a : t.actions) {
    if (const auto* acq = std::get_if<action::AcquireTraffic>(&a)) {
      return acq->probe;
    }
  }
  ADD_FAILURE() << "no AcquireTraffic";
  return action::AcquireTraffic::Probe::Strict;
}

using Probe = action::AcquireTraffic::Probe;

TEST(HaStateMachineProbe, NeverHeardPeerMeansStrictProbe) {
  Driver d(settings(2));
  d.fire(E::Start);
  d.now += 61ms;
  EXPECT_EQ(probeOf(d.fire(E::Tick)), Probe::Strict);
}

TEST(HaStateMachineProbe, SilentPeerIsAskedFirst) {
  // Its answer holds the claim for one window; only then is it its leftover VIP (ha_stall_test).
  Driver d(settings(2));
  d.fire(E::Start);
  d.peer(E::PeerHeartbeat, peerAs(S::Active));
  d.now += 61ms;
  EXPECT_EQ(probeOf(d.fire(E::Tick)), Probe::AskPeer);
}

TEST(HaStateMachineProbe, ClosedChannelOrHandoverMeansNoProbe) {
  Driver d(settings(2));
  d.fire(E::Start);
  d.peer(E::PeerHeartbeat, peerAs(S::Active));
  EXPECT_EQ(probeOf(d.fire(E::PeerChannelDown)), Probe::None);
}

TEST(HaStateMachineConflict, BrokenPeerLinkIsResolvedByMemberIndexOnBothSides) {
  for (int member : {1, 2}) {
    Driver d(settings(member, member == 2 ? 250 : 100));
    d.fire(E::Start);
    d.now += 61ms;
    d.fire(E::Tick);
    d.fire(E::SteeringAcquired);
    ASSERT_EQ(d.m.state(), S::Active);
    EventInput in;
    in.detail = "MAC 02:00:00:00:01:12";
    d.fire(E::TrafficConflict, in);
    EXPECT_EQ(d.m.state(), member == 1 ? S::Active : S::Standby) << "member " << member;
  }
}

} // namespace
} // namespace rmha::failover

namespace rmha::failover {
namespace {

TEST(HaStateMachineDeadlines, ActiveWithASilentPeerHasNoPastDeadline) {
  Driver d(settings(1));
  d.fire(E::Start);
  d.now += 61ms;
  d.fire(E::Tick);
  d.fire(E::SteeringAcquired);
  d.peer(E::PeerHeartbeat, peerAs(S::Standby));
  d.now += 1s; // the peer fell silent long ago
  d.fire(E::Tick);
  const auto next = d.m.nextDeadline(d.now);
  EXPECT_TRUE(!next || *next > d.now); // never a deadline already passed: no busy loop
}

TEST(HaStateMachineDeadlines, ReturningPeerMakesTheActiveReannounce) {
  Driver d(settings(1));
  d.fire(E::Start);
  d.now += 61ms;
  d.fire(E::Tick);
  d.fire(E::SteeringAcquired);
  d.peer(E::PeerHeartbeat, peerAs(S::Standby));
  d.now += 1s;
  const auto t = d.peer(E::PeerHeartbeat, peerAs(S::Standby));
  bool reassert = false;
  for (const auto& a : t.actions) {
    reassert |= std::holds_alternative<action::ReassertTraffic>(a);
  }
  EXPECT_TRUE(reassert);
  EXPECT_EQ(d.m.state(), S::Active);
}

} // namespace
} // namespace rmha::failover

namespace rmha::failover {
namespace {

TEST(HaStateMachineFitness, APeerWhoseClaimFailedIsReplacedWithoutAProbe) {
  // It released before saying so: there is nothing to probe for, and no dead interval to wait.
  Driver d(settings(2));
  d.fire(E::Start);
  d.peer(E::PeerHeartbeat, peerAs(S::TakingOver));
  auto p = peerAs(S::Fault);
  p.fit = false;
  p.unfitCode = core::UnfitCode::ClaimFailed;
  p.claimFailed = true;
  const auto t = d.peer(E::PeerHeartbeat, p);
  EXPECT_EQ(d.m.state(), S::TakingOver);
  EXPECT_EQ(probeOf(t), Probe::None);
}

TEST(HaStateMachineFitness, LinkUpDoesNotMakeASelfTestFailedNodeFit) {
  Driver d(settings(1));
  EventInput in;
  in.selfTest = {core::UnfitCode::NoInterface, "cannot claim: no eth9"};
  d.fire(E::Start, in);
  ASSERT_EQ(d.m.state(), S::Fault);
  d.fire(E::LinkDown);
  const auto t = d.fire(E::LinkUp);
  EXPECT_EQ(d.m.state(), S::Fault);
  EXPECT_FALSE(d.m.fit());
  EXPECT_EQ(d.m.unfitReason(), "cannot claim: no eth9");
  // ... but it retests at once: what failed may have come back with the link.
  bool retest = false;
  for (const auto& a : t.actions) {
    retest |= std::holds_alternative<action::RunSelfTest>(a);
  }
  EXPECT_TRUE(retest);
}

TEST(HaStateMachineFitness, TheBackOffDoublesToItsCapAndASuccessfulClaimResetsIt) {
  Driver d(settings(1));
  d.fire(E::Start);
  d.now += 61ms;
  std::vector<double> backoffs;
  for (int i = 0; i < 7; ++i) {
    d.fire(E::Tick);  // no peer: the election (then each retest's Standby) claims
    ASSERT_EQ(d.m.state(), S::TakingOver) << i;
    d.fire(E::SteeringFailed);
    ASSERT_EQ(d.m.state(), S::Fault);
    const auto next = d.m.nextDeadline(d.now);
    ASSERT_TRUE(next);
    backoffs.push_back(core::toMillis(*next - d.now));
    d.now = *next;
    d.fire(E::Tick);  // RunSelfTest
    EventInput ok;
    d.fire(E::SelfTest, ok);
  }
  EXPECT_EQ(backoffs, (std::vector<double>{1000, 2000, 4000, 8000, 16000, 30000, 30000}));
  ASSERT_EQ(d.m.state(), S::TakingOver);
  d.fire(E::SteeringAcquired);
  EXPECT_EQ(d.m.claimFailures(), 0);
}

} // namespace
} // namespace rmha::failover
