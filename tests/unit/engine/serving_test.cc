// The serving sub-state in the machine: what the service does with new requests through a
// takeover, a release and a graceful handover, as action lists and as the state the machine
// reports. The shell only applies these (service_*_test.cc, handover_sessions_test.cc).
#include <gtest/gtest.h>

#include "tests/unit/engine/machine_support.h"

namespace rmha::failover {
namespace {

using namespace std::chrono_literals;
using namespace rmha::test;
using S = HaState;
using E = HaEvent;

// Member 1, active, with a fit standby (member 2) heard.
Driver activeWithStandby(bool handoverSync = false) {
  Driver d(settings(1));
  d.m.setHandoverSync(handoverSync);
  d.fire(E::Start);
  d.now += 61ms;
  d.fire(E::Tick);
  d.fire(E::SteeringAcquired);
  d.peer(E::PeerHeartbeat, peerAs(S::Standby));
  EXPECT_EQ(d.m.state(), S::Active);
  EXPECT_EQ(d.m.serving(), Serving::Serve);
  return d;
}

EventInput prepared(bool ok, std::string why = {}) {
  EventInput in;
  in.prepared = ok;
  in.detail = std::move(why);
  return in;
}

TEST(HaServing, ATakeoverAbsorbsWhileItClaimsAndServesOnceTheTrafficIsOurs) {
  Driver d(settings(1));
  d.fire(E::Start);
  EXPECT_EQ(d.m.serving(), Serving::Refuse);
  d.now += 61ms;
  EXPECT_EQ(actionList(d.fire(E::Tick)), "pause acquire(strict)");
  EXPECT_EQ(d.m.serving(), Serving::Pause);
  EXPECT_EQ(actionList(d.fire(E::SteeringAcquired)), "serve send(heartbeat)");
  EXPECT_EQ(d.m.serving(), Serving::Serve);
}

TEST(HaServing, AFailedClaimRefusesAgain) {
  Driver d(settings(1));
  d.fire(E::Start);
  d.now += 61ms;
  d.fire(E::Tick);
  EventInput failed;
  failed.detail = "Operation not permitted";
  EXPECT_EQ(actionList(d.fire(E::SteeringFailed, failed)), "refuse release");
  EXPECT_EQ(d.m.serving(), Serving::Refuse);
}

TEST(HaServing, AReleaseAbsorbsUntilThePeerIsHeardServing) {
  auto d = activeWithStandby();
  EXPECT_EQ(actionList(d.peer(E::PeerTakeoverRequest, peerAs(S::Standby, 0x02000009))),
            "pause(close) await release send(heartbeat) send(handover-commit)");
  EXPECT_EQ(d.m.serving(), Serving::Pause);
  d.now += 10ms;
  EXPECT_EQ(actionList(d.peer(E::PeerHeartbeat, peerAs(S::TakingOver))), "");
  EXPECT_EQ(d.m.serving(), Serving::Pause);
  d.now += 10ms;
  EXPECT_EQ(actionList(d.peer(E::PeerHeartbeat, peerAs(S::Active))), "refuse");
  EXPECT_EQ(d.m.serving(), Serving::Refuse);
}

TEST(HaServing, AReleaseRefusesAfterHandoverTimeoutWhenNobodyServes) {
  auto d = activeWithStandby();
  d.fire(E::LinkDown);
  ASSERT_EQ(d.m.state(), S::Fault);
  ASSERT_EQ(d.m.serving(), Serving::Pause);
  const auto deadline = d.now + 500ms;
  d.now += 400ms;
  EXPECT_EQ(d.m.pauseDeadline(), deadline);  // the pause's end is a deadline of its own
  EXPECT_EQ(d.m.nextDeadline(d.now), std::nullopt);  // not one that runs the election
  d.now = deadline;
  EXPECT_EQ(actionList(d.fire(E::PauseEnded)), "refuse");
  EXPECT_EQ(d.m.serving(), Serving::Refuse);
  EXPECT_EQ(d.m.pauseDeadline(), std::nullopt);
}

TEST(HaServing, ThePauseEndDoesNotMakeALoserOfAConflictClaimAgain) {
  // A one-way cut: member 2 cannot hear member 1, claims, and loses the conflict to it. Its
  // pause's end must change what it does with requests, not its role: claiming again every
  // handover-timeout would move the VIP away from the healthy active each time.
  Driver d(settings(2));
  d.fire(E::Start);
  d.peer(E::PeerHeartbeat, peerAs(S::Active, 0, 1));
  d.now += 61ms;
  d.fire(E::Tick);
  ASSERT_EQ(d.m.state(), S::TakingOver);
  d.fire(E::SteeringAcquired);
  EventInput conflict;
  conflict.detail = "MAC 02:00:00:00:01:11";
  EXPECT_EQ(actionList(d.fire(E::TrafficConflict, conflict)),
            "pause(close) await release send(heartbeat)");
  ASSERT_EQ(d.m.state(), S::Standby);
  d.now = *d.m.pauseDeadline();
  EXPECT_EQ(actionList(d.fire(E::PauseEnded)), "refuse");
  EXPECT_EQ(d.m.state(), S::Standby);
}

TEST(HaServing, TheLoserOfADualActiveRefusesAtOnce) {
  auto d = activeWithStandby();
  auto peer = peerAs(S::Active);
  peer.priority = 200;  // the peer wins
  EXPECT_EQ(actionList(d.peer(E::PeerHeartbeat, peer)), "refuse await release send(heartbeat)");
  EXPECT_EQ(d.m.state(), S::Standby);
  EXPECT_EQ(d.m.serving(), Serving::Refuse);
}

TEST(HaServing, AnActiveWaitsForTheOutcomeOfAPeersClaimInsteadOfLettingGo) {
  auto d = activeWithStandby();
  auto claiming = peerAs(S::TakingOver);
  claiming.priority = 200;  // it would win an election
  EXPECT_EQ(actionList(d.peer(E::PeerHeartbeat, claiming)), "");
  EXPECT_EQ(d.m.state(), S::Active);
  EXPECT_EQ(d.m.serving(), Serving::Serve);
  // The claim failed (this node answered its probe): the peer is a standby again.
  auto standby = peerAs(S::Standby);
  standby.priority = 200;
  EXPECT_EQ(actionList(d.peer(E::PeerHeartbeat, standby)), "");
  EXPECT_EQ(d.m.state(), S::Active);
}

TEST(HaServing, AClaimThatSucceedsIsDecidedByTheElection) {
  auto d = activeWithStandby();
  auto peer = peerAs(S::TakingOver);
  peer.priority = 200;
  (void)d.peer(E::PeerHeartbeat, peer);
  ASSERT_EQ(d.m.state(), S::Active);
  peer.state = S::Active;
  EXPECT_EQ(actionList(d.peer(E::PeerHeartbeat, peer)), "refuse await release send(heartbeat)");
  EXPECT_EQ(d.m.state(), S::Standby);
}

TEST(HaServing, WithoutHandoverSyncAFailoverHandsOverAtOnce) {
  auto d = activeWithStandby(false);
  EXPECT_EQ(actionList(d.fire(E::OperatorFailover)), "send(handover-request)");
  EXPECT_EQ(d.m.state(), S::HandingOver);
  EXPECT_EQ(d.m.serving(), Serving::Serve);
}

TEST(HaServing, AGracefulHandoverHoldsNewCallsBackUntilTheStandbyHoldsEverySession) {
  auto d = activeWithStandby(true);
  EXPECT_EQ(actionList(d.fire(E::OperatorFailover)), "pause(close) prepare-handover");
  EXPECT_EQ(d.m.state(), S::Active);
  EXPECT_TRUE(d.m.preparingHandover());
  EXPECT_EQ(d.m.serving(), Serving::Pause);
  EXPECT_EQ(actionList(d.fire(E::Tick)), "");  // still waiting, still absorbing
  EXPECT_EQ(d.m.serving(), Serving::Pause);
  EXPECT_EQ(actionList(d.fire(E::HandoverPrepared, prepared(true))), "send(handover-request)");
  EXPECT_EQ(d.m.state(), S::HandingOver);
  EXPECT_EQ(actionList(d.peer(E::PeerHandoverReady, peerAs(S::Standby, d.lastSentId))),
            "pause(close) await release send(heartbeat) send(handover-commit) answer(ok)");
  EXPECT_EQ(d.m.state(), S::Standby);
}

TEST(HaServing, AGracefulHandoverTheStandbyCouldNotPrepareServesAgain) {
  auto d = activeWithStandby(true);
  d.fire(E::OperatorFailover);
  EXPECT_EQ(actionList(d.fire(E::HandoverPrepared, prepared(false, "3 of 5 acknowledged"))),
            "serve answer(refused)");
  EXPECT_EQ(d.m.state(), S::Active);
  EXPECT_FALSE(d.m.preparingHandover());
  EXPECT_EQ(d.m.serving(), Serving::Serve);
}

TEST(HaServing, AHandoverRefusedAfterThePreparationServesAgain) {
  auto d = activeWithStandby(true);
  d.fire(E::MaintenanceOn);
  d.fire(E::HandoverPrepared, prepared(true));
  ASSERT_EQ(d.m.state(), S::HandingOver);
  EXPECT_EQ(actionList(d.peer(E::PeerHandoverRefused, peerAs(S::Standby, d.lastSentId))),
            "answer(refused) serve");
  EXPECT_EQ(d.m.state(), S::Active);
  EXPECT_EQ(d.m.serving(), Serving::Serve);
}

TEST(HaServing, APreparationOvertakenByEventsIsAnsweredAndItsLateAnswerIgnored) {
  auto d = activeWithStandby(true);
  d.fire(E::OperatorFailover);
  EXPECT_EQ(actionList(d.fire(E::LinkDown)),
            "pause(close) await release send(heartbeat) answer(refused)");
  EXPECT_EQ(d.m.state(), S::Fault);
  EXPECT_FALSE(d.m.preparingHandover());
  EXPECT_EQ(actionList(d.fire(E::HandoverPrepared, prepared(true))), "");
  EXPECT_EQ(d.m.state(), S::Fault);
}

TEST(HaServing, NothingIsHeldBackWhenNobodyCouldTakeOver) {
  auto d = activeWithStandby(true);
  d.peer(E::PeerHeartbeat, peerAs(S::Maintenance));
  EXPECT_EQ(actionList(d.fire(E::OperatorFailover)), "answer(refused)");
  EXPECT_EQ(d.m.serving(), Serving::Serve);
  EXPECT_FALSE(d.m.preparingHandover());
}

TEST(HaServing, ASecondCommandWhilePreparingIsRefused) {
  auto d = activeWithStandby(true);
  d.fire(E::OperatorFailover);
  EXPECT_EQ(actionList(d.fire(E::MaintenanceOn)), "answer(refused)");
  EXPECT_TRUE(d.m.preparingHandover());
}

} // namespace
} // namespace rmha::failover
