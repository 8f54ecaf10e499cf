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
