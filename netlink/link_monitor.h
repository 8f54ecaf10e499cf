#pragma once
// NetlinkLinkMonitor: the Linux NIC watchdog (core::LinkMonitor) on a plain RTNLGRP_LINK
// netlink socket, read from the owner's io_context. The state logic lives in NicTracker.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "core/ports.h"
#include "core/timer.h"
#include "netlink/nic_tracker.h"

namespace rmha::netlink {

class GatewayCheck;

/// Optional gateway reachability: an ARP request to `gateway` every `interval` on
/// `interfaceName`; `misses` unanswered requests in a row make the node unfit.
struct GatewayCheckOptions {
  std::string gateway;           ///< IPv4 address of the gateway (dotted quad)
  std::string interfaceName;     ///< interface the gateway is reached on
  core::Duration interval = core::Millis(1000);
  unsigned misses = 3;
};

struct LinkMonitorOptions {
  /// Interface names or MACs to monitor (aa:bb:cc:dd:ee:ff, case-insensitive, '-' allowed).
  /// Empty: nothing is monitored and the node is always fit.
  std::vector<std::string> nics;
  NicPolicy policy = NicPolicy::Any;
  /// A NIC must stay down this long before it counts as down (0: at once).
  core::Duration downHoldDown = core::Millis(0);
  /// A NIC must stay up this long before it counts as up again (0: at once).
  core::Duration upHoldDown = core::Millis(500);
  /// Socket receive buffer; a burst larger than this loses events and forces a full re-read.
  int receiveBufferBytes = 1 << 20;
  std::optional<GatewayCheckOptions> gatewayCheck;
};

class NetlinkLinkMonitor final : public core::LinkMonitor {
public:
  /// Everything runs on `io` (the HA thread): sink callbacks, timers from `timers`.
  NetlinkLinkMonitor(boost::asio::io_context& io, LinkMonitorOptions options,
                     core::TimerFactory& timers);
  ~NetlinkLinkMonitor() override;

  /// Opens the netlink socket, reads every link once (synchronously, bounded) and starts
  /// watching. Does not call the sink for the initial state: read healthy() and nics().
  core::Result<> start(core::LinkEvents& sink) override;
  /// Stops watching; no sink call happens after it returns.
  void stop() override;
  /// NIC fitness under the policy, and the gateway check when configured.
  bool healthy() const override;
  /// Every monitored NIC as last seen.
  std::vector<core::NicState> nics() const override;
  /// Full re-reads done after lost events (diagnostics and tests).
  std::uint64_t resyncCount() const { return resyncs_; }

private:
  class Relay;
  std::error_code openSocket();
  std::error_code initialDump();
  std::error_code sendDump();
  void requestResync();
  void armRead();
  void readAvailable();
  void handleBatch(const NetlinkBatch& batch);
  void onGatewayHealth(bool reachable);
  void notify(const std::string& reason);

  boost::asio::io_context& io_;
  LinkMonitorOptions options_;
  std::unique_ptr<Relay> relay_;
  NicTracker tracker_;
  boost::asio::posix::stream_descriptor socket_;
  core::TimerPtr retry_;
  std::unique_ptr<GatewayCheck> gateway_;
  core::LinkEvents* sink_ = nullptr;
  std::shared_ptr<int> alive_;
  std::vector<std::uint8_t> buffer_;
  std::uint32_t seq_ = 0;
  std::uint32_t dumpSeq_ = 0;
  bool dumpInFlight_ = false;
  bool dumpAgain_ = false;
  bool gatewayOk_ = true;
  bool lastHealthy_ = true;
  std::uint64_t resyncs_ = 0;
};

} // namespace rmha::netlink
