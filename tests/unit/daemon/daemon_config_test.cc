// Configuration: every refusal names file:line and says what to write instead.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>

#include "failover/daemon/daemon_config.h"

namespace rmha::daemon {
namespace {

const std::vector<std::string> kHost = {"192.0.2.11", "127.0.0.1"};

class KeyFile {
public:
  explicit KeyFile(const std::string& content, mode_t mode = 0600) {
    char tmpl[] = "/tmp/rmha-key-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    path_ = tmpl;
    std::ofstream(path_) << content;
    ::fchmod(fd, mode);
    ::close(fd);
  }
  ~KeyFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

std::string pair(const std::string& keyPath, const std::string& extra = "") {
  return "[cluster]\n"
         "ha-mode = active-standby\n"
         "virtual-ip = 192.0.2.100/24\n"
         "vip-interface = eth0\n"
         "member.1 = 192.0.2.11\n"
         "member.2 = 192.0.2.12:9900\n"
         "auth-key-file = " + keyPath + "\n" + extra;
}

// The refusal messages, or "" when accepted.
std::string refusal(const std::string& text) {
  try {
    parseDaemonConfig(text, "rmha.conf", kHost);
    return "";
  } catch (const core::ConfigError& e) {
    return e.what();
  }
}

TEST(DaemonConfig, DefaultsToStandalone) {
  const auto c = parseDaemonConfig("[cluster]\nha-mode = none\n", "rmha.conf", kHost);
  EXPECT_EQ(c.cluster.haMode, core::HaMode::None);
  EXPECT_EQ(c.control.socket, "/run/rmha/rmhad.sock");
}

TEST(DaemonConfig, SyslogPrefixIsAutoTrueOrFalse) {
  const std::string base = "[cluster]\nha-mode = none\n[log]\n";
  EXPECT_FALSE(parseDaemonConfig(base, "rmha.conf", kHost).log.syslogPrefix.has_value());
  EXPECT_FALSE(parseDaemonConfig(base + "syslog-prefix = auto\n", "rmha.conf", kHost)
                   .log.syslogPrefix.has_value());
  EXPECT_EQ(parseDaemonConfig(base + "syslog-prefix = true\n", "rmha.conf", kHost)
                .log.syslogPrefix,
            std::optional<bool>(true));
  EXPECT_EQ(parseDaemonConfig(base + "syslog-prefix = false\n", "rmha.conf", kHost)
                .log.syslogPrefix,
            std::optional<bool>(false));
  const auto msg = refusal(base + "syslog-prefix = maybe\n");
  EXPECT_NE(msg.find("rmha.conf:4: syslog-prefix = 'maybe' is not auto, true or false"),
            std::string::npos)
      << msg;
}

TEST(DaemonConfig, ActiveStandbyPair) {
  KeyFile key("0123456789abcdef0123456789abcdef");
  const auto c = parseDaemonConfig(pair(key.path()), "rmha.conf", kHost);
  EXPECT_EQ(c.cluster.haMode, core::HaMode::ActiveStandby);
  EXPECT_EQ(c.cluster.steering, core::SteeringKind::Vip);
  EXPECT_EQ(c.cluster.localMember, 1); // found among the host's addresses
  EXPECT_EQ(c.cluster.member[0]->port, 9801); // the GVP default
  EXPECT_EQ(c.cluster.member[1]->port, 9900);
  EXPECT_EQ(c.cluster.virtualIpPrefix, 24);
  EXPECT_EQ(c.cluster.heartbeatInterval, core::Millis{10});
  EXPECT_EQ(c.cluster.deadInterval, core::Millis{50});
}

TEST(DaemonConfig, TimerProfilesSetBothTimersAndExplicitKeysWin) {
  KeyFile key("0123456789abcdef0123456789abcdef");
  auto c = parseDaemonConfig(pair(key.path(), "timer-profile = fast\n"), "rmha.conf", kHost);
  EXPECT_EQ(c.cluster.timerProfile, "fast");
  EXPECT_EQ(c.cluster.heartbeatInterval, core::Millis{3});
  EXPECT_EQ(c.cluster.deadInterval, core::Millis{15});
  c = parseDaemonConfig(pair(key.path(), "dead-interval = 30\ntimer-profile = fast\n"),
                        "rmha.conf", kHost);
  EXPECT_EQ(c.cluster.heartbeatInterval, core::Millis{3});
  EXPECT_EQ(c.cluster.deadInterval, core::Millis{30});  // the explicit key, wherever it is
  const auto bogus = refusal(pair(key.path(), "timer-profile = turbo\n"));
  EXPECT_NE(bogus.find("write timer-profile = default"), std::string::npos) << bogus;
}

TEST(DaemonConfig, TheAdaptiveCeilingIsFourDeadIntervalsUnlessSet) {
  KeyFile key("0123456789abcdef0123456789abcdef");
  auto c = parseDaemonConfig(pair(key.path(), "timer-profile = fast\n"), "rmha.conf", kHost);
  EXPECT_EQ(c.cluster.deadIntervalMax, core::Millis{60});
  c = parseDaemonConfig(pair(key.path(), "dead-interval-max = 50\n"), "rmha.conf", kHost);
  EXPECT_EQ(c.cluster.deadIntervalMax, core::Millis{50});  // = dead-interval: no adaptation
  const auto below = refusal(pair(key.path(), "dead-interval-max = 40\n"));
  EXPECT_NE(below.find("write dead-interval-max = 50 (no adaptation) or more"), std::string::npos)
      << below;
}

TEST(DaemonConfig, GuideSpellingOfModesIsAccepted) {
  KeyFile key("0123456789abcdef0123456789abcdef");
  auto text = pair(key.path());
  text.replace(text.find("active-standby"), 14, "active standby");
  EXPECT_EQ(refusal(text), "");
}

struct Refusal {
  std::string text;
  int line;
  std::string needle;
};

TEST(DaemonConfig, RefusalsNameFileLineAndWhatToWrite) {
  KeyFile key("0123456789abcdef0123456789abcdef");
  const std::vector<Refusal> cases = {
      {pair(key.path(), "colour = blue\n"), 8, "unknown key 'colour' in [cluster]"},
      {"[clutser]\nha-mode = none\n", 1, "unknown section [clutser]"},
      {"ha-mode = none\n", 1, "outside any section"},
      {"[cluster]\nha-mode = sometimes\n", 2, "write ha-mode = none, active-standby or active-active"},
      {pair(key.path()).replace(pair(key.path()).find("192.0.2.100/24"), 14, "192.0.2.300"), 3,
       "is not an IP address"},
      {pair(key.path()).replace(pair(key.path()).find("192.0.2.12:9900"), 15, "192.0.2.12:99999"),
       6, "member.2 = '192.0.2.12:99999' is not an address"},
      {pair(key.path(), "heartbeat-interval = 50\ndead-interval = 100\n"), 9,
       "write dead-interval = 150 or more"},
      {pair(key.path(), "other-active-rmnode-ip = 192.0.2.12\n"), 8,
       "other-active-rmnode-ip is only for ha-mode = active-active"},
      {"[cluster]\nother-active-rmnode-ip = 192.0.2.12\n", 2, "must be empty in stand-alone mode"},
      {pair(key.path(), "priority = 0\n"), 8, "write a number from 1 to 255"},
      {pair(key.path(), "preempt = perhaps\n"), 8, "write preempt = true or preempt = false"},
      {pair(key.path(), "nic-hold-down = 60\n"), 8, "must stay below dead-interval"},
      {pair(key.path(), "monitor-nics = eth0, 02:00:zz:00:00:01\n"), 8, "neither an interface name nor a MAC"},
      {pair(key.path(), "heartbeat-interval = 10\nheartbeat-interval = 20\n"), 9, "given twice (first at line 8)"},
      {"[cluster]\nha-mode = active-standby\nmember.1 = 192.0.2.11\n", 2, "needs member.2"},
      {pair(key.path(), "alt-member.1 = 198.51.100.11\n"), 8, "needs both alt-member.1 and alt-member.2"},
      {"[cluster]\nha-mode = active-active\ntraffic-steering = vip\nvirtual-ip = 192.0.2.100\n"
       "member.1 = 192.0.2.11\nmember.2 = 192.0.2.12\nauth-key-file = " + key.path() + "\n",
       3, "the load balancer owns the traffic"},
      {"[cluster]\nthis is not ini\n", 2, "not an INI line"},
      {"[log]\nlevel = loud\n", 2, "write one of trace, debug, info, warn, error, off"},
      {"[control]\nsocket = relative.sock\n", 2, "absolute path"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto msg = refusal(c.text);
    EXPECT_NE(msg.find("rmha.conf:" + std::to_string(c.line) + ": "), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.needle), std::string::npos) << msg;
  }
}

TEST(DaemonConfig, KeyFileMustBePrivateAndLongEnough) {
  KeyFile open("0123456789abcdef0123456789abcdef", 0644);
  EXPECT_NE(refusal(pair(open.path())).find("run chmod 600"), std::string::npos);
  KeyFile shortKey("tooshort");
  EXPECT_NE(refusal(pair(shortKey.path())).find("write at least 16"), std::string::npos);
  EXPECT_NE(refusal(pair("/nonexistent/key")).find("cannot be opened (No such file"),
            std::string::npos);
}


TEST(DaemonConfig, LocalMemberMustBeFound) {
  KeyFile key("0123456789abcdef0123456789abcdef");
  try {
    parseDaemonConfig(pair(key.path()), "rmha.conf", {"203.0.113.9"});
    FAIL() << "accepted";
  } catch (const core::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("write local-member = 1 or 2"), std::string::npos);
  }
}

TEST(DaemonConfig, AllProblemsAreReportedAtOnce) {
  try {
    parseDaemonConfig("[cluster]\npriority = 0\npreempt = maybe\nfoo = 1\n", "rmha.conf", kHost);
    FAIL() << "accepted";
  } catch (const core::ConfigError& e) {
    EXPECT_EQ(e.issues().size(), 3u) << e.what();
  }
}

TEST(DaemonConfig, GarbageNeverCrashes) {
  const std::vector<std::string> inputs = {
      std::string("\0\0\0", 3), "[", "]", "=", "[cluster", "[cluster]\n=\n", "[cluster]\nha-mode\n",
      std::string(5000, 'x'), "[cluster]\nmember.1 = [::1\n", "[cluster]\nmember.1 = [::1]x\n",
      "[cluster]\ndead-interval = 99999999999999999999\n", "[cluster]\nvirtual-ip = 1.2.3.4/99\n"};
  for (const auto& in : inputs) {
    EXPECT_NO_FATAL_FAILURE((void)refusal(in));
  }
}

} // namespace
} // namespace rmha::daemon
