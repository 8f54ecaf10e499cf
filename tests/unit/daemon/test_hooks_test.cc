// rmhad --test-hook: the hooks tests and benchmarks use, given as options (never read from
// the environment by the product's code), and a clear refusal of anything else.
#include <gtest/gtest.h>

#include "failover/daemon/daemon.h"

namespace rmha::daemon {
namespace {

TEST(TestHooks, EachKnownHookSetsItsOption) {
  TestHooks h;
  EXPECT_EQ(addTestHook("no-replication", h), "");
  EXPECT_EQ(addTestHook("synthetic-sessions=50000", h), "");
  EXPECT_EQ(addTestHook("corrupt-replication=5", h), "");
  EXPECT_TRUE(h.noReplication);
  EXPECT_EQ(h.syntheticSessions, 50000u);
  EXPECT_EQ(h.corruptReplication, 5u);
}

TEST(TestHooks, AnythingElseIsRefusedWithTheKnownOnes) {
  for (const char* bad : {"", "no-replication=1", "synthetic-sessions", "synthetic-sessions=",
                          "synthetic-sessions=0", "corrupt-replication=-1",
                          "corrupt-replication=12x", "corrupt-replication=99999999999999999999",
                          "RMHA_TEST_NO_REPLICATION"}) {
    TestHooks h;
    const auto problem = addTestHook(bad, h);
    EXPECT_NE(problem.find("known: no-replication"), std::string::npos) << bad;
    EXPECT_FALSE(h.noReplication || h.syntheticSessions || h.corruptReplication) << bad;
  }
}

} // namespace
} // namespace rmha::daemon
