// The control socket against a real Unix socket on a real io_context: mode 0660, one JSON
// answer per request line, clear errors for bad input, and the bounds that keep a flood of
// clients from costing the HA thread anything (cap, timeouts, size, out of descriptors).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <future>
#include <optional>
#include <thread>
#include <vector>

#include "core/control_server.h"

namespace rmha::core {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kDeadline = 10s; // bounded waits: each returns as soon as its event happens

// Polls `pred` until it holds or the deadline passes.
bool eventually(const std::function<bool()>& pred) {
  const auto until = SteadyClock::now() + kDeadline;
  while (!pred()) {
    if (SteadyClock::now() > until) {
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

class Client {
public:
  explicit Client(const std::string& path) : fd_(::socket(AF_UNIX, SOCK_STREAM, 0)) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, path.c_str());
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() { hangUp(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  void send(const std::string& raw) { (void)!::send(fd_, raw.data(), raw.size(), MSG_NOSIGNAL); }
  void hangUp() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  // The next answer line, or nullopt when the server closed first or nothing came in time.
  std::optional<std::string> line() {
    std::string out;
    const auto until = SteadyClock::now() + kDeadline;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - SteadyClock::now());
      pollfd p{fd_, POLLIN, 0};
      char c = 0;
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0 ||
          ::read(fd_, &c, 1) != 1) {
        return std::nullopt;
      }
      if (c == '\n') {
        return out;
      }
      out += c;
    }
  }
  // True when the server closed the connection within the deadline: EOF, or ECONNRESET when
  // it closed with bytes of ours unread.
  bool closedByServer() {
    pollfd p{fd_, POLLIN, 0};
    char c = 0;
    return ::poll(&p, 1, static_cast<int>(kDeadline / 1ms)) == 1 && ::read(fd_, &c, 1) <= 0;
  }

private:
  int fd_;
  bool connected_ = false;
};

std::string errorOf(const std::optional<std::string>& line) {
  if (!line) {
    return "<no line>";
  }
  const auto j = nlohmann::json::parse(*line, nullptr, false);
  return j.is_object() && j.value("ok", true) == false ? j.value("error", "") : "<not an error>";
}

class ControlServerTest : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/rmha-ctl-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/ctl.sock";
  }
  void TearDown() override {
    io_.stop();
    if (thread_.joinable()) {
      thread_.join();
    }
    server_.reset();
    ::rmdir(dir_.c_str());
  }

  // {"cmd":"hold"} is kept unanswered (a busy client); everything else is echoed.
  void start(ControlLimits limits = {}) {
    server_ = std::make_unique<ControlServer>(
        io_, path_,
        [this](const nlohmann::json& req, ControlReply reply) {
          if (req.at("cmd") == "hold") {
            held_.push_back(std::move(reply));
            ++holds_;
            return;
          }
          reply({{"ok", true}, {"echo", req.at("cmd")}});
        },
        limits);
    const auto started = server_->start();
    ASSERT_TRUE(started) << started.error();
    // Returns once the io thread runs: a test that then uses up every descriptor must not
    // race the thread's start (the sanitizers' runtime needs descriptors of its own there).
    std::promise<void> running;
    auto ran = running.get_future();
    boost::asio::post(io_, [&running] { running.set_value(); });
    thread_ = std::thread([this] { io_.run(); });
    ran.wait();
  }

  std::string ask(const std::string& raw) {
    Client c(path_);
    EXPECT_TRUE(c.connected());
    c.send(raw);
    return c.line().value_or("");
  }

  ControlCounters counters() const { return server_->counters(); }

  boost::asio::io_context io_;
  std::string dir_;
  std::string path_;
  std::unique_ptr<ControlServer> server_;
  std::thread thread_;
  std::vector<ControlReply> held_; // io thread only
  std::atomic<int> holds_{0};
};

TEST_F(ControlServerTest, SocketIsGroupWritableOnly) {
  start();
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST_F(ControlServerTest, AnswersAValidRequest) {
  start();
  const auto j = nlohmann::json::parse(ask("{\"cmd\":\"status\"}\n"));
  EXPECT_TRUE(j["ok"].get<bool>());
  EXPECT_EQ(j["echo"], "status");
}

TEST_F(ControlServerTest, BadRequestsGetClearErrors) {
  start();
  for (const std::string& bad :
       std::vector<std::string>{"not json\n", "[1,2]\n", "{\"cmd\":5}\n", "{}\n", "\n",
                                std::string("{\"cmd\":\"\xff\xfe\"}\n")}) {
    SCOPED_TRACE(bad);
    const auto line = ask(bad);
    const auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    if (j.value("ok", false)) {
      continue; // the invalid-UTF-8 string is echoed with replacement characters
    }
    EXPECT_FALSE(j.value("error", "").empty());
  }
}

TEST_F(ControlServerTest, OversizedRequestIsRefusedAndClosed) {
  start();
  Client c(path_);
  c.send(std::string(100 * 1024, 'x'));
  EXPECT_NE(errorOf(c.line()).find("64 KiB"), std::string::npos);
  EXPECT_TRUE(c.closedByServer());
  EXPECT_EQ(counters().oversized, 1u);
}

TEST_F(ControlServerTest, RequestOfExactlyTheLimitIsServed) {
  start();
  std::string req = "{\"cmd\":\"status\",\"pad\":\"\"}";
  req.insert(req.size() - 2, std::string(kMaxControlRequest - req.size() - 1, 'p'));
  ASSERT_EQ(req.size() + 1, kMaxControlRequest);
  EXPECT_NE(ask(req + "\n").find("\"ok\":true"), std::string::npos);
}

TEST_F(ControlServerTest, ServesManyRequestsOnOneConnection) {
  start();
  Client c(path_);
  c.send("{\"cmd\":\"a\"}\n{\"cmd\":\"b\"}\r\n");
  EXPECT_NE(c.line().value_or("").find("\"a\""), std::string::npos);
  EXPECT_NE(c.line().value_or("").find("\"b\""), std::string::npos);
}

TEST_F(ControlServerTest, OverTheCapWithNobodyIdleTheNewcomerIsToldAndClosed) {
  ControlLimits l;
  l.maxClients = 2;
  start(l);
  Client a(path_), b(path_);
  a.send("{\"cmd\":\"hold\"}\n");
  b.send("{\"cmd\":\"hold\"}\n");
  ASSERT_TRUE(eventually([&] { return holds_ == 2; }));
  Client c(path_);
  const auto error = errorOf(c.line());
  EXPECT_NE(error.find("the cap is 2 ([control] max-clients)"), std::string::npos) << error;
  EXPECT_TRUE(c.closedByServer());
  EXPECT_EQ(counters().refusedFull, 1u);
  EXPECT_EQ(counters().clients, 2u);
}

TEST_F(ControlServerTest, OverTheCapTheLongestIdleClientMakesRoom) {
  ControlLimits l;
  l.maxClients = 2;
  start(l);
  Client oldest(path_);
  ASSERT_TRUE(eventually([&] { return counters().clients == 1; }));
  Client younger(path_);
  ASSERT_TRUE(eventually([&] { return counters().clients == 2; }));
  Client newcomer(path_);
  newcomer.send("{\"cmd\":\"status\"}\n");
  EXPECT_NE(newcomer.line().value_or("").find("\"ok\":true"), std::string::npos);
  EXPECT_NE(errorOf(oldest.line()).find("make room"), std::string::npos);
  EXPECT_TRUE(oldest.closedByServer());
  EXPECT_EQ(counters().evictedIdle, 1u);
  younger.send("{\"cmd\":\"still-here\"}\n");
  EXPECT_NE(younger.line().value_or("").find("still-here"), std::string::npos);
}

TEST_F(ControlServerTest, HalfALineIsClosedAfterTheRequestTimeout) {
  ControlLimits l;
  l.requestTimeout = 100ms;
  start(l);
  Client slow(path_);
  slow.send("{\"cmd\":\"sta");
  const auto error = errorOf(slow.line());
  EXPECT_NE(error.find("[control] request-timeout"), std::string::npos) << error;
  EXPECT_TRUE(slow.closedByServer());
  EXPECT_EQ(counters().requestTimeouts, 1u);
  // The client may see the close before the server's thread has counted the slot free.
  EXPECT_TRUE(eventually([&] { return counters().clients == 0; }));
}

TEST_F(ControlServerTest, AnIdleConnectionIsClosedAfterTheIdleTimeout) {
  ControlLimits l;
  l.idleTimeout = 100ms;
  start(l);
  Client idle(path_);
  const auto error = errorOf(idle.line());
  EXPECT_NE(error.find("[control] idle-timeout"), std::string::npos) << error;
  EXPECT_EQ(counters().idleTimeouts, 1u);
}

TEST_F(ControlServerTest, AClientHangingUpDuringARequestFreesItsSlot) {
  start();
  {
    Client c(path_);
    c.send("{\"cmd\":\"hold\"}\n");
    ASSERT_TRUE(eventually([&] { return holds_ == 1; }));
  }
  EXPECT_TRUE(eventually([&] { return counters().clients == 0; }));
  // The late answer to the gone client is dropped without harm.
  boost::asio::post(io_, [this] { held_.front()({{"ok", true}}); });
  EXPECT_NE(ask("{\"cmd\":\"after\"}\n").find("after"), std::string::npos);
}

TEST_F(ControlServerTest, TheLastDescriptorsAreNeverGivenToAClient) {
  ControlLimits l;
  l.fdHeadroom = 1 << 30; // every descriptor counts as one of the last
  start(l);
  Client c(path_);
  const auto error = errorOf(c.line());
  EXPECT_NE(error.find("out of file descriptors"), std::string::npos) << error;
  EXPECT_EQ(counters().refusedNoFds, 1u);
  EXPECT_EQ(counters().accepted, 0u);
}

// Fills every descriptor of the process under a lowered RLIMIT_NOFILE; undone on destruction.
class DescriptorsExhausted {
public:
  DescriptorsExhausted() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit low = saved_;
    low.rlim_cur = 256;
    ::setrlimit(RLIMIT_NOFILE, &low);
    for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) {
      fds_.push_back(fd);
    }
  }
  ~DescriptorsExhausted() { release(); }
  void release() {
    for (const int fd : fds_) {
      ::close(fd);
    }
    fds_.clear();
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }

private:
  rlimit saved_{};
  std::vector<int> fds_;
};

// EMFILE: the pending client is told the real cause, and each failing accept is followed by a
// pause: the loop never spins (a spinning loop fails thousands of accepts per pause).
TEST_F(ControlServerTest, OutOfDescriptorsTheAcceptLoopBacksOffAndSaysWhy) {
#ifdef RMHA_SANITIZED
  // UBSan's vptr check opens a pipe to test memory it has not seen before; with every
  // descriptor taken it reports any virtual call as undefined. The g++ build runs this test.
  GTEST_SKIP() << "needs descriptors the sanitizer runtime would take";
#endif
  ControlLimits l;
  l.fdHeadroom = 0;
  l.acceptBackoff = 5ms;
  l.maxAcceptBackoff = 10ms;
  start(l);
  std::optional<Client> victim;
  {
    const int spare = ::socket(AF_UNIX, SOCK_STREAM, 0); // keeps a number for the victim
    DescriptorsExhausted full;
    ::close(spare);
    victim.emplace(path_); // takes the last free number; the server has none left
    const auto error = errorOf(victim->line());
    EXPECT_NE(error.find("out of file descriptors"), std::string::npos) << error;
    ASSERT_TRUE(eventually([&] { return counters().acceptBackoffs >= 5; }));
    const auto k = counters();
    EXPECT_LE(k.acceptFailures, k.acceptBackoffs + 1) << "accept retried without a pause";
    EXPECT_EQ(k.clients, 0u);
  }
  // Descriptors are free again: the next client is served.
  EXPECT_NE(ask("{\"cmd\":\"back\"}\n").find("back"), std::string::npos);
}

} // namespace
} // namespace rmha::core
