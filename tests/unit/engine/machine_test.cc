// The HA state machine in scenarios on simulated time: the probe a takeover uses, conflicts,
// deadlines and fitness. Every (state, event) pair is in ha_state_table_test.cc.
#include <gtest/gtest.h>

#include "tests/unit/engine/machine_support.h"

namespace rmha::failover {
namespace {

using namespace std::chrono_literals;
using namespace rmha::test;
using S = HaState;
using E = HaEvent;
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
