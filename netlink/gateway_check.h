#pragma once
// Gateway reachability as a fitness criterion: an ARP request to the gateway every interval;
// `misses` intervals in a row without the gateway's ARP reply make it unreachable, one reply
// makes it reachable again. It starts unreachable until the first reply (a node that cannot
// reach its gateway is unfit to be active), which on a LAN is a fraction of a millisecond.
#include <functional>
#include <system_error>

#include <boost/asio/io_context.hpp>

#include "core/timer.h"
#include "netlink/garp_frame.h"
#include "netlink/link_monitor.h"
#include "netlink/pcap_channel.h"

namespace rmha::netlink {

class GatewayCheck {
public:
  using OnChange = std::function<void(bool reachable)>;
  GatewayCheck(boost::asio::io_context& io, GatewayCheckOptions options,
               core::TimerFactory& timers, OnChange onChange);

  /// Opens the capture and sends the first request. Errors: bad gateway address, missing
  /// interface, no CAP_NET_RAW.
  std::error_code start();
  void stop();
  bool reachable() const { return reachable_; }

private:
  std::error_code openCapture();
  void tick();
  void onFrame(const std::uint8_t* data, std::size_t len);

  GatewayCheckOptions options_;
  PcapChannel channel_;
  core::TimerPtr timer_;
  OnChange onChange_;
  std::string filter_;
  Ipv4Address gateway_{};
  MacAddress mac_{};
  bool answered_ = false;
  bool reachable_ = false;
  unsigned missed_ = 0;
};

} // namespace rmha::netlink
