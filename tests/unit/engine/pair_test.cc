// Two state machines wired back to back, with a minimal shell: steering succeeds at once,
// SendToPeer is delivered to the other machine, every state change is announced by a
// heartbeat. Time is simulated.
#include <gtest/gtest.h>

#include <deque>

#include "failover/engine/machine.h"

namespace rmha::failover {
namespace {

using namespace std::chrono_literals;
using S = HaState;
using E = HaEvent;

class Pair {
public:
  Pair(int prioA, int prioB, bool preemptB = false) {
    nodes_[0] = std::make_unique<HaStateMachine>(make(1, prioA, false));
    nodes_[1] = std::make_unique<HaStateMachine>(make(2, prioB, preemptB));
  }

  HaStateMachine& node(int i) { return *nodes_[i]; }
  S state(int i) { return nodes_[i]->state(); }
  bool alive(int i) const { return alive_[i]; }

  void fire(int i, E e, EventInput in = {}) {
    queue_.push_back({i, e, std::move(in)});
    drain();
  }
  /// Heartbeats both ways (from the living), then time passes by `d` in heartbeat steps,
  /// with deadline ticks delivered as the shell's timer would.
  void run(core::Duration d, bool heartbeats = true) {
    const auto end = now_ + d;
    while (now_ < end) {
      now_ += 10ms;
      for (int i = 0; i < 2; ++i) {
        if (alive_[i] && heartbeats && link_) {
          queue_.push_back({1 - i, E::PeerHeartbeat, fromNode(i, PeerMsgKind::Heartbeat, 0)});
        }
        if (alive_[i]) {
          queue_.push_back({i, E::Tick, {}});
        }
      }
      drain();
    }
  }
  void kill(int i, bool closeChannel) {
    alive_[i] = false;
    if (closeChannel) {
      fire(1 - i, E::PeerChannelDown);
    }
  }
  void freeze(int i) { alive_[i] = false; }
  void thaw(int i) { alive_[i] = true; }
  void restart(int i, int prio, bool preempt = false) {
    nodes_[i] = std::make_unique<HaStateMachine>(make(i + 1, prio, preempt));
    alive_[i] = true;
    fire(i, E::Start);
  }
  void setLink(bool up) { link_ = up; }
  /// From now on node i's claims fail (as an EPERM from the kernel would make them).
  void failClaims(int i, bool fail) { claimFails_[i] = fail; }
  /// What node i's self-test answers from now on (RunSelfTest, and Start via start()).
  void setSelfTest(int i, core::SelfTestResult r) { selfTest_[i] = std::move(r); }
  void start(int i) {
    EventInput in;
    in.selfTest = selfTest_[i];
    fire(i, E::Start, in);
  }
  int claims(int i) const { return claims_[i]; }
  int failedClaims(int i) const { return failedClaims_[i]; }
  std::vector<std::string> completions;

private:
  struct Queued {
    int node;
    E event;
    EventInput in;
  };

  static EngineSettings make(int member, int prio, bool preempt) {
    EngineSettings s;
    s.mode = EngineSettings::Mode::ActiveStandby;
    s.localMember = member;
    s.priority = prio;
    s.preempt = preempt;
    s.deadInterval = 60ms;
    s.handoverTimeout = 500ms;
    s.electionWait = 60ms;
    return s;
  }

  EventInput fromNode(int i, PeerMsgKind, std::uint32_t id) {
    EventInput in;
    in.peer.member = i + 1;
    in.peer.state = nodes_[i]->state();
    in.peer.priority = nodes_[i]->settings().priority;
    in.peer.fit = nodes_[i]->fit();
    in.peer.yielding = nodes_[i]->yielding();
    in.peer.handoverId = id;
    in.peer.unfitCode = nodes_[i]->unfitCode();
    in.peer.claimFailed = nodes_[i]->claimFailures() > 0;
    return in;
  }

  static E eventFor(PeerMsgKind k) {
    switch (k) {
    case PeerMsgKind::HandoverRequest: return E::PeerHandoverRequest;
    case PeerMsgKind::HandoverReady: return E::PeerHandoverReady;
    case PeerMsgKind::HandoverRefused: return E::PeerHandoverRefused;
    case PeerMsgKind::HandoverCommit: return E::PeerHandoverCommit;
    case PeerMsgKind::TakeoverRequest: return E::PeerTakeoverRequest;
    default: return E::PeerHeartbeat;
    }
  }

  void drain() {
    while (!queue_.empty()) {
      auto q = std::move(queue_.front());
      queue_.pop_front();
      if (!alive_[q.node]) {
        continue;
      }
      auto t = nodes_[q.node]->onEvent(q.event, q.in, now_);
      for (const auto& a : t.actions) {
        if (std::holds_alternative<action::AcquireTraffic>(a)) {
          ++claims_[q.node];
          EventInput in;
          if (claimFails_[q.node]) {
            ++failedClaims_[q.node];
            in.detail = "Operation not permitted";
          }
          queue_.push_back({q.node, claimFails_[q.node] ? E::SteeringFailed : E::SteeringAcquired, in});
        } else if (std::holds_alternative<action::RunSelfTest>(a)) {
          EventInput in;
          in.selfTest = selfTest_[q.node];
          queue_.push_back({q.node, E::SelfTest, in});
        } else if (const auto* s = std::get_if<action::SendToPeer>(&a); s && link_) {
          auto in = fromNode(q.node, s->kind, s->handoverId);
          in.detail = s->detail;
          queue_.push_back({1 - q.node, eventFor(s->kind), in});
        } else if (const auto* c = std::get_if<action::CompleteCommand>(&a)) {
          completions.push_back(fmt::format("{}:{}", c->ok ? "ok" : "fail", c->message));
        }
      }
      if (t.changed() && link_) {
        queue_.push_back({1 - q.node, E::PeerHeartbeat, fromNode(q.node, PeerMsgKind::Heartbeat, 0)});
      }
    }
  }

  std::unique_ptr<HaStateMachine> nodes_[2];
  bool alive_[2] = {true, true};
  bool link_ = true;
  bool claimFails_[2] = {false, false};
  core::SelfTestResult selfTest_[2];
  int claims_[2] = {0, 0};
  int failedClaims_[2] = {0, 0};
  core::MonotonicTime now_ = core::MonotonicTime{} + 1h;
  std::deque<Queued> queue_;
};

int activeCount(Pair& p) {
  int n = 0;
  for (int i = 0; i < 2; ++i) {
    n += p.alive(i) && p.state(i) == S::Active;
  }
  return n;
}

TEST(HaPair, BothStartingTogetherElectExactlyOneByMemberIndex) {
  Pair p(100, 100);
  p.fire(0, E::Start);
  p.fire(1, E::Start);
  p.run(200ms);
  EXPECT_EQ(p.state(0), S::Active);
  EXPECT_EQ(p.state(1), S::Standby);
}

TEST(HaPair, BothStartingTogetherElectByPriorityFirst) {
  Pair p(100, 200);
  p.fire(0, E::Start);
  p.fire(1, E::Start);
  p.run(200ms);
  EXPECT_EQ(p.state(0), S::Standby);
  EXPECT_EQ(p.state(1), S::Active);
}

TEST(HaPair, ChannelClosedTakesOverWithoutWaitingForTheDeadInterval) {
  Pair p(100, 100);
  p.fire(0, E::Start);
  p.fire(1, E::Start);
  p.run(200ms);
  ASSERT_EQ(p.state(0), S::Active);
  p.kill(0, /*closeChannel=*/true);
  EXPECT_EQ(p.state(1), S::Active); // at once: no time has passed
}

TEST(HaPair, SilentPeerIsDeclaredDeadAfterDeadIntervalAndOneActiveRemainsAfterThaw) {
  Pair p(100, 100);
  p.fire(0, E::Start);
  p.fire(1, E::Start);
  p.run(200ms);
  p.freeze(0);
  p.run(40ms);
  EXPECT_EQ(p.state(1), S::Standby); // not yet: this test sets a 60 ms dead interval
  p.run(40ms);
  EXPECT_EQ(p.state(1), S::Active);
  p.thaw(0);
  p.run(100ms);
  EXPECT_EQ(activeCount(p), 1);
}

TEST(HaPair, ReturningHigherPriorityNodeDoesNotStealWithoutPreempt) {
  Pair p(100, 100);
  p.fire(0, E::Start);
  p.fire(1, E::Start);
  p.run(200ms);
  p.kill(0, true);
  ASSERT_EQ(p.state(1), S::Active);
  p.restart(0, 250);
  p.run(300ms);
  EXPECT_EQ(p.state(0), S::Standby);
  EXPECT_EQ(p.state(1), S::Active);
}

TEST(HaPair, ReturningHigherPriorityNodeTakesBackWithPreempt) {
  Pair p(100, 100);
  p.fire(0, E::Start);
  p.fire(1, E::Start);
  p.run(200ms);
  p.kill(1, true);
  p.restart(1, 250, /*preempt=*/true);
  p.run(300ms);
  EXPECT_EQ(p.state(0), S::Standby);
  EXPECT_EQ(p.state(1), S::Active);
}

TEST(HaPair, OperatorFailoverSwapsRolesMakeBeforeBreak) {
  Pair p(100, 100);
  p.fire(0, E::Start);
  p.fire(1, E::Start);
  p.run(200ms);
  p.fire(0, E::OperatorFailover);
  EXPECT_EQ(p.state(0), S::Standby);
  EXPECT_EQ(p.state(1), S::Active);
  ASSERT_EQ(p.completions.size(), 1u);
  EXPECT_EQ(p.completions[0].rfind("ok:", 0), 0u) << p.completions[0];
  p.run(1s); // the old active, better ranked, must not take the role back
  EXPECT_EQ(p.state(0), S::Standby);
  EXPECT_EQ(p.state(1), S::Active);
}

TEST(HaPair, OperatorTakeoverOnStandby) {
  Pair p(100, 100);
  p.fire(0, E::Start);
  p.fire(1, E::Start);
  p.run(200ms);
  p.fire(1, E::OperatorTakeover);
  EXPECT_EQ(p.state(0), S::Standby);
  EXPECT_EQ(p.state(1), S::Active);
  p.run(1s);
  EXPECT_EQ(p.state(1), S::Active);
}

TEST(HaPair, FailoverRefusedWhenPeerIsInMaintenance) {
  Pair p(100, 100);
  p.fire(0, E::Start);
  p.fire(1, E::Start);
  p.run(200ms);
  p.fire(1, E::MaintenanceOn);
  p.run(50ms);
  p.fire(0, E::OperatorFailover);
  EXPECT_EQ(p.state(0), S::Active);
  ASSERT_FALSE(p.completions.empty());
  EXPECT_EQ(p.completions.back().rfind("fail:", 0), 0u);
}

TEST(HaPair, MaintenanceBlocksPromotion) {
  Pair p(100, 100);
  p.fire(0, E::Start);
  p.fire(1, E::Start);
  p.run(200ms);
  p.fire(1, E::MaintenanceOn);
  p.kill(0, true);
  p.run(500ms);
  EXPECT_EQ(p.state(1), S::Maintenance);
  p.fire(1, E::MaintenanceOff);
  EXPECT_EQ(p.state(1), S::Active);
}

TEST(HaPair, LinkDownOnActiveHandsTheRoleToThePeerAtOnce) {
  Pair p(100, 100);
  p.fire(0, E::Start);
  p.fire(1, E::Start);
  p.run(200ms);
  EventInput in;
  in.detail = "eth0 lost carrier";
  p.fire(0, E::LinkDown, in);
  EXPECT_EQ(p.state(0), S::Fault);
  EXPECT_EQ(p.state(1), S::Active);
  p.fire(0, E::LinkUp);
  p.run(200ms);
  EXPECT_EQ(p.state(0), S::Standby);
  EXPECT_EQ(p.state(1), S::Active);
}

TEST(HaPair, PartitionThenHealLeavesExactlyOneActive) {
  Pair p(100, 100);
  p.fire(0, E::Start);
  p.fire(1, E::Start);
  p.run(200ms);
  p.setLink(false);
  p.run(200ms, false);
  EXPECT_EQ(activeCount(p), 2); // both claim while they cannot hear each other
  p.setLink(true);
  p.run(100ms);
  EXPECT_EQ(activeCount(p), 1);
  EXPECT_EQ(p.state(0), S::Active); // priority tie: member 1 wins
}

// --- Fitness: self-test, claim failure, back-off ---------------------------------------------

const core::SelfTestResult kNoCapNetAdmin{core::UnfitCode::NoCapNetAdmin,
                                          "cannot claim: the process lacks CAP_NET_ADMIN"};

TEST(HaPairFitness, ANodeUnfitAtStartIsNeverElectedAndThePeerServes) {
  Pair p(250, 100);  // member 1 would win the election
  p.setSelfTest(0, kNoCapNetAdmin);
  p.start(0);
  p.start(1);
  p.run(2s);
  EXPECT_EQ(p.state(0), S::Fault);
  EXPECT_FALSE(p.node(0).fit());
  EXPECT_EQ(p.node(0).unfitReason(), kNoCapNetAdmin.problem);
  EXPECT_EQ(p.state(1), S::Active);
  EXPECT_EQ(p.claims(0), 0);
  EXPECT_EQ(p.node(1).peer().unfitCode, core::UnfitCode::NoCapNetAdmin);
}

TEST(HaPairFitness, AnUnfitNodeRefusesTakeover) {
  Pair p(250, 100);
  p.setSelfTest(0, kNoCapNetAdmin);
  p.start(0);
  p.start(1);
  p.run(200ms);
  p.fire(0, E::OperatorTakeover);
  ASSERT_EQ(p.completions.size(), 1u);
  EXPECT_EQ(p.completions[0].rfind("fail:", 0), 0u) << p.completions[0];
  EXPECT_NE(p.completions[0].find("CAP_NET_ADMIN"), std::string::npos) << p.completions[0];
  EXPECT_EQ(p.state(1), S::Active);
  EXPECT_EQ(p.claims(0), 0);
}

TEST(HaPairFitness, FailoverTowardsAnUnfitPeerIsRefusedByTheActiveBeforeItLetsGo) {
  Pair p(250, 100);
  p.setSelfTest(0, kNoCapNetAdmin);
  p.start(0);
  p.start(1);
  p.run(200ms);
  ASSERT_EQ(p.state(1), S::Active);
  p.fire(1, E::OperatorFailover);
  ASSERT_EQ(p.completions.size(), 1u);
  EXPECT_EQ(p.completions[0],
            "fail:peer unfit: cannot claim (no CAP_NET_ADMIN) (member 1 is fault); this node "
            "stays active");
  EXPECT_EQ(p.state(1), S::Active);  // never let go
  EXPECT_EQ(p.claims(0), 0);
}

TEST(HaPairFitness, AFailedClaimHandsTheRoleBackToTheFitPeerAtOnce) {
  Pair p(100, 250);
  p.start(0);
  p.start(1);
  p.run(200ms);
  ASSERT_EQ(p.state(1), S::Active);
  p.failClaims(0, true);  // the self-test passed, but the claim fails (interface renamed)
  p.fire(1, E::OperatorFailover);
  // No time has passed: no dead interval, no election wait.
  EXPECT_EQ(p.state(0), S::Fault);
  EXPECT_EQ(p.state(1), S::Active);
  EXPECT_EQ(p.failedClaims(0), 1);
  EXPECT_NE(p.node(0).unfitReason().find("Operation not permitted"), std::string::npos);
  EXPECT_EQ(p.node(1).peer().unfitCode, core::UnfitCode::ClaimFailed);
}

TEST(HaPairFitness, BackOffEndBringsASelfTestAndStandbyNotAClaim) {
  Pair p(100, 250);
  p.start(0);
  p.start(1);
  p.run(200ms);
  p.failClaims(0, true);
  p.fire(1, E::OperatorFailover);
  ASSERT_EQ(p.state(0), S::Fault);
  p.run(900ms);
  EXPECT_EQ(p.state(0), S::Fault);  // the back-off (1 s) still runs
  p.run(200ms);
  EXPECT_EQ(p.state(0), S::Standby);  // self-test passed: a standby, not a claim
  EXPECT_TRUE(p.node(0).fit());
  EXPECT_EQ(p.claims(0), 1);
  EXPECT_EQ(p.state(1), S::Active);
}

TEST(HaPairFitness, NeverTwoFailedClaimsInARowWhileAFitPeerIsThere) {
  // The worst case: the claim keeps failing though the self-test passes, and the failing node
  // outranks the peer and preempts.
  Pair p(100, 250, /*preemptB=*/true);
  p.failClaims(1, true);
  p.start(0);
  p.start(1);
  p.run(60s);
  EXPECT_EQ(p.failedClaims(1), 1);
  EXPECT_EQ(p.state(0), S::Active);
  EXPECT_EQ(p.state(1), S::Standby);
  EXPECT_EQ(p.claims(0), 1);
}

TEST(HaPairFitness, ARetestThatFailsKeepsTheNodeUnfitAndBacksOffFurther) {
  Pair p(100, 250);
  p.start(0);
  p.start(1);
  p.run(200ms);
  p.failClaims(0, true);
  p.fire(1, E::OperatorFailover);
  p.setSelfTest(0, {core::UnfitCode::NoInterface, "cannot claim: the VIP interface 'eth9' "
                                                  "does not exist on this host"});
  p.run(1100ms);
  EXPECT_EQ(p.state(0), S::Fault);
  EXPECT_NE(p.node(0).unfitReason().find("eth9"), std::string::npos);
  p.setSelfTest(0, {});
  p.run(1s);
  EXPECT_EQ(p.state(0), S::Fault);  // the next retest is 2 s after the failed one
  p.run(1100ms);
  EXPECT_EQ(p.state(0), S::Standby);
  EXPECT_EQ(p.state(1), S::Active);
}

TEST(HaPairFitness, BothUnfitNobodyClaims) {
  Pair p(100, 250);
  p.setSelfTest(0, kNoCapNetAdmin);
  p.setSelfTest(1, kNoCapNetAdmin);
  p.start(0);
  p.start(1);
  p.run(5s);
  EXPECT_EQ(p.state(0), S::Fault);
  EXPECT_EQ(p.state(1), S::Fault);
  EXPECT_EQ(p.claims(0) + p.claims(1), 0);
}

TEST(HaPairFitness, AClaimFailedWithNoFitPeerIsRetriedAfterTheBackOff) {
  // Nobody else can serve: the node retries (after the back-off and a self-test) rather than
  // give up; the back-off doubles, so a lasting fault costs one claim per 30 s at most.
  Pair p(250, 100);
  p.start(0);
  p.start(1);
  p.run(200ms);
  p.failClaims(1, true);
  p.kill(0, true);
  p.run(500ms);
  EXPECT_EQ(p.failedClaims(1), 1);  // the claim on failover; retry due at +1 s
  p.run(1s);
  EXPECT_EQ(p.failedClaims(1), 2);  // retest 1 s after: claim, failed; next after 2 s
  p.failClaims(1, false);
  p.run(3s);
  EXPECT_EQ(p.state(1), S::Active);
}

} // namespace
} // namespace rmha::failover
