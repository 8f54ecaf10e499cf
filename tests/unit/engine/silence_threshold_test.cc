// The adaptive dead interval: the floor on a quiet path, 3/2 of the worst recent gap on a slow
// one, never above the ceiling, forgetting a gap after 50 to 60 s; then the machine using it.
#include <gtest/gtest.h>

#include "tests/unit/engine/machine_support.h"

namespace rmha::failover {

namespace {

using namespace std::chrono_literals;
using rmha::test::activePeer;
const core::MonotonicTime t0 = core::MonotonicTime{} + 1h;

TEST(SilenceThreshold, AQuietPathKeepsTheFloor) {
  SilenceThreshold s(15ms, 60ms);
  for (int i = 1; i <= 100; ++i) {
    s.recordGap(3ms, t0 + i * 3ms);
  }
  EXPECT_EQ(s.current(t0 + 1s), 15ms);
}

TEST(SilenceThreshold, ASlowPathRaisesItToThreeHalvesOfTheWorstGap) {
  SilenceThreshold s(15ms, 60ms);
  s.recordGap(3ms, t0);
  s.recordGap(30ms, t0 + 1s);
  s.recordGap(12ms, t0 + 2s);
  EXPECT_EQ(s.worstRecentGap(t0 + 2s), 30ms);
  EXPECT_EQ(s.current(t0 + 2s), 45ms);
}

TEST(SilenceThreshold, NeverAboveTheCeiling) {
  SilenceThreshold s(15ms, 60ms);
  s.recordGap(55ms, t0);
  EXPECT_EQ(s.current(t0), 60ms);
}

TEST(SilenceThreshold, AGapLongerThanTheCeilingIsAnOutageNotASample) {
  SilenceThreshold s(15ms, 60ms);
  s.recordGap(5s, t0);  // the peer restarted
  EXPECT_EQ(s.worstRecentGap(t0), 0ms);
  EXPECT_EQ(s.current(t0), 15ms);
}

TEST(SilenceThreshold, AGapIsForgottenAfterAMinute) {
  SilenceThreshold s(15ms, 60ms);
  s.recordGap(30ms, t0);
  EXPECT_EQ(s.current(t0 + 49s), 45ms);  // still remembered within 50 s
  EXPECT_EQ(s.current(t0 + 61s), 15ms);  // gone after 60 s
}

TEST(SilenceThreshold, ACeilingAtTheFloorTurnsItOff) {
  SilenceThreshold s(15ms, 15ms);
  s.recordGap(12ms, t0);
  EXPECT_EQ(s.current(t0), 15ms);
  EXPECT_EQ(s.worstRecentGap(t0), 0ms);
}

EngineSettings adaptive(core::Duration ceiling) {
  EngineSettings s;
  s.mode = EngineSettings::Mode::ActiveStandby;
  s.localMember = 2;
  s.deadInterval = 15ms;
  s.deadIntervalMax = ceiling;
  s.electionWait = 15ms;
  return s;
}

// A standby that heard its active with one 30 ms gap (a loaded host), then 40 ms of silence.
HaState afterSlowPathThenSilence(core::Duration ceiling) {
  HaStateMachine m(adaptive(ceiling));
  auto now = t0;
  m.onEvent(HaEvent::Start, {}, now);
  m.onEvent(HaEvent::PeerHeartbeat, activePeer(), now);
  now += 30ms;
  m.onEvent(HaEvent::PeerHeartbeat, activePeer(), now);
  now += 40ms;
  m.onEvent(HaEvent::Tick, {}, now);
  return m.state();
}

TEST(SilenceThreshold, TheMachineWaitsLongerForAPeerWhoseHeartbeatsWereLate) {
  EXPECT_EQ(afterSlowPathThenSilence(60ms), HaState::Standby);
}

TEST(SilenceThreshold, WithoutAdaptationTheSameSilenceIsADeath) {
  EXPECT_EQ(afterSlowPathThenSilence(15ms), HaState::TakingOver);
}

TEST(SilenceThreshold, TheRaisedThresholdIsTheNextDeadline) {
  HaStateMachine m(adaptive(60ms));
  auto now = t0;
  m.onEvent(HaEvent::Start, {}, now);
  m.onEvent(HaEvent::PeerHeartbeat, activePeer(), now);
  now += 30ms;
  m.onEvent(HaEvent::PeerHeartbeat, activePeer(), now);
  EXPECT_EQ(m.nextDeadline(now), now + 45ms);
  now += 45ms;
  m.onEvent(HaEvent::Tick, {}, now);
  EXPECT_EQ(m.state(), HaState::TakingOver);  // real silence is still found, 45 ms on
}

} // namespace
} // namespace rmha::failover
