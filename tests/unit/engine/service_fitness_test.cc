// HaService and fitness: the self-test at start, the unfit code in the heartbeat, fit_reason
// in status, a failed claim's back-off and retest, the peer's reason in status.
#include <gtest/gtest.h>

#include "failover/engine/service.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_ha_ports.h"

namespace rmha::failover {
namespace {

using namespace std::chrono_literals;

class RecordingPeer final : public PeerTransport {
public:
  void send(PeerMessage m) override { sent.push_back(m); }
  bool channelUp() const override { return true; }
  std::vector<PeerMessage> sent;
};

class HaServiceFitness : public ::testing::Test {
protected:
  void start() {
    HaServiceOptions o;
    o.engine.mode = EngineSettings::Mode::ActiveStandby;
    o.engine.localMember = 1;
    o.engine.priority = 200;
    o.engine.deadInterval = 25ms;
    o.engine.electionWait = 25ms;
    o.heartbeatInterval = 10ms;
    ha = std::make_unique<HaService>(o, clock, clock, &peer, steering, links, service, service);
    ha->start();
  }
  void hearPeer(HaState state, bool fit = true, std::uint8_t code = 0) {
    PeerMessage m;
    m.kind = PeerMsgKind::Heartbeat;
    m.member = 2;
    m.state = state;
    m.priority = 100;
    m.flags = fit ? kFlagFit : 0;
    m.unfitCode = code;
    ha->onPeerMessage(m, 0);
  }

  test::FakeClock clock;
  RecordingPeer peer;
  test::FakeSteering steering;
  test::FakeLinks links;
  test::FakeService service;
  std::unique_ptr<HaService> ha;
};

TEST_F(HaServiceFitness, ASelfTestFailedAtStartIsInStatusAndInEveryHeartbeat) {
  steering.selfTestResult = {core::UnfitCode::NoCapNetAdmin,
                             "cannot claim: the process lacks CAP_NET_ADMIN"};
  start();
  EXPECT_EQ(ha->state(), HaState::Fault);
  const auto s = ha->status();
  EXPECT_FALSE(s["fit"].get<bool>());
  EXPECT_EQ(s["fit_reason"], "cannot claim: the process lacks CAP_NET_ADMIN");
  ASSERT_FALSE(peer.sent.empty());
  EXPECT_EQ(peer.sent.back().flags & kFlagFit, 0);
  EXPECT_EQ(peer.sent.back().unfitCode, 3);
  hearPeer(HaState::Standby);
  clock.advance(1s);
  EXPECT_EQ(ha->state(), HaState::Fault);  // never elected, though it outranks the peer
  EXPECT_EQ(steering.acquires, 0);
}

TEST_F(HaServiceFitness, AFailedClaimIsFaultThenASelfTestThenStandby) {
  steering.acquireError = std::make_error_code(std::errc::operation_not_permitted);
  start();
  hearPeer(HaState::Standby);  // the election: this node outranks the peer and claims
  ASSERT_EQ(steering.acquires, 1);
  EXPECT_EQ(ha->state(), HaState::Fault);
  EXPECT_EQ(peer.sent.back().state, HaState::Fault);  // announced at once
  EXPECT_EQ(peer.sent.back().flags & kFlagFit, 0);
  EXPECT_NE(peer.sent.back().flags & kFlagClaimFailed, 0);
  EXPECT_EQ(peer.sent.back().unfitCode, static_cast<std::uint8_t>(core::UnfitCode::ClaimFailed));
  EXPECT_NE(ha->status()["fit_reason"].get<std::string>().find("Operation not permitted"),
            std::string::npos);
  const int testsBefore = steering.selfTests;
  for (int i = 0; i < 99; ++i) {  // the peer takes over and serves; 990 ms pass
    hearPeer(HaState::Active);
    clock.advance(10ms);
  }
  EXPECT_EQ(steering.selfTests, testsBefore);
  EXPECT_EQ(ha->state(), HaState::Fault);
  hearPeer(HaState::Active);
  clock.advance(20ms);
  EXPECT_EQ(steering.selfTests, testsBefore + 1);
  EXPECT_EQ(ha->state(), HaState::Standby);
  EXPECT_EQ(steering.acquires, 1);
  EXPECT_TRUE(ha->status()["fit"].get<bool>());
}

// An adapter that throws in the middle of a transition: the node must not stay on a
// transition half-applied (TakingOver with no claim under way, for ever) nor let the
// exception end the HA loop. It goes to the safe state: not serving, the traffic released,
// the peer told it is unfit (so that the peer takes over now), then a self-test after the
// back-off, and the election again.
TEST_F(HaServiceFitness, AnActionThatThrowsTakesTheNodeToFaultThenASelfTestThenTheElection) {
  steering.acquireThrows = 1;
  start();
  hearPeer(HaState::Standby);  // the election: this node outranks the peer and claims
  ASSERT_EQ(steering.acquires, 1);
  EXPECT_EQ(ha->state(), HaState::Fault);
  EXPECT_GE(steering.releases, 1);
  EXPECT_FALSE(service.serving);
  EXPECT_EQ(peer.sent.back().state, HaState::Fault);  // announced at once
  EXPECT_EQ(peer.sent.back().flags & kFlagFit, 0);
  EXPECT_EQ(peer.sent.back().unfitCode, static_cast<std::uint8_t>(core::UnfitCode::InternalError));
  const auto s = ha->status();
  EXPECT_EQ(s["internal_errors"], 1);
  EXPECT_NE(s["fit_reason"].get<std::string>().find("the fake's acquire threw"),
            std::string::npos) << s["fit_reason"];
  const int testsBefore = steering.selfTests;
  for (int i = 0; i < 99; ++i) {  // 990 ms of the 1 s back-off; the peer stays standby
    hearPeer(HaState::Standby);
    clock.advance(10ms);
  }
  EXPECT_EQ(steering.selfTests, testsBefore);
  EXPECT_EQ(ha->state(), HaState::Fault);
  hearPeer(HaState::Standby);
  clock.advance(20ms);
  EXPECT_EQ(steering.selfTests, testsBefore + 1);
  EXPECT_EQ(steering.acquires, 2);  // fit again, it wins the election and claims
  EXPECT_EQ(ha->state(), HaState::Active);
  EXPECT_TRUE(service.serving);
}

// The safe state's own actions throw too (release throws every time): no loop of internal
// errors, no exception out of the HA loop; the node stays unfit until the self-test.
TEST_F(HaServiceFitness, ASafeStateThatThrowsTooDoesNotLoop) {
  start();
  hearPeer(HaState::Active);  // standby behind an active peer
  ASSERT_EQ(ha->state(), HaState::Standby);
  steering.releaseThrows = 1000;
  steering.acquireThrows = 1;
  ha->command(HaEvent::OperatorTakeover, [](bool, const std::string&) {});
  hearPeer(HaState::Standby);  // the peer hands over; whatever the path, no throw escapes
  clock.advance(50ms);
  EXPECT_NE(ha->state(), HaState::Active);
  EXPECT_LE(ha->status()["internal_errors"].get<int>(), 2);
  EXPECT_LT(steering.releases, 10);
}

TEST_F(HaServiceFitness, StatusNamesThePeersReason) {
  start();
  hearPeer(HaState::Fault, false, static_cast<std::uint8_t>(core::UnfitCode::NoCapNetRaw));
  const auto s = ha->status();
  EXPECT_FALSE(s["peer"]["fit"].get<bool>());
  EXPECT_EQ(s["peer"]["fit_reason"], "peer unfit: cannot claim (no CAP_NET_RAW)");
}

TEST_F(HaServiceFitness, BothUnfitIsSaidInStatus) {
  steering.selfTestResult = {core::UnfitCode::NoInterface, "cannot claim: no eth9"};
  start();
  hearPeer(HaState::Fault, false, static_cast<std::uint8_t>(core::UnfitCode::NoCapNetAdmin));
  EXPECT_EQ(ha->status()["pair_warning"], "neither node is fit: nobody holds the traffic");
}

} // namespace
} // namespace rmha::failover
