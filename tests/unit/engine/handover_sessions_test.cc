// Graceful handover with session replication (HaService + HandoverGate): the active stops
// taking new calls, asks the gate, and only hands over once the standby holds every session;
// when the gate says no, the command fails and the node serves again.
#include <gtest/gtest.h>

#include <vector>

#include "failover/engine/service.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_ha_ports.h"

namespace rmha::failover {
namespace {

using namespace std::chrono_literals;

class FakePeer final : public PeerTransport {
public:
  void send(PeerMessage m) override { sent.push_back(m); }
  bool channelUp() const override { return true; }
  std::uint32_t handoverId() const {
    for (const auto& m : sent) {
      if (m.kind == PeerMsgKind::HandoverRequest) {
        return m.handoverId;
      }
    }
    return 0;
  }
  bool sentKind(PeerMsgKind k) const {
    for (const auto& m : sent) {
      if (m.kind == k) {
        return true;
      }
    }
    return false;
  }
  std::vector<PeerMessage> sent;
};

using test::FakeLinks;
using test::FakeService;
using test::FakeSteering;

class FakeGate final : public HandoverGate {
public:
  void prepareHandover(core::Duration t, std::function<void(bool, const std::string&)> d) override {
    timeout = t;
    done = std::move(d);
  }
  core::Duration timeout{};
  std::function<void(bool, const std::string&)> done;
};

class GracefulHandover : public ::testing::Test {
protected:
  void SetUp() override {
    HaServiceOptions o;
    o.engine.mode = EngineSettings::Mode::ActiveStandby;
    o.engine.localMember = 1;
    o.engine.deadInterval = 60ms;
    o.engine.handoverTimeout = 500ms;
    o.engine.electionWait = 60ms;
    o.handoverSyncTimeout = 2s;
    ha = std::make_unique<HaService>(o, clock, clock, &peer, steering, links, service, service);
    ha->setHandoverGate(&gate);
    ha->start();
    heartbeat(HaState::Standby);
    ASSERT_EQ(ha->state(), HaState::Active);
    ASSERT_TRUE(service.serving);
  }

  void heartbeat(HaState s, PeerMsgKind kind = PeerMsgKind::Heartbeat, std::uint32_t id = 0) {
    PeerMessage m;
    m.kind = kind;
    m.member = 2;
    m.state = s;
    m.priority = 100;
    m.flags = kFlagFit;
    m.handoverId = id;
    ha->onPeerMessage(m, 0);
  }

  void failover() {
    ha->command(HaEvent::OperatorFailover, [this](bool ok, const std::string& msg) {
      answered = true;
      result = ok;
      message = msg;
    });
  }

  test::FakeClock clock;
  FakePeer peer;
  FakeSteering steering;
  FakeLinks links;
  FakeService service;
  FakeGate gate;
  std::unique_ptr<HaService> ha;
  bool answered = false;
  bool result = false;
  std::string message;
};

TEST_F(GracefulHandover, StopsNewCallsAndHandsOverOnlyOnceTheStandbyHoldsEverything) {
  failover();
  EXPECT_FALSE(service.serving);                 // no new calls from now on...
  EXPECT_TRUE(service.paused);                   // ...held back for the standby, not refused
  ASSERT_TRUE(gate.done);                        // the gate was asked
  EXPECT_EQ(gate.timeout, 2s);
  EXPECT_FALSE(peer.sentKind(PeerMsgKind::HandoverRequest)); // not before the standby has all
  EXPECT_EQ(ha->state(), HaState::Active);
  gate.done(true, "");
  EXPECT_TRUE(peer.sentKind(PeerMsgKind::HandoverRequest));
  EXPECT_EQ(ha->state(), HaState::HandingOver);
  heartbeat(HaState::Standby, PeerMsgKind::HandoverReady, peer.handoverId());
  EXPECT_EQ(ha->state(), HaState::Standby);
  EXPECT_TRUE(answered);
  EXPECT_TRUE(result) << message;
  EXPECT_FALSE(service.serving);
}

TEST_F(GracefulHandover, OldActiveAbsorbsNewCallsUntilThePeerServes) {
  // Between letting the VIP go and the peer serving, a new call that reaches this node is
  // held back (its retransmission goes to the peer), not refused; then it is refused (503).
  failover();
  gate.done(true, "");
  heartbeat(HaState::Standby, PeerMsgKind::HandoverReady, peer.handoverId());
  ASSERT_EQ(ha->state(), HaState::Standby);
  EXPECT_TRUE(service.paused);
  heartbeat(HaState::TakingOver);
  EXPECT_TRUE(service.paused);
  heartbeat(HaState::Active);
  EXPECT_FALSE(service.paused);
  EXPECT_FALSE(service.serving);
}

TEST_F(GracefulHandover, OldActiveRefusesAfterHandoverTimeoutWhenThePeerIsNotHeardServing) {
  failover();
  gate.done(true, "");
  heartbeat(HaState::Standby, PeerMsgKind::HandoverReady, peer.handoverId());
  ASSERT_TRUE(service.paused);
  for (int i = 0; i < 8; ++i) { // the peer stays alive but does not serve for 400 ms
    clock.advance(50ms);
    heartbeat(HaState::TakingOver);
  }
  EXPECT_TRUE(service.paused);
  for (int i = 0; i < 4; ++i) { // handover-timeout (500 ms) passes
    clock.advance(50ms);
    heartbeat(HaState::TakingOver);
  }
  EXPECT_FALSE(service.paused);
  EXPECT_FALSE(service.serving);
  EXPECT_EQ(ha->state(), HaState::Standby);
}

TEST_F(GracefulHandover, GateFailureKeepsTheNodeActiveAndServing) {
  failover();
  ASSERT_TRUE(gate.done);
  gate.done(false, "the standby acknowledged 3 of 5 record(s) in time");
  EXPECT_TRUE(answered);
  EXPECT_FALSE(result);
  EXPECT_NE(message.find("graceful handover aborted: the standby acknowledged 3 of 5"),
            std::string::npos) << message;
  EXPECT_EQ(ha->state(), HaState::Active);
  EXPECT_TRUE(service.serving);
  EXPECT_FALSE(peer.sentKind(PeerMsgKind::HandoverRequest));
}

TEST_F(GracefulHandover, RefusedHandoverAfterTheGateServesAgain) {
  failover();
  gate.done(true, "");
  heartbeat(HaState::Standby, PeerMsgKind::HandoverRefused, peer.handoverId());
  EXPECT_TRUE(answered);
  EXPECT_FALSE(result);
  EXPECT_EQ(ha->state(), HaState::Active);
  EXPECT_TRUE(service.serving);
}

TEST_F(GracefulHandover, NoGateWhenNobodyCouldTakeOver) {
  heartbeat(HaState::Maintenance);
  failover();
  EXPECT_FALSE(gate.done);  // the machine refuses at once, nothing stops serving
  EXPECT_TRUE(answered);
  EXPECT_FALSE(result);
  EXPECT_TRUE(service.serving);
}

TEST_F(GracefulHandover, NoAnswerFromTheGateIsAnsweredByTheSafetyNet) {
  failover();
  clock.advance(4s);
  EXPECT_TRUE(answered);
  EXPECT_FALSE(result);
  EXPECT_EQ(ha->state(), HaState::Active);
  EXPECT_TRUE(service.serving);
  gate.done(true, ""); // late: ignored
  EXPECT_EQ(ha->state(), HaState::Active);
}

} // namespace
} // namespace rmha::failover
namespace rmha::failover {
namespace {

// The active whose standby falls silent: the dead deadline passes once; the shell must not
// be asked to tick at that past deadline again and again (a busy loop on the HA thread).
TEST_F(GracefulHandover, SilentStandbyNeedsNoTickLoop) {
  clock.advance(1s); // returns only if no zero-delay timer re-arms itself forever
  EXPECT_EQ(ha->state(), HaState::Active);
  heartbeat(HaState::Standby); // heard again: its dead deadline counts again
  clock.advance(1s);
  EXPECT_EQ(ha->state(), HaState::Active);
}

} // namespace
} // namespace rmha::failover
