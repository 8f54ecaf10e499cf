// What the configuration's paths point at: the file itself and the peer-link key are judged
// (kind, size, mode) before they are read, nothing waits on a FIFO, an empty file is not a
// stand-alone node, and --check-config warns about interfaces this host lacks.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>

#include "failover/daemon/daemon_config.h"

namespace rmha::daemon {
namespace {

const std::vector<std::string> kHost = {"192.0.2.11", "127.0.0.1"};

class ConfigFiles : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/rmha-config-files-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string write(const std::string& name, const std::string& content, mode_t mode = 0600) {
    std::ofstream(path(name), std::ios::binary) << content;
    ::chmod(path(name).c_str(), mode);
    return path(name);
  }
  std::string fifo(const std::string& name) {
    EXPECT_EQ(::mkfifo(path(name).c_str(), 0600), 0);
    return path(name);
  }
  std::string pair(const std::string& keyPath, const std::string& extra = "") const {
    return "[cluster]\n"
           "ha-mode = active-standby\n"
           "virtual-ip = 192.0.2.100/24\n"
           "vip-interface = lo\n"
           "member.1 = 192.0.2.11\n"
           "member.2 = 192.0.2.12\n"
           "auth-key-file = " + keyPath + "\n" + extra;
  }

  // Runs `load` on another thread with a deadline: a loader that blocked on a FIFO fails the
  // test (after a writer is made to appear, so the thread ends) instead of hanging it.
  std::string boundedRefusal(const std::function<void()>& load, const std::string& fifoPath) {
    auto done = std::async(std::launch::async, [&]() -> std::string {
      try {
        load();
        return "";
      } catch (const core::ConfigError& e) {
        return e.what();
      }
    });
    if (done.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      const int w = ::open(fifoPath.c_str(), O_WRONLY | O_NONBLOCK);
      if (w >= 0) {
        ::close(w);
      }
      ADD_FAILURE() << "the loader blocked on " << fifoPath;
    }
    return done.get();
  }

  static std::string refusal(const std::function<void()>& load) {
    try {
      load();
      return "";
    } catch (const core::ConfigError& e) {
      return e.what();
    }
  }

  std::string dir_;
  const std::string key_ = "0123456789abcdef0123456789abcdef";
};

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

TEST_F(ConfigFiles, AnEmptyFileIsRefusedWithWhatAMinimalOneNeeds) {
  for (const std::string text : {"", "\n\n", "# only a comment\n; and another\n", "[cluster]\n"}) {
    SCOPED_TRACE(text);
    const auto msg = refusal([&] { parseDaemonConfig(text, "rmha.conf", kHost); });
    EXPECT_TRUE(has(msg, "rmha.conf: holds no setting")) << msg;
    EXPECT_TRUE(has(msg, "'[cluster]' with 'ha-mode = none'")) << msg;
  }
  const auto p = write("empty.conf", "");
  EXPECT_TRUE(has(refusal([&] { loadDaemonConfig(p); }), p + ": holds no setting"));
}

TEST_F(ConfigFiles, ADirectoryIsRefused) {
  const auto msg = refusal([&] { loadDaemonConfig(dir_); });
  EXPECT_TRUE(has(msg, dir_ + ": is a directory, not a regular file; give the path of the "
                              "configuration file itself"))
      << msg;
}

TEST_F(ConfigFiles, AFifoAsTheConfigurationIsRefusedWithoutHanging) {
  const auto p = fifo("rmha.conf");
  const auto msg = boundedRefusal([&] { loadDaemonConfig(p); }, p);
  EXPECT_TRUE(has(msg, p + ": is a FIFO, not a regular file")) << msg;
}

TEST_F(ConfigFiles, ADeviceAsTheConfigurationIsRefused) {
  const auto msg = refusal([] { loadDaemonConfig("/dev/zero"); });
  EXPECT_TRUE(has(msg, "/dev/zero: is a character device, not a regular file")) << msg;
}

TEST_F(ConfigFiles, AnOversizeConfigurationIsRefusedUnread) {
  const auto p = write("huge.conf", "[cluster]\nha-mode = none\n");
  ASSERT_EQ(::truncate(p.c_str(), 300'000'000), 0); // sparse: costs no disk
  const auto msg = refusal([&] { loadDaemonConfig(p); });
  EXPECT_TRUE(has(msg, p + ": is 300000000 bytes, more than the 1048576 allowed")) << msg;
}

TEST_F(ConfigFiles, NlbSteeringIsRefusedOnLinuxWithTheLine) {
  const auto k = write("peer.key", key_);
  auto text = pair(k);
  text.replace(text.find("vip-interface = lo\n"), 19, "traffic-steering = nlb\n");
  const auto msg = refusal([&] { parseDaemonConfig(text, "rmha.conf", kHost); });
  EXPECT_TRUE(has(msg, "rmha.conf:4: traffic-steering = nlb: this Linux build has no Windows "
                       "NLB steering; write traffic-steering = vip"))
      << msg;
}

TEST_F(ConfigFiles, AFifoAsTheKeyIsRefusedWithoutHanging) {
  const auto k = fifo("peer.key");
  const auto msg = boundedRefusal([&] { parseDaemonConfig(pair(k), "rmha.conf", kHost); }, k);
  EXPECT_TRUE(has(msg, "rmha.conf:7: auth-key-file '" + k + "' is a FIFO, not a regular file; "
                       "write the key into a regular file of 16 to 4096 bytes, mode 0600"))
      << msg;
}

TEST_F(ConfigFiles, AnOversizeKeyIsRefusedUnread) {
  const auto k = write("peer.key", key_);
  ASSERT_EQ(::truncate(k.c_str(), 300'000'000), 0);
  const auto msg = refusal([&] { parseDaemonConfig(pair(k), "rmha.conf", kHost); });
  EXPECT_TRUE(has(msg, "auth-key-file '" + k + "' is 300000000 bytes, more than the 4096 "
                       "allowed"))
      << msg;
}

TEST_F(ConfigFiles, KeyKindsAndSizesEachGetTheirSentence) {
  const auto exact = write("exact.key", std::string(4096, 'k'));
  EXPECT_EQ(refusal([&] { parseDaemonConfig(pair(exact), "rmha.conf", kHost); }), "");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {write("over.key", std::string(4097, 'k')), "is 4097 bytes, more than the 4096 allowed"},
      {write("empty.key", ""), "is empty; write at least 16 random bytes"},
      {write("newline.key", "\n"), "is empty; write at least 16 random bytes"},
      {write("short.key", "tooshort\n"), "holds 8 bytes; write at least 16 random bytes"},
      {dir_, "is a directory, not a regular file"},
      {"/dev/zero", "is a character device, not a regular file"},
      {write("group.key", key_, 0640), "is readable by others (mode 640); run chmod 600"},
  };
  for (const auto& c : cases) {
    const std::string& k = c.first; // a plain reference: lambdas cannot capture bindings
    const std::string& needle = c.second;
    SCOPED_TRACE(k);
    const auto msg = refusal([&] { parseDaemonConfig(pair(k), "rmha.conf", kHost); });
    EXPECT_TRUE(has(msg, "rmha.conf:7: auth-key-file '" + k + "' " + needle)) << msg;
  }
}

TEST_F(ConfigFiles, AKeyBehindASymlinkIsJudgedByItsTarget) {
  const auto good = write("good.key", key_);
  ASSERT_EQ(::symlink(good.c_str(), path("good.link").c_str()), 0);
  EXPECT_EQ(refusal([&] { parseDaemonConfig(pair(path("good.link")), "rmha.conf", kHost); }),
            "");
  const auto loose = write("loose.key", key_, 0644);
  ASSERT_EQ(::symlink(loose.c_str(), path("loose.link").c_str()), 0);
  EXPECT_TRUE(has(refusal([&] { parseDaemonConfig(pair(path("loose.link")), "rmha.conf", kHost); }),
                  "is readable by others (mode 644)"));
}

TEST_F(ConfigFiles, HostWarningsNameTheLineOfEachMissingInterface) {
  const auto k = write("peer.key", key_);
  auto text = pair(k, "monitor-nics = lo, rmha-none1, 02:00:5e:ff:ff:fe\n");
  text.replace(text.find("vip-interface = lo"), 18, "vip-interface = rmha-none0");
  const auto c = parseDaemonConfig(text, "rmha.conf", kHost);
  const auto w = hostWarnings(c);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_TRUE(has(w[0], "rmha.conf:4: warning: vip-interface = rmha-none0: no interface of that "
                        "name on this host"))
      << w[0];
  EXPECT_TRUE(has(w[1], "rmha.conf:8: warning: monitor-nics entry 'rmha-none1': no interface"))
      << w[1];
  EXPECT_TRUE(has(w[2], "rmha.conf:8: warning: monitor-nics entry '02:00:5e:ff:ff:fe': no "
                        "interface with that MAC"))
      << w[2];
}

TEST_F(ConfigFiles, NoWarningWhenTheInterfacesExist) {
  const auto k = write("peer.key", key_);
  const auto c = parseDaemonConfig(pair(k, "monitor-nics = lo\n"), "rmha.conf", kHost);
  EXPECT_TRUE(hostWarnings(c).empty());
}

} // namespace
} // namespace rmha::daemon
