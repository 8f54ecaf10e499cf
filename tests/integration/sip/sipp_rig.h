#pragma once
// Test rig for SIP integration tests: SipService on its own io thread, sipp child processes
// (ended by PID), free loopback ports, and waiting on session-table events with a deadline.
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

#include "core/asio_timer.h"
#include "core/sip/sip_service.h"

namespace rmha::test {

namespace fs = std::filesystem;

/// The sipp scenarios beside this file. From the source directory CMake names, not __FILE__:
/// a compiler cache that rewrites paths relative to the build directory makes __FILE__
/// relative, and the tests run from another directory.
inline fs::path scenarioDir() {
  return fs::path(RMHA_SOURCE_DIR) / "tests" / "integration" / "sip" / "scenarios";
}

/// A port free at the time of the call (bound to 0, read, released).
inline std::uint16_t freePort(bool tcp, const char* addr = "127.0.0.1") {
  namespace ip = boost::asio::ip;
  boost::asio::io_context io;
  if (tcp) {
    ip::tcp::acceptor a(io, ip::tcp::endpoint(ip::make_address(addr), 0));
    return a.local_endpoint().port();
  }
  ip::udp::socket s(io, ip::udp::endpoint(ip::make_address(addr), 0));
  return s.local_endpoint().port();
}

/// One sipp child process; killed (by PID) when destroyed if still running.
class Sipp {
public:
  Sipp(const std::vector<std::string>& args, const fs::path& workDir, const std::string& name)
      : log_(workDir / (name + ".log")) {
    pid_ = ::fork();
    if (pid_ == 0) {
      if (::chdir(workDir.c_str()) != 0) {
        _exit(120);
      }
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      const int devnull = ::open("/dev/null", O_RDONLY);
      if (devnull >= 0) {
        ::dup2(devnull, 0);
      }
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>("sipp"));
      for (const auto& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));
      }
      argv.push_back(nullptr);
      ::execvp("sipp", argv.data());
      _exit(127);
    }
  }
  ~Sipp() {
    if (pid_ > 0 && !exit_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  Sipp(const Sipp&) = delete;
  Sipp& operator=(const Sipp&) = delete;

  /// Exit code, or nullopt when it did not end within `timeout` (then it is killed).
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    if (exit_) {
      return exit_;
    }
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(timeout.count()));
      ::close(pidfd);
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_;
    }
    return std::nullopt;
  }
  std::string log() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  pid_t pid() const { return pid_; }

private:
  fs::path log_;
  pid_t pid_ = -1;
  std::optional<int> exit_;
};

/// Counts session events so tests can wait for "a session exists" without sleeping.
class SessionWaiter final : public core::SessionObserver {
public:
  void onSessionUpserted(const core::Session&) override { bump(); }
  void onSessionRemoved(const core::SessionKey&) override { bump(); }
  /// Waits until `pred()` holds (checked at each session event) or the deadline passes.
  bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, timeout, [&] { return pred(); });
  }

private:
  void bump() {
    std::lock_guard lock(m_);
    cv_.notify_all();
  }
  std::mutex m_;
  std::condition_variable cv_;
};

/// SipService running on its own thread.
class SipRig {
public:
  explicit SipRig(const core::sip::SipConfig& cfg)
      : guard_(io_.get_executor()), timers_(io_.get_executor()) {
    service_ = std::make_unique<core::sip::SipService>(io_, cfg, time_, timers_);
    if (auto r = service_->start(); !r) {
      startError_ = r.error().code;
    }
    service_->setSessionObserver(&waiter_);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~SipRig() {
    service_->stop();
    service_->setSessionObserver(nullptr);
    guard_.reset();
    io_.stop();
    thread_.join();
    service_.reset();
  }
  core::sip::SipService& service() { return *service_; }
  SessionWaiter& waiter() { return waiter_; }
  std::error_code startError() const { return startError_; }
  std::uint16_t port(std::size_t i = 0) const { return service_->boundAddresses().at(i).port; }

private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  core::RealTimeSource time_;
  core::AsioTimerFactory timers_;
  SessionWaiter waiter_;
  std::unique_ptr<core::sip::SipService> service_;
  std::error_code startError_;
  std::thread thread_;
};

} // namespace rmha::test
