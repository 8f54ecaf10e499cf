// A node that was itself stalled does not blame its peer, and a silent peer whose own MAC
// still answers the takeover probe gets one more heartbeat window: the machine's rules on
// simulated time, then the shell's stall detection on the fake clock (timers that fire late).
#include <gtest/gtest.h>

#include "failover/engine/service.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_ha_ports.h"
#include "tests/unit/engine/machine_support.h"

namespace rmha::failover {

namespace {

using namespace std::chrono_literals;
using rmha::test::activePeer;
using rmha::test::probeOf;
using S = HaState;
using E = HaEvent;
using Probe = action::AcquireTraffic::Probe;

EngineSettings settings() {
  EngineSettings s;
  s.mode = EngineSettings::Mode::ActiveStandby;
  s.localMember = 2;
  s.deadInterval = 60ms;
  s.handoverTimeout = 500ms;
  s.electionWait = 60ms;
  s.peerAnswerWait = 20ms;
  return s;
}

struct Standby {
  HaStateMachine m{settings()};
  core::MonotonicTime now = core::MonotonicTime{} + 1h;
  Standby() {
    m.onEvent(E::Start, {}, now);
    heartbeat();
  }
  Transition fire(E e, EventInput in = {}) { return m.onEvent(e, in, now); }
  Transition heartbeat() { return fire(E::PeerHeartbeat, activePeer()); }
  Transition stalledTick(core::Duration d) {
    EventInput in;
    in.stalledFor = d;
    return fire(E::Tick, in);
  }
  Transition peerAnswered() {
    EventInput in;
    in.peerAnswered = true;
    in.detail = "the silent peer's own address answered for the VIP";
    return fire(E::SteeringFailed, in);
  }
};

TEST(HaStall, LateTickDoesNotDeclareThePeerLost) {
  Standby d;
  ASSERT_EQ(d.m.state(), S::Standby);
  d.now += 200ms;  // this node did not run: its deadline timer fires 140 ms late
  EXPECT_FALSE(probeOf(d.stalledTick(200ms)));
  EXPECT_EQ(d.m.state(), S::Standby);
  EXPECT_TRUE(d.m.peerAlive(d.now));
}

TEST(HaStall, HeartbeatsReadAfterTheStallKeepThePeerAlive) {
  Standby d;
  d.now += 200ms;
  d.stalledTick(200ms);
  for (int i = 0; i < 10; ++i) {
    d.now += 10ms;
    d.heartbeat();
    d.fire(E::Tick);
  }
  EXPECT_EQ(d.m.state(), S::Standby);
  EXPECT_EQ(d.m.stallGraceUntil(), core::MonotonicTime{});  // heard again: grace over
}

TEST(HaStall, RealSilenceAfterTheGraceIsStillDetectedWithinOneDeadInterval) {
  Standby d;
  d.now += 200ms;
  d.stalledTick(200ms);
  const auto grace = d.m.nextDeadline(d.now);
  ASSERT_TRUE(grace);
  EXPECT_EQ(*grace, d.now + 60ms);  // the extra delay is bounded: one dead interval
  d.now = *grace - 1ms;
  EXPECT_FALSE(probeOf(d.fire(E::Tick)));
  d.now = *grace;
  EXPECT_EQ(probeOf(d.fire(E::Tick)), Probe::AskPeer);
  EXPECT_EQ(d.m.state(), S::TakingOver);
}

TEST(HaStall, AStallAfterThePeerWasAlreadySilentGivesNoGrace) {
  Standby d;
  d.now += 100ms;  // silent for 100 ms before this node stalled for the last 30 ms
  EXPECT_EQ(probeOf(d.stalledTick(30ms)), Probe::AskPeer);
}

TEST(HaStall, AClosedChannelEndsTheGraceAtOnce) {
  Standby d;
  d.now += 200ms;
  d.stalledTick(200ms);
  EXPECT_EQ(probeOf(d.fire(E::PeerChannelDown)), Probe::None);
}

TEST(HaPeerAnswered, TheSilentPeersAnswerHoldsTheClaimOneWindowThenItGoesAhead) {
  Standby d;
  d.now += 61ms;
  ASSERT_EQ(probeOf(d.fire(E::Tick)), Probe::AskPeer);
  const auto t = d.peerAnswered();
  EXPECT_EQ(t.to, S::Standby);
  EXPECT_NE(t.reason.find("answered the probe"), std::string::npos) << t.reason;
  ASSERT_TRUE(d.m.nextDeadline(d.now));
  EXPECT_EQ(*d.m.nextDeadline(d.now), d.now + 20ms);  // no handover-timeout back-off
  d.now += 19ms;
  EXPECT_FALSE(probeOf(d.fire(E::Tick)));
  d.now += 1ms;
  EXPECT_EQ(probeOf(d.fire(E::Tick)), Probe::IgnorePeer);  // bounded: claims over its leftover
  EXPECT_EQ(d.m.state(), S::TakingOver);
}

TEST(HaPeerAnswered, AHeartbeatInTheWindowKeepsThePeerActive) {
  Standby d;
  d.now += 61ms;
  d.fire(E::Tick);
  d.peerAnswered();
  d.now += 5ms;
  d.heartbeat();  // it was stalled, not dead
  d.now += 30ms;
  d.fire(E::Tick);
  EXPECT_EQ(d.m.state(), S::Standby);
  d.now += 61ms;  // a new silence asks again first
  EXPECT_EQ(probeOf(d.fire(E::Tick)), Probe::AskPeer);
}

TEST(HaPeerAnswered, AClosedChannelInTheWindowClaimsAtOnceWithoutProbe) {
  Standby d;
  d.now += 61ms;
  d.fire(E::Tick);
  d.peerAnswered();
  d.now += 1ms;
  EXPECT_EQ(probeOf(d.fire(E::PeerChannelDown)), Probe::None);
}

TEST(HaPeerAnswered, AnOperatorTakeoverClaimsOverTheLeftoverAtOnce) {
  Standby d;
  d.now += 61ms;
  d.fire(E::Tick);
  d.peerAnswered();
  EXPECT_EQ(probeOf(d.fire(E::OperatorTakeover)), Probe::IgnorePeer);
}

// ---------------------------------------------------------------------------------------------
// The shell: timers that fire late are the node's own stall.

class RecordingPeer final : public PeerTransport {
public:
  void send(PeerMessage) override { ++sent; }
  bool channelUp() const override { return true; }
  int sent = 0;
};

class ShellStall : public ::testing::Test {
protected:
  void SetUp() override {
    HaServiceOptions o;
    o.engine = settings();
    o.heartbeatInterval = 10ms;
    ha = std::make_unique<HaService>(o, clock, clock, &peer, steering, links, service, service);
    ha->start();
    heartbeat();
  }
  void heartbeat() {
    PeerMessage m;
    m.member = 1;
    m.state = S::Active;
    m.priority = 100;
    m.flags = kFlagFit;
    ha->onPeerMessage(m, 0);
  }
  /// Time passes with the peer's heartbeat every 10 ms.
  void run(core::Duration d) {
    for (auto left = d; left > 0ms; left -= 10ms) {
      clock.advance(10ms);
      heartbeat();
    }
  }
  std::uint64_t counter(const char* name) { return ha->status()["counters"][name]; }

  test::FakeClock clock;
  RecordingPeer peer;
  test::FakeSteering steering;
  test::FakeLinks links;
  test::FakeService service;
  std::unique_ptr<HaService> ha;
};

TEST_F(ShellStall, LateTimersAfterAStallAreNotThePeersSilence) {
  run(100ms);
  ASSERT_EQ(ha->state(), S::Standby);
  clock.stall(300ms);     // the whole VM stood still: no timer fired, nothing was read
  clock.advance(1ms);     // the overdue timers fire first, late
  EXPECT_EQ(ha->state(), S::Standby);
  EXPECT_EQ(counter("stalls"), 1u);
  EXPECT_GE(ha->status()["counters"]["worst_stall_ms"].get<double>(), 250.0);
  run(200ms);             // the peer's heartbeats, queued and new, are read
  EXPECT_EQ(ha->state(), S::Standby);
  EXPECT_EQ(counter("stalls"), 1u);  // one episode, counted once
}

TEST_F(ShellStall, APeerEventReadFirstAfterTheStallAlsoSeesIt) {
  run(100ms);
  clock.stall(300ms);
  ha->onPeerChannel(true);  // a non-timer event comes first
  clock.advance(1ms);
  EXPECT_EQ(ha->state(), S::Standby);
  EXPECT_EQ(counter("stalls"), 1u);
}

TEST_F(ShellStall, ARealSilenceAfterTheStallIsStillALostPeer) {
  run(100ms);
  clock.stall(300ms);
  clock.advance(1ms);
  ASSERT_EQ(ha->state(), S::Standby);
  clock.advance(60ms);    // grace: one dead interval, then the peer is lost
  EXPECT_EQ(ha->state(), S::Active);
}

TEST_F(ShellStall, OrdinaryJitterIsNoStallAndTheWorstGapIsReported) {
  run(100ms);
  clock.advance(25ms);    // one heartbeat 25 ms late: below half the dead interval
  heartbeat();
  run(50ms);
  EXPECT_EQ(counter("stalls"), 0u);
  EXPECT_EQ(ha->state(), S::Standby);
  EXPECT_DOUBLE_EQ(ha->status()["counters"]["worst_heartbeat_gap_ms"].get<double>(), 25.0);
  EXPECT_DOUBLE_EQ(ha->status()["timers"]["dead_interval_ms"].get<double>(), 60.0);
}

} // namespace
} // namespace rmha::failover
