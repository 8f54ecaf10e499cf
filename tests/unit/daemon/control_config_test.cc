// [control]: the bounds of the control socket, each refusal with file:line.
#include <gtest/gtest.h>

#include "failover/daemon/daemon_config.h"

namespace rmha::daemon {
namespace {

const std::vector<std::string> kHost = {"192.0.2.11"};

std::string refusal(const std::string& text) {
  try {
    parseDaemonConfig(text, "rmha.conf", kHost);
    return "";
  } catch (const core::ConfigError& e) {
    return e.what();
  }
}

TEST(ControlConfig, DefaultsAreDocumented) {
  const auto c = parseDaemonConfig("[cluster]\nha-mode = none\n", "rmha.conf", kHost);
  EXPECT_EQ(c.control.maxClients, 64);
  EXPECT_EQ(c.control.requestTimeout, core::Millis{2000});
  EXPECT_EQ(c.control.idleTimeout, core::Millis{60000});
}

TEST(ControlConfig, KeysAreRead) {
  const auto c = parseDaemonConfig(
      "[control]\nmax-clients = 8\nrequest-timeout = 500ms\nidle-timeout = 2s\n", "rmha.conf",
      kHost);
  EXPECT_EQ(c.control.maxClients, 8);
  EXPECT_EQ(c.control.requestTimeout, core::Millis{500});
  EXPECT_EQ(c.control.idleTimeout, core::Millis{2000});
}

TEST(ControlConfig, OutOfRangeIsRefusedWithFileAndLine) {
  const struct {
    std::string text;
    std::string needle;
  } cases[] = {
      {"[control]\nmax-clients = 0\n", "rmha.conf:2: max-clients = 0 is out of range; write a "
                                       "number from 1 to 1024"},
      {"[control]\nmax-clients = lots\n", "rmha.conf:2: max-clients = 'lots' is not a whole"},
      {"[control]\n\nrequest-timeout = 10\n", "rmha.conf:3: request-timeout = 10 ms is out of "
                                              "range; write 100 to 60000 ms"},
      {"[control]\nidle-timeout = 2h\n", "rmha.conf:2: idle-timeout = '2h' is not a duration"},
      // Found by fuzzing: the seconds were multiplied into milliseconds before the range check.
      {"[control]\nidle-timeout = 13333333333333333s\n",
       "rmha.conf:2: idle-timeout = 13333333333333333s is out of range; write "},
      {"[control]\nrequest-timeout = 9223372036854775807ms\n",
       "rmha.conf:2: request-timeout = 9223372036854775807ms is out of range; write 100 to 60000 "
       "ms"},
      {"[control]\nmax-client = 5\n", "rmha.conf:2:"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto msg = refusal(c.text);
    EXPECT_NE(msg.find(c.needle), std::string::npos) << msg;
  }
}

} // namespace
} // namespace rmha::daemon
