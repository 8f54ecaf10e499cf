// The control commands' arguments: every bad one gets a sentence, none reaches the daemon.
#include <gtest/gtest.h>

#include <limits>

#include "core/control_request.h"

namespace rmha::core {
namespace {

using nlohmann::json;

std::string problem(const json& j) {
  ControlRequest r;
  return parseControlRequest(j, r);
}

TEST(ControlRequest, ParsesEveryCommand) {
  ControlRequest r;
  EXPECT_EQ(parseControlRequest({{"cmd", "status"}}, r), "");
  EXPECT_EQ(r.command, ControlCommand::Status);
  EXPECT_EQ(parseControlRequest({{"cmd", "maintenance"}, {"on", true}}, r), "");
  EXPECT_EQ(r.command, ControlCommand::Maintenance);
  EXPECT_TRUE(r.on);
  EXPECT_EQ(parseControlRequest({{"cmd", "wait"}, {"role", "active"}}, r), "");
  EXPECT_EQ(r.role, "active");
  EXPECT_EQ(r.timeout, kDefaultWaitTimeout);
  EXPECT_EQ(parseControlRequest({{"cmd", "wait"}, {"role", "x"}, {"timeout_ms", 0}}, r), "");
  EXPECT_EQ(r.timeout.count(), 0);
  for (const char* c : {"failover", "takeover", "sessions", "reload"}) {
    EXPECT_EQ(parseControlRequest({{"cmd", c}, {"ignored", 1}}, r), "") << c;
  }
}

TEST(ControlRequest, UnknownCommandListsTheCommands) {
  EXPECT_EQ(problem({{"cmd", "nope"}}), "unknown command 'nope'; the commands are status, "
                                        "failover, takeover, maintenance, sessions, reload, wait");
  EXPECT_NE(problem(json::array()).find("JSON object"), std::string::npos);
  EXPECT_NE(problem({{"cmd", 1}}).find("\"cmd\""), std::string::npos);
}

TEST(ControlRequest, MaintenanceNeedsABoolean) {
  EXPECT_EQ(problem({{"cmd", "maintenance"}}), "maintenance needs \"on\": true or false");
  EXPECT_EQ(problem({{"cmd", "maintenance"}, {"on", "yes"}}),
            "maintenance needs \"on\": true or false");
}

// 2^63-1 ms once overflowed the timer's deadline and killed the daemon.
TEST(ControlRequest, WaitTimeoutIsBoundedToAnHour) {
  ControlRequest r;
  EXPECT_EQ(parseControlRequest({{"cmd", "wait"}, {"role", "a"}, {"timeout_ms", 3600000}}, r), "");
  EXPECT_EQ(r.timeout, kMaxWaitTimeout);
  for (const json& t : {json(3600001), json(std::numeric_limits<std::int64_t>::max()),
                        json(std::numeric_limits<std::uint64_t>::max())}) {
    SCOPED_TRACE(t.dump());
    EXPECT_NE(problem({{"cmd", "wait"}, {"role", "a"}, {"timeout_ms", t}}).find("at most 3600000"),
              std::string::npos);
  }
  for (const json& t : {json(-1), json(1.5), json("100"), json(nullptr)}) {
    SCOPED_TRACE(t.dump());
    EXPECT_NE(problem({{"cmd", "wait"}, {"role", "a"}, {"timeout_ms", t}}).find("unsigned"),
              std::string::npos);
  }
  EXPECT_NE(problem({{"cmd", "wait"}}).find("\"role\""), std::string::npos);
  EXPECT_NE(problem({{"cmd", "wait"}, {"role", 5}}).find("\"role\""), std::string::npos);
}

} // namespace
} // namespace rmha::core
