#include "winnlb/nlb_steering.h"

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/fakes/fake_clock.h"
#include "tests/unit/winnlb/fake_nlb_node.h"

namespace rmha::winnlb {
namespace {

using namespace std::chrono_literals;
using Log = std::vector<std::string>;

NlbSteeringOptions defaultOptions() {
  NlbSteeringOptions o;
  o.target.hostName = "RM1";
  o.target.interfaceName = "Ethernet 2";
  o.convergeTimeout = 5000ms;
  o.pollInterval = 250ms;
  return o;
}

class NlbSteeringTest : public ::testing::Test {
protected:
  void make(NlbSteeringOptions o = defaultOptions()) {
    steering_.emplace(std::move(o), node_, clock_);
  }
  void acquire() {
    steering_->acquire([this](std::error_code ec) {
      ++calls_;
      result_ = ec;
    });
  }

  test::FakeNlbNode node_;
  rmha::test::FakeClock clock_;
  std::optional<NlbSteering> steering_;
  int calls_ = 0;
  std::error_code result_;
};

TEST_F(NlbSteeringTest, AcquireStartsAndWaitsForConvergence) {
  make();
  node_.queriesToConverge = 3;
  acquire();
  EXPECT_EQ(node_.log, (Log{"powershell:query", "powershell:start"}));
  EXPECT_EQ(calls_, 0);
  clock_.advance(750ms);  // three polls: still converging
  EXPECT_EQ(calls_, 0);
  EXPECT_EQ(steering_->lastState(), NlbNodeState::Converging);
  clock_.advance(250ms);
  ASSERT_EQ(calls_, 1);
  EXPECT_FALSE(result_) << result_.message();
  EXPECT_EQ(steering_->lastState(), NlbNodeState::Converged);
  const auto polls = node_.log.size();
  clock_.advance(10s);  // nothing more happens: no stray polls, no second completion
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(node_.log.size(), polls);
}

TEST_F(NlbSteeringTest, AcquireOnConvergedNodeCompletesAsynchronously) {
  node_.state = NlbNodeState::ConvergedDefault;
  make();
  acquire();
  EXPECT_EQ(calls_, 0);  // never from inside acquire()
  clock_.advance(0ms);
  ASSERT_EQ(calls_, 1);
  EXPECT_FALSE(result_);
  EXPECT_EQ(node_.log, (Log{"powershell:query"}));
}

TEST_F(NlbSteeringTest, AcquireOnConvergingNodeOnlyWaits) {
  node_.state = NlbNodeState::Converging;
  make();
  acquire();
  clock_.advance(1s);
  EXPECT_EQ(calls_, 1);
  EXPECT_FALSE(result_);
  for (const auto& line : node_.log) {
    EXPECT_EQ(line, "powershell:query");
  }
}

TEST_F(NlbSteeringTest, SuspendedNodeIsResumedThenStarted) {
  node_.state = NlbNodeState::Suspended;
  node_.queriesToConverge = 0;
  make();
  acquire();
  EXPECT_EQ(node_.log, (Log{"powershell:query", "powershell:resume", "powershell:start"}));
  clock_.advance(250ms);
  EXPECT_EQ(calls_, 1);
  EXPECT_FALSE(result_);
}

TEST_F(NlbSteeringTest, ConvergeTimeoutFailsAtTheDeadline) {
  node_.queriesToConverge = 1000000;
  make();
  acquire();
  clock_.advance(4999ms);
  EXPECT_EQ(calls_, 0);
  clock_.advance(1ms);
  clock_.advance(0ms);
  ASSERT_EQ(calls_, 1);
  EXPECT_EQ(result_, make_error_code(NlbErrc::ConvergeTimeout));
  const auto n = node_.log.size();
  clock_.advance(5s);
  EXPECT_EQ(node_.log.size(), n);  // polling stopped
}

TEST_F(NlbSteeringTest, MediaDisconnectedIsUnfit) {
  node_.mediaDisconnectOnStart = true;
  make();
  EXPECT_TRUE(steering_->fitForActive());
  acquire();
  clock_.advance(250ms);
  ASSERT_EQ(calls_, 1);
  EXPECT_EQ(result_, make_error_code(NlbErrc::MediaDisconnected));
  EXPECT_FALSE(steering_->fitForActive());

  node_.state = NlbNodeState::MediaDisconnected;
  acquire();
  clock_.advance(0ms);
  EXPECT_EQ(calls_, 2);
  EXPECT_EQ(result_, make_error_code(NlbErrc::MediaDisconnected));
}

TEST_F(NlbSteeringTest, StartFailureFailsTheAcquire) {
  node_.startFails = true;
  make();
  acquire();
  clock_.advance(0ms);
  ASSERT_EQ(calls_, 1);
  EXPECT_EQ(result_, make_error_code(NlbErrc::CommandFailed));
  // PowerShell failed, nlb.exe was tried as the fallback, and failed too.
  EXPECT_EQ(node_.log, (Log{"powershell:query", "powershell:start", "nlb-exe:start"}));
}

TEST_F(NlbSteeringTest, MissingPowerShellSwitchesToNlbExeForGood) {
  node_.powershellMissing = true;
  node_.queriesToConverge = 1;
  make();
  acquire();
  clock_.advance(500ms);
  ASSERT_EQ(calls_, 1);
  EXPECT_FALSE(result_) << result_.message();
  EXPECT_EQ(steering_->control(), NlbControl::NlbExe);
  EXPECT_EQ(node_.log,
            (Log{"powershell:query", "nlb-exe:query", "nlb-exe:start", "nlb-exe:query",
                 "nlb-exe:query"}));
  EXPECT_NE(steering_->describe().find("via nlb-exe"), std::string::npos);
}

TEST_F(NlbSteeringTest, BrokenPowerShellFallsBackPerCommand) {
  node_.powershellBroken = true;
  node_.queriesToConverge = 0;
  make();
  acquire();
  clock_.advance(250ms);
  ASSERT_EQ(calls_, 1);
  EXPECT_FALSE(result_);
  EXPECT_EQ(steering_->control(), NlbControl::PowerShell);
  EXPECT_EQ(node_.log, (Log{"powershell:query", "nlb-exe:query", "powershell:start",
                            "nlb-exe:start", "powershell:query", "nlb-exe:query"}));
}

TEST_F(NlbSteeringTest, NoFallbackWhenDisabled) {
  node_.powershellBroken = true;
  auto o = defaultOptions();
  o.fallback = false;
  make(o);
  acquire();
  clock_.advance(0ms);
  EXPECT_EQ(result_, make_error_code(NlbErrc::CommandFailed));
  EXPECT_EQ(node_.log, (Log{"powershell:query", "powershell:start"}));
}

TEST_F(NlbSteeringTest, NlbExeControlEndToEnd) {
  auto o = defaultOptions();
  o.control = NlbControl::NlbExe;
  o.target.interfaceName.clear();
  o.target.cluster = "192.0.2.10";
  make(o);
  node_.queriesToConverge = 0;
  acquire();
  clock_.advance(250ms);
  EXPECT_EQ(calls_, 1);
  EXPECT_FALSE(result_) << result_.message();
  steering_->release();
  EXPECT_EQ(node_.log.back(), "nlb-exe:drainstop");
  EXPECT_EQ(node_.state, NlbNodeState::Stopped);
}

TEST_F(NlbSteeringTest, ReleaseDrainstopsOrStops) {
  node_.state = NlbNodeState::Converged;
  make();
  steering_->release();
  EXPECT_EQ(node_.log, (Log{"powershell:drainstop"}));
  node_.log.clear();
  auto o = defaultOptions();
  o.releaseMode = NlbReleaseMode::Stop;
  make(o);
  steering_->release();
  EXPECT_EQ(node_.log, (Log{"powershell:stop"}));
}

TEST_F(NlbSteeringTest, ReleaseSupersedesPendingAcquire) {
  node_.queriesToConverge = 100;
  make();
  acquire();
  steering_->release();
  EXPECT_EQ(calls_, 0);
  clock_.advance(0ms);
  ASSERT_EQ(calls_, 1);
  EXPECT_EQ(result_, make_error_code(NlbErrc::Superseded));
  const auto n = node_.log.size();
  clock_.advance(10s);
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(node_.log.size(), n);
}

TEST_F(NlbSteeringTest, SecondAcquireSupersedesFirst) {
  node_.queriesToConverge = 2;
  make();
  std::vector<std::error_code> results;
  steering_->acquire([&](std::error_code ec) { results.push_back(ec); });
  steering_->acquire([&](std::error_code ec) { results.push_back(ec); });
  clock_.advance(1s);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0], make_error_code(NlbErrc::Superseded));
  EXPECT_FALSE(results[1]);
}

TEST_F(NlbSteeringTest, ReassertRestartsOnlyWhenNeeded) {
  node_.state = NlbNodeState::Converged;
  make();
  steering_->reassert();
  EXPECT_EQ(node_.log, (Log{"powershell:query"}));
  node_.log.clear();
  node_.state = NlbNodeState::Stopped;
  steering_->reassert();
  EXPECT_EQ(node_.log, (Log{"powershell:query", "powershell:start"}));
  node_.log.clear();
  node_.state = NlbNodeState::Draining;
  steering_->reassert();
  EXPECT_EQ(node_.log, (Log{"powershell:query", "powershell:start"}));
}

TEST_F(NlbSteeringTest, ClearStaleStopsARunningNodeOnly) {
  node_.state = NlbNodeState::Converged;
  make();
  steering_->clearStale();
  EXPECT_EQ(node_.log, (Log{"powershell:query", "powershell:stop"}));
  EXPECT_EQ(node_.state, NlbNodeState::Stopped);
  node_.log.clear();
  steering_->clearStale();
  EXPECT_EQ(node_.log, (Log{"powershell:query"}));
}

TEST_F(NlbSteeringTest, QueryNodeIsTheFitnessInput) {
  node_.state = NlbNodeState::Draining;
  make();
  std::optional<Parsed<NlbNodeStatus>> st;
  steering_->queryNode([&](Parsed<NlbNodeStatus> s) { st.emplace(std::move(s)); });
  ASSERT_TRUE(st && *st) << st->error();
  EXPECT_EQ((*st)->state, NlbNodeState::Draining);
  EXPECT_EQ((*st)->name, "RM1");
  EXPECT_TRUE(steering_->fitForActive());
  node_.state = NlbNodeState::MediaDisconnected;
  steering_->queryNode([](Parsed<NlbNodeStatus>) {});
  EXPECT_FALSE(steering_->fitForActive());
}

TEST_F(NlbSteeringTest, Describe) {
  make();
  EXPECT_EQ(steering_->describe(),
            "nlb node RM1 on 'Ethernet 2' via powershell (nlb.exe fallback), release drainstop, "
            "last state unknown");
}

TEST_F(NlbSteeringTest, BadOptionsFailEverythingWithoutRunningCommands) {
  auto o = defaultOptions();
  o.target.interfaceName = "x'; Stop-Computer; '";
  make(o);
  acquire();
  steering_->release();
  steering_->reassert();
  steering_->clearStale();
  bool queried = false;
  steering_->queryNode([&](Parsed<NlbNodeStatus> st) {
    queried = true;
    EXPECT_FALSE(st);
  });
  EXPECT_TRUE(queried);
  clock_.advance(0ms);
  EXPECT_EQ(result_, make_error_code(NlbErrc::BadOptions));
  EXPECT_TRUE(node_.log.empty());
}

// With a runner that takes time (the worker), every operation returns at once and the
// commands run one at a time, in order.
TEST_F(NlbSteeringTest, NothingWaitsForACommand) {
  node_.deferred = true;
  node_.queriesToConverge = 0;
  make();
  acquire();
  EXPECT_EQ(node_.held(), 1u);  // the query started; nothing has run yet
  EXPECT_TRUE(node_.log.empty());
  ASSERT_TRUE(node_.finishNext());
  EXPECT_EQ(node_.log, (Log{"powershell:query"}));
  EXPECT_EQ(node_.held(), 1u);  // then the start, only once the query answered
  ASSERT_TRUE(node_.finishNext());
  EXPECT_EQ(node_.log, (Log{"powershell:query", "powershell:start"}));
  clock_.advance(250ms);        // the poll's query
  EXPECT_EQ(node_.held(), 1u);
  clock_.advance(250ms);        // a poll while its query runs starts no second one
  EXPECT_EQ(node_.held(), 1u);
  EXPECT_EQ(calls_, 0);
  ASSERT_TRUE(node_.finishNext());
  clock_.advance(0ms);
  ASSERT_EQ(calls_, 1);
  EXPECT_FALSE(result_) << result_.message();
  EXPECT_EQ(steering_->commandsOutstanding(), 0u);
}

TEST_F(NlbSteeringTest, AHungCommandFailsTheClaimAtTheConvergeTimeout) {
  node_.deferred = true;
  make();
  acquire();
  EXPECT_EQ(node_.held(), 1u);  // the query never ends (until the runner's own limit)
  clock_.advance(5000ms);
  clock_.advance(0ms);
  ASSERT_EQ(calls_, 1);
  EXPECT_EQ(result_, make_error_code(NlbErrc::ConvergeTimeout));
  ASSERT_TRUE(node_.finishNext());  // its late answer starts nothing
  EXPECT_EQ(node_.held(), 0u);
  EXPECT_EQ(node_.log, (Log{"powershell:query"}));
}

TEST_F(NlbSteeringTest, AReleaseWhileAnAcquireRunsDropsTheAcquiresLaterSteps) {
  node_.deferred = true;
  make();
  acquire();
  steering_->release();  // queued behind the acquire's query
  clock_.advance(0ms);
  ASSERT_EQ(calls_, 1);
  EXPECT_EQ(result_, make_error_code(NlbErrc::Superseded));
  while (node_.finishNext()) {
  }
  // The query answered "stopped", but the acquire's start never ran: the node stays out.
  EXPECT_EQ(node_.log, (Log{"powershell:query", "powershell:drainstop"}));
  EXPECT_EQ(node_.state, NlbNodeState::Stopped);
}

TEST_F(NlbSteeringTest, AReleaseWhileAReassertRunsNeverRestartsTheNode) {
  node_.deferred = true;
  node_.state = NlbNodeState::Stopped;
  make();
  steering_->reassert();
  steering_->reassert();  // one reassert at a time
  EXPECT_EQ(node_.held(), 1u);
  steering_->release();
  while (node_.finishNext()) {
  }
  EXPECT_EQ(node_.log, (Log{"powershell:query", "powershell:drainstop"}));
  EXPECT_EQ(node_.state, NlbNodeState::Stopped);
  steering_->reassert();  // a later reassert runs again
  EXPECT_EQ(node_.held(), 1u);
}

TEST_F(NlbSteeringTest, ResultsAfterTheSteeringIsGoneAreDropped) {
  node_.deferred = true;
  make();
  acquire();
  steering_.reset();
  EXPECT_TRUE(node_.finishNext());  // must not touch the destroyed steering
  EXPECT_EQ(calls_, 0);
}

TEST(NlbOptions, ValidationSentences) {
  NlbSteeringOptions o;
  EXPECT_TRUE(validateNlbOptions(o).empty());
  o.convergeTimeout = 500ms;
  o.pollInterval = 600ms;
  o.target.drainTimeoutMinutes = 0;
  o.control = NlbControl::NlbExe;
  o.target.interfaceName = "Ethernet";
  o.target.hostName = "bad|name";
  const auto p = validateNlbOptions(o);
  ASSERT_EQ(p.size(), 5u);
  EXPECT_NE(p[0].find("nlb-host"), std::string::npos);
  EXPECT_NE(p[1].find("nlb-converge-timeout"), std::string::npos);
  EXPECT_NE(p[2].find("nlb-poll-interval"), std::string::npos);
  EXPECT_NE(p[3].find("nlb-drain-timeout"), std::string::npos);
  EXPECT_NE(p[4].find("nlb-interface"), std::string::npos);
  EXPECT_EQ(parseNlbReleaseMode("stop"), NlbReleaseMode::Stop);
  EXPECT_EQ(parseNlbReleaseMode("drainstop"), NlbReleaseMode::DrainStop);
  EXPECT_EQ(parseNlbReleaseMode("drain"), std::nullopt);
  EXPECT_STREQ(nlbCategory().name(), "nlb");
  EXPECT_EQ(make_error_code(NlbErrc::ConvergeTimeout).message(),
            "NLB node did not converge in time");
}

} // namespace
} // namespace rmha::winnlb
