// The log sink: a blocked output never blocks a caller, drops are counted and noted once the
// output drains, write errors (EPIPE) are counted, stop is bounded; RMHA_LOG never throws.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/log.h"
#include "core/log_sink.h"

namespace rmha::core {
namespace {

using namespace std::chrono_literals;

/// A pipe the test reads (or not) and the sink writes.
class Pipe {
public:
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      throw std::runtime_error("pipe2");
    }
    read_ = fds[0];
    write_ = fds[1];
  }
  ~Pipe() {
    closeRead();
    if (write_ >= 0) {
      ::close(write_);
    }
  }
  int writeFd() const { return write_; }
  void closeWrite() {
    ::close(write_);
    write_ = -1;
  }
  void closeRead() {
    if (read_ >= 0) {
      ::close(read_);
      read_ = -1;
    }
  }
  /// Fills the pipe to the brim through a second, non-blocking open file description, so the
  /// sink's own descriptor stays blocking and its first write(2) blocks.
  void fill() {
    const int fd = ::open(("/proc/self/fd/" + std::to_string(write_)).c_str(),
                          O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    const std::string chunk(4096, 'x');
    std::size_t total = 0;
    for (;;) {
      const auto n = ::write(fd, chunk.data(), chunk.size());
      if (n <= 0) {
        break;
      }
      total += static_cast<std::size_t>(n);
    }
    ASSERT_EQ(errno, EAGAIN);
    filled_ = total;
    ::close(fd);
  }
  bool full() const {
    int queued = 0;
    return ::ioctl(read_, FIONREAD, &queued) == 0 &&
           queued >= ::fcntl(write_, F_GETPIPE_SZ);
  }
  /// Reads (bounded: 10 s) until `text` appeared in what was read after the filler bytes.
  std::string readUntil(const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (out_.find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{read_, POLLIN, 0};
      if (::poll(&p, 1, 100) == 1) {
        char buf[8192];
        const auto n = ::read(read_, buf, sizeof buf);
        if (n <= 0) {
          break;
        }
        std::size_t skip = std::min(filled_, static_cast<std::size_t>(n));
        filled_ -= skip;
        out_.append(buf + skip, static_cast<std::size_t>(n) - skip);
      }
    }
    return out_;
  }

private:
  int read_ = -1;
  int write_ = -1;
  std::size_t filled_ = 0;
  std::string out_;
};

LogSink::Options opts(int fd, std::size_t capacity) {
  LogSink::Options o;
  o.fd = fd;
  o.capacity = capacity;
  return o;
}

TEST(LogSink, ABlockedOutputNeverBlocksTheCallerAndDropsAreCounted) {
  Pipe pipe;
  pipe.fill();
  LogSink sink(opts(pipe.writeFd(), 8));
  // Nobody reads: the writer's first write(2) blocks. Every push below must still return.
  int accepted = 0;
  const int pushes = 100;
  for (int i = 0; i < pushes; ++i) {
    accepted += sink.push(fmt::format("line {}\n", i)) ? 1 : 0;
  }
  EXPECT_TRUE(pipe.full());
  EXPECT_LE(accepted, 8); // the writer keeps the slot it is writing: at most the ring's size
  EXPECT_FALSE(sink.push("one more\n")); // returns while the pipe is full: dropped
  const auto c = sink.counters();
  EXPECT_EQ(c.dropped, static_cast<std::uint64_t>(pushes + 1 - accepted));
  EXPECT_EQ(c.written, 0u);
  EXPECT_EQ(c.writeErrors, 0u);

  // The reader resumes: the queued lines come out, then the notice with the exact count.
  const auto notice = fmt::format("{} log lines dropped\n", c.dropped);
  auto out = pipe.readUntil(notice);
  ASSERT_NE(out.find(notice), std::string::npos) << out;
  EXPECT_EQ(out.find("line 0\n"), 0u) << out;
  EXPECT_LT(out.find(fmt::format("line {}\n", accepted - 1)), out.find(notice));
  // Logging goes on after the notice.
  ASSERT_TRUE(sink.push("after\n"));
  out = pipe.readUntil("after\n");
  EXPECT_GT(out.find("after\n"), out.find(notice));
  EXPECT_TRUE(sink.stop(5s));
  EXPECT_EQ(sink.counters().written, static_cast<std::uint64_t>(accepted + 2));
}

TEST(LogSink, EpipeIsCountedAndNeverThrown) {
  // rmhad ignores SIGPIPE at start; so does this test, so that EPIPE is what the sink sees.
  struct sigaction ignore{};
  struct sigaction old{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old);
  {
    Pipe pipe;
    pipe.closeRead();
    LogSink sink(opts(pipe.writeFd(), 16));
    for (int i = 0; i < 5; ++i) {
      EXPECT_TRUE(sink.push("to nobody\n"));
    }
    EXPECT_TRUE(sink.stop(5s)); // the writer drained everything and ended
    const auto c = sink.counters();
    EXPECT_EQ(c.writeErrors, 5u);
    EXPECT_EQ(c.lastWriteError, EPIPE);
    EXPECT_EQ(c.written, 0u);
    EXPECT_EQ(c.queued, 0u);
  }
  ::sigaction(SIGPIPE, &old, nullptr);
}

TEST(LogSink, StopIsBoundedWhenTheWriterIsStuck) {
  Pipe pipe;
  pipe.fill();
  LogSink sink(opts(pipe.writeFd(), 8));
  ASSERT_TRUE(sink.push("stuck\n"));
  EXPECT_FALSE(sink.stop(20ms)); // returns although write(2) is still blocked
  EXPECT_FALSE(sink.push("after stop\n"));
  // Let the abandoned writer finish its line, and end, before the pipe goes away.
  EXPECT_NE(pipe.readUntil("stuck\n").find("stuck\n"), std::string::npos);
}

TEST(LogSink, ConcurrentProducersNeverTearALine) {
  Pipe pipe;
  auto sink = std::make_unique<LogSink>(opts(pipe.writeFd(), 64));
  constexpr int kThreads = 4;
  constexpr int kLines = 2000;
  std::string out;
  std::thread reader([&] { out = pipe.readUntil("\n<EOF>"); }); // reads until EOF
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&sink, t] {
      for (int i = 0; i < kLines; ++i) {
        sink->push(fmt::format("producer {} line {} {}\n", t, i,
                               std::string(40, static_cast<char>('a' + t))));
      }
    });
  }
  for (auto& p : producers) {
    p.join();
  }
  EXPECT_TRUE(sink->stop(5s));
  pipe.closeWrite();
  reader.join();
  const auto c = sink->counters();
  const std::regex line(R"(producer ([0-3]) line \d+ (a{40}|b{40}|c{40}|d{40})|(\d+) log lines dropped)");
  std::size_t start = 0;
  std::uint64_t produced = 0;
  std::uint64_t notices = 0;
  std::uint64_t noted = 0;
  while (start < out.size()) {
    const auto end = out.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    const auto text = out.substr(start, end - start);
    std::smatch m;
    ASSERT_TRUE(std::regex_match(text, m, line)) << text;
    if (m[1].matched) {
      EXPECT_EQ(m[2].str()[0], 'a' + (m[1].str()[0] - '0')) << text;
      ++produced;
    } else {
      ++notices;
      noted += std::stoull(m[3].str());
    }
    start = end + 1;
  }
  EXPECT_EQ(produced + notices, c.written);
  EXPECT_EQ(produced + c.dropped, static_cast<std::uint64_t>(kThreads * kLines));
  EXPECT_EQ(noted, c.dropped);
}

TEST(LogSink, LongLinesAreCut) {
  Pipe pipe;
  LogSink sink(opts(pipe.writeFd(), 4));
  ASSERT_TRUE(sink.push(std::string(3 * LogSink::kLineMax, 'z') + "\n"));
  ASSERT_TRUE(sink.push("next\n"));
  const auto out = pipe.readUntil("next\n");
  EXPECT_EQ(out, std::string(LogSink::kLineMax - 4, 'z') + "...\nnext\n");
}

TEST(Log, FormatLineCarriesTheSyslogPriorityWhenAsked) {
  char buf[LogSink::kLineMax];
  Log::setSyslogPrefix(true);
  auto n = Log::formatLine(buf, sizeof buf, LogLevel::Warn, "core", "hello");
  std::string line(buf, n);
  EXPECT_TRUE(std::regex_match(
      line, std::regex(R"(<4>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z warn  core     .*hello\n)")))
      << line;
  n = Log::formatLine(buf, sizeof buf, LogLevel::Error, "peer", "x");
  EXPECT_EQ(std::string(buf, 3), "<3>");
  n = Log::formatLine(buf, sizeof buf, LogLevel::Info, "peer", "x");
  EXPECT_EQ(std::string(buf, 3), "<6>");
  n = Log::formatLine(buf, sizeof buf, LogLevel::Debug, "peer", "x");
  EXPECT_EQ(std::string(buf, 3), "<7>");
  Log::setSyslogPrefix(false);
  n = Log::formatLine(buf, sizeof buf, LogLevel::Info, "core", std::string(5000, 'm'));
  line.assign(buf, n);
  EXPECT_EQ(n, sizeof buf);
  EXPECT_EQ(line.substr(0, 2), "20");
  EXPECT_EQ(line.substr(line.size() - 4), "...\n");
}

TEST(Log, JournalStreamNamesStderrByDeviceAndInode) {
  Pipe pipe;
  struct stat st{};
  ASSERT_EQ(::fstat(pipe.writeFd(), &st), 0);
  const auto env = fmt::format("{}:{}", st.st_dev, st.st_ino);
  EXPECT_TRUE(Log::isJournalStream(pipe.writeFd(), env.c_str()));
  EXPECT_FALSE(Log::isJournalStream(pipe.writeFd(), fmt::format("{}:{}", st.st_dev,
                                                                 st.st_ino + 1).c_str()));
  EXPECT_FALSE(Log::isJournalStream(pipe.writeFd(), (env + "x").c_str()));
  EXPECT_FALSE(Log::isJournalStream(pipe.writeFd(), "garbage"));
  EXPECT_FALSE(Log::isJournalStream(pipe.writeFd(), ""));
  EXPECT_FALSE(Log::isJournalStream(pipe.writeFd(), nullptr));
}

int throwing() {
  throw std::runtime_error("argument evaluation failed");
}

TEST(Log, AThrowingArgumentOrFormatIsCountedNeverPropagated) {
  const auto before = Log::counters().formatErrors;
  EXPECT_NO_THROW(RMHA_LOG(Error, "test", "value {}", throwing()));
  EXPECT_NO_THROW(RMHA_LOG(Error, "test", fmt::runtime("{:d}"), "not a number"));
  EXPECT_EQ(Log::counters().formatErrors, before + 2);
}

TEST(Log, SyslogPriorities) {
  EXPECT_EQ(syslogPriority(LogLevel::Error), 3);
  EXPECT_EQ(syslogPriority(LogLevel::Warn), 4);
  EXPECT_EQ(syslogPriority(LogLevel::Info), 6);
  EXPECT_EQ(syslogPriority(LogLevel::Debug), 7);
  EXPECT_EQ(syslogPriority(LogLevel::Trace), 7);
}

} // namespace
} // namespace rmha::core
