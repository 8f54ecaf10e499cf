// The release waits for the service without the HA thread waiting: AwaitService, then the
// traffic released only once the SIP thread has closed its connections (a posted answer) or
// 50 ms have passed; meanwhile events queue, no heartbeat tells of a state not yet true on
// the wire, and a shutdown finishes after the release.
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

class HaReleaseOrder : public ::testing::Test {
protected:
  // An active node with a fit standby, whose service answers only when the test says so.
  void SetUp() override {
    HaServiceOptions o;
    o.engine.mode = EngineSettings::Mode::ActiveStandby;
    o.engine.localMember = 1;
    o.engine.priority = 200;
    o.engine.deadInterval = 25ms;
    o.engine.electionWait = 25ms;
    o.heartbeatInterval = 10ms;
    ha = std::make_unique<HaService>(o, clock, clock, &peer, steering, links, service, service);
    ha->start();
    hearStandby();
    ASSERT_EQ(ha->state(), HaState::Active);
    ASSERT_TRUE(service.serving);
    service.deferDone = true;
    peer.sent.clear();
  }
  void hearStandby() {
    PeerMessage m;
    m.kind = PeerMsgKind::Heartbeat;
    m.member = 2;
    m.state = HaState::Standby;
    m.priority = 100;
    m.flags = kFlagFit;
    ha->onPeerMessage(m, 0);
  }

  test::FakeClock clock;
  RecordingPeer peer;
  test::FakeSteering steering;
  test::FakeLinks links;
  test::FakeService service;
  std::unique_ptr<HaService> ha;
};

TEST_F(HaReleaseOrder, TheTrafficIsReleasedOnceTheServiceHasClosedItsConnections) {
  ha->onLinkHealth(false, "eth1 down");
  EXPECT_EQ(ha->state(), HaState::Fault);
  EXPECT_FALSE(service.serving);        // stop serving: asked at once
  EXPECT_EQ(steering.releases, 0);      // the address stays until the connections closed
  EXPECT_TRUE(peer.sent.empty());       // and nobody is told of a release not yet done
  hearStandby();                        // events wait their turn
  clock.advance(5ms);
  EXPECT_TRUE(peer.sent.empty());
  ASSERT_EQ(service.pendingDone.size(), 1u);
  service.pendingDone[0]();
  EXPECT_EQ(steering.releases, 1);
  ASSERT_FALSE(peer.sent.empty());
  EXPECT_EQ(peer.sent.front().state, HaState::Fault);
  EXPECT_EQ(ha->status()["counters"]["service_answers_over_bound"], 0);
}

TEST_F(HaReleaseOrder, AServiceThatDoesNotAnswerHoldsTheReleaseAtMost50ms) {
  ha->onLinkHealth(false, "eth1 down");
  clock.advance(49ms);
  EXPECT_EQ(steering.releases, 0);
  clock.advance(2ms);
  EXPECT_EQ(steering.releases, 1);
  EXPECT_EQ(ha->status()["counters"]["service_answers_over_bound"], 1);
  ASSERT_EQ(service.pendingDone.size(), 1u);
  service.pendingDone[0]();             // the late answer changes nothing
  EXPECT_EQ(steering.releases, 1);
}

TEST_F(HaReleaseOrder, AServiceThatAnswersAtOnceHoldsNothing) {
  service.deferDone = false;
  ha->onLinkHealth(false, "eth1 down");
  EXPECT_EQ(steering.releases, 1);
  ASSERT_FALSE(peer.sent.empty());
  EXPECT_EQ(peer.sent.front().state, HaState::Fault);
}

TEST_F(HaReleaseOrder, AShutdownFinishesAfterTheRelease) {
  bool done = false;
  ha->shutdown([&] { done = true; });
  EXPECT_EQ(ha->state(), HaState::Terminated);
  EXPECT_FALSE(done);
  EXPECT_EQ(steering.releases, 0);
  ASSERT_EQ(service.pendingDone.size(), 1u);
  service.pendingDone[0]();
  EXPECT_EQ(steering.releases, 1);
  EXPECT_TRUE(done);
}

} // namespace
} // namespace rmha::failover
