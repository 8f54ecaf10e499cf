#include "netlink/link_monitor.h"

// Actors (all on the owner's io_context):
//
//   kernel --RTNLGRP_LINK--> socket_ --async_wait--> readAvailable() --> NicTracker
//      ^                                  | ENOBUFS                         | hold-down timers
//      +------- RTM_GETLINK dump <--------+                                 v
//                                                   Relay --> notify() --> LinkEvents (sink)
//   GatewayCheck (optional) --reachable?--> onGatewayHealth() ---------^
#include <cerrno>
#include <cstring>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "netlink/gateway_check.h"

namespace rmha::netlink {

// Receives the tracker's events so that NIC fitness and gateway reachability combine into the
// one fitness the engine sees.
class NetlinkLinkMonitor::Relay final : public core::LinkEvents {
public:
  explicit Relay(NetlinkLinkMonitor& owner) : owner_(owner) {}
  void onLinkHealth(bool, const std::string& reason) override { owner_.notify(reason); }
  void onBondActiveSlaveChanged(const std::string& bond, const std::string& slave) override {
    if (owner_.sink_) {
      owner_.sink_->onBondActiveSlaveChanged(bond, slave);
    }
  }

private:
  NetlinkLinkMonitor& owner_;
};

namespace {
constexpr std::size_t kBufferBytes = 64 * 1024;  // larger than any dump part the kernel sends
constexpr int kInitialDumpTimeoutMs = 2000;

NicTrackerOptions trackerOptions(const LinkMonitorOptions& o) {
  return NicTrackerOptions{o.nics, o.policy, o.downHoldDown, o.upHoldDown};
}
} // namespace

NetlinkLinkMonitor::NetlinkLinkMonitor(boost::asio::io_context& io, LinkMonitorOptions options,
                                       core::TimerFactory& timers)
    : io_(io), options_(std::move(options)), relay_(std::make_unique<Relay>(*this)),
      tracker_(trackerOptions(options_), timers), socket_(io),
      retry_(timers.createTimer([this] { requestResync(); })), buffer_(kBufferBytes) {
  if (options_.gatewayCheck) {
    gateway_ = std::make_unique<GatewayCheck>(io_, *options_.gatewayCheck, timers,
                                              [this](bool ok) { onGatewayHealth(ok); });
  }
}

NetlinkLinkMonitor::~NetlinkLinkMonitor() { stop(); }

core::Result<> NetlinkLinkMonitor::start(core::LinkEvents& sink) {
  if (socket_.is_open()) {
    return core::fail(std::make_error_code(std::errc::already_connected),
                      "the link monitor runs already");
  }
  if (auto ec = openSocket()) {
    return core::fail(ec, fmt::format("netlink socket: {}", ec.message()));
  }
  if (auto ec = initialDump()) {
    stop();
    return core::fail(ec, fmt::format("reading the links: {}", ec.message()));
  }
  tracker_.finishInitialLoad();
  if (gateway_) {
    // Unfit until the gateway's first ARP reply (GatewayCheck starts unreachable).
    gatewayOk_ = false;
    if (auto ec = gateway_->start()) {
      stop();
      return core::fail(ec, fmt::format("gateway check: {}", ec.message()));
    }
  }
  sink_ = &sink;
  tracker_.setSink(relay_.get());
  lastHealthy_ = healthy();
  alive_ = std::make_shared<int>(0);
  armRead();
  RMHA_LOG(Info, "netlink", "link monitor started: {} nic(s), fit {}", options_.nics.size(),
           lastHealthy_);
  return {};
}

void NetlinkLinkMonitor::stop() {
  alive_.reset();
  sink_ = nullptr;
  tracker_.setSink(nullptr);
  retry_->disable();
  if (gateway_) {
    gateway_->stop();
  }
  boost::system::error_code ignored;
  socket_.close(ignored);
  dumpInFlight_ = false;
}

std::error_code NetlinkLinkMonitor::openSocket() {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd < 0) {
    return {errno, std::system_category()};
  }
  // SO_RCVBUFFORCE passes the rmem_max limit when we have CAP_NET_ADMIN; otherwise take what
  // the limit allows. A short buffer only costs re-reads, never correctness.
  const int bytes = options_.receiveBufferBytes;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  local.nl_groups = RTMGRP_LINK;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    const int err = errno;
    ::close(fd);
    return {err, std::system_category()};
  }
  boost::system::error_code ec;
  socket_.assign(fd, ec);
  if (ec) {
    ::close(fd);
    return {ec.value(), std::system_category()};
  }
  return {};
}

std::error_code NetlinkLinkMonitor::sendDump() {
  dumpSeq_ = ++seq_;
  if (!sendLinkDumpRequest(socket_.native_handle(), dumpSeq_)) {
    return {errno, std::system_category()};
  }
  tracker_.beginResync();
  dumpInFlight_ = true;
  return {};
}

std::error_code NetlinkLinkMonitor::initialDump() {
  // Bounded and synchronous: healthy() and nics() are right as soon as start() returns.
  if (auto ec = sendDump()) {
    return ec;
  }
  while (dumpInFlight_) {
    pollfd pfd{socket_.native_handle(), POLLIN, 0};
    const int n = ::poll(&pfd, 1, kInitialDumpTimeoutMs);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return n == 0 ? std::make_error_code(std::errc::timed_out)
                    : std::error_code(errno, std::system_category());
    }
    readAvailable();
  }
  return {};
}

void NetlinkLinkMonitor::requestResync() {
  if (!socket_.is_open()) {
    return;
  }
  if (dumpInFlight_) {
    dumpAgain_ = true;  // events may have been lost after this dump's snapshot
    return;
  }
  dumpAgain_ = false;
  ++resyncs_;
  if (auto ec = sendDump()) {
    RMHA_LOG(Warn, "netlink", "link re-read request failed ({}), retrying", ec.message());
    retry_->enable(core::Millis(10));
  }
}

void NetlinkLinkMonitor::armRead() {
  socket_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
                       if (ec || alive.expired()) {
                         return;
                       }
                       readAvailable();
                       if (!alive.expired() && socket_.is_open()) {
                         armRead();
                       }
                     });
}

void NetlinkLinkMonitor::readAvailable() {
  // A sink callback may stop() the monitor: check the socket before every read.
  while (socket_.is_open()) {
    const ssize_t n = ::recv(socket_.native_handle(), buffer_.data(), buffer_.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == ENOBUFS) {
        // The kernel dropped events: our view may be stale in any way. Re-read everything.
        RMHA_LOG(Warn, "netlink", "link events lost (ENOBUFS): full re-read");
        requestResync();
        continue;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        RMHA_LOG(Error, "netlink", "link socket read failed: {}", std::strerror(errno));
      }
      return;
    }
    handleBatch(tracker_.handleDatagram(buffer_.data(), static_cast<std::size_t>(n)));
  }
}

void NetlinkLinkMonitor::handleBatch(const NetlinkBatch& batch) {
  if (!dumpInFlight_) {
    return;
  }
  for (auto seq : batch.interruptedSeqs) {
    dumpAgain_ = dumpAgain_ || seq == dumpSeq_;  // the table changed under the dump
  }
  for (const auto& [seq, err] : batch.errors) {
    if (seq == dumpSeq_) {
      RMHA_LOG(Warn, "netlink", "link re-read refused ({}), retrying", std::strerror(-err));
      dumpInFlight_ = false;
      retry_->enable(core::Millis(10));
    }
  }
  for (auto seq : batch.doneSeqs) {
    if (seq == dumpSeq_) {
      dumpInFlight_ = false;
      tracker_.endResync();
      if (dumpAgain_) {
        requestResync();
      }
    }
  }
}

void NetlinkLinkMonitor::onGatewayHealth(bool reachable) {
  if (reachable == gatewayOk_) {
    return;
  }
  gatewayOk_ = reachable;
  notify(fmt::format("gateway {} {}", options_.gatewayCheck->gateway,
                     reachable ? "reachable" : "unreachable"));
}

void NetlinkLinkMonitor::notify(const std::string& reason) {
  const bool now = healthy();
  if (now == lastHealthy_) {
    return;
  }
  lastHealthy_ = now;
  RMHA_LOG(Info, "netlink", "network fitness {}: {}", now ? "regained" : "lost", reason);
  if (sink_) {
    sink_->onLinkHealth(now, reason);
  }
}

bool NetlinkLinkMonitor::healthy() const { return tracker_.healthy() && gatewayOk_; }

std::vector<core::NicState> NetlinkLinkMonitor::nics() const { return tracker_.nics(); }

} // namespace rmha::netlink
