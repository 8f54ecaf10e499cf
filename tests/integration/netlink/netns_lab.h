#pragma once
// A small namespace lab for the netlink adapters' integration tests.
//
// Sockets (netlink, pcap) belong to the network namespace of the thread that creates them, so
// each namespace gets an NsThread: a thread that setns()es into it and runs an io_context;
// an adapter is constructed, used and destroyed only through NsThread::call(), i.e. inside
// its namespace. Namespaces and links carry the test process's PID in their names, so tests
// run in parallel; Netns removes its namespace (and every link in it) on every exit path.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

namespace rmha::netlink::lab {

using namespace std::chrono_literals;

/// Runs a shell command; returns its exit status.
inline int sh(const std::string& cmd) {
  const int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/// Runs a shell command and returns its standard output.
inline std::string shOut(const std::string& cmd) {
  std::string out;
  if (FILE* f = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
      out.append(buf, n);
    }
    ::pclose(f);
  }
  return out;
}

inline bool haveLabPrivileges() { return ::geteuid() == 0 && sh("ip netns list") == 0; }

/// A per-run name: prefix + PID + suffix (<= 15 characters for link names).
inline std::string runName(const std::string& prefix, const std::string& suffix = "") {
  return fmt::format("{}{}{}", prefix, ::getpid(), suffix);
}

class Netns {
public:
  explicit Netns(std::string name) : name_(std::move(name)) {
    (void)sh("ip netns del " + name_);
    ok_ = sh("ip netns add " + name_) == 0 && sh("ip -n " + name_ + " link set lo up") == 0;
  }
  ~Netns() { (void)sh("ip netns del " + name_); }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  const std::string& name() const { return name_; }
  bool ok() const { return ok_; }
  /// `ip -n <ns> <args>`; exit status.
  int ip(const std::string& args) const { return sh("ip -n " + name_ + " " + args); }
  std::string ipOut(const std::string& args) const {
    return shOut("ip -n " + name_ + " " + args + " 2>&1");
  }
  int exec(const std::string& cmd) const { return sh("ip netns exec " + name_ + " " + cmd); }

private:
  std::string name_;
  bool ok_ = false;
};

/// A thread inside a namespace, running an io_context.
class NsThread {
public:
  explicit NsThread(const Netns& ns) : work_(boost::asio::make_work_guard(io_)) {
    std::promise<bool> entered;
    auto f = entered.get_future();
    thread_ = std::thread([this, path = "/var/run/netns/" + ns.name(), &entered] {
      const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      const bool ok = fd >= 0 && ::setns(fd, CLONE_NEWNET) == 0;
      if (fd >= 0) {
        ::close(fd);
      }
      entered.set_value(ok);
      if (ok) {
        io_.run();
      }
    });
    ok_ = f.get();
  }
  ~NsThread() {
    work_.reset();
    io_.stop();
    thread_.join();
  }
  NsThread(const NsThread&) = delete;
  NsThread& operator=(const NsThread&) = delete;

  bool ok() const { return ok_; }
  boost::asio::io_context& io() { return io_; }

  /// Runs `f` on the namespace thread and waits (bounded) for its result.
  template <typename F>
  auto call(F f) -> decltype(f()) {
    using R = decltype(f());
    std::packaged_task<R()> task(std::move(f));
    auto fut = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    if (fut.wait_for(10s) != std::future_status::ready) {
      ADD_FAILURE() << "namespace thread did not answer within 10 s";
      std::abort();  // the task refers to this frame: never return while it may still run
    }
    return fut.get();
  }

private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  bool ok_ = false;
};

/// Waits (bounded) until `pred` holds, re-checking every few milliseconds. Used for state the
/// kernel changes on its own (address expiry, neighbour entries): there is no event to wait on.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

/// A thread-safe event log the adapters' sinks write to and the test waits on.
template <typename T>
class Inbox {
public:
  void push(T v) {
    {
      std::lock_guard lock(mutex_);
      items_.push_back(std::move(v));
    }
    cv_.notify_all();
  }
  /// Waits until an item satisfies `pred`; returns it.
  std::optional<T> waitFor(const std::function<bool(const T&)>& pred,
                           std::chrono::milliseconds limit = 5000ms) {
    std::unique_lock lock(mutex_);
    std::optional<T> found;
    cv_.wait_for(lock, limit, [&] {
      for (const auto& v : items_) {
        if (pred(v)) {
          found = v;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  std::vector<T> snapshot() {
    std::lock_guard lock(mutex_);
    return items_;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    items_.clear();
  }

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<T> items_;
};

} // namespace rmha::netlink::lab
