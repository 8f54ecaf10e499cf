#include "netlink/gateway_check.h"

#include "core/log.h"

namespace rmha::netlink {

GatewayCheck::GatewayCheck(boost::asio::io_context& io, GatewayCheckOptions options,
                           core::TimerFactory& timers, OnChange onChange)
    : options_(std::move(options)), channel_(io), timer_(timers.createTimer([this] { tick(); })),
      onChange_(std::move(onChange)) {}

std::error_code GatewayCheck::start() {
  const auto gw = parseIpv4(options_.gateway);
  if (!gw || options_.interval <= core::Duration::zero() || options_.misses == 0) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  gateway_ = *gw;
  // ARP replies whose sender is the gateway.
  filter_ = fmt::format("arp and arp[6:2] = 2 and arp[14:4] = 0x{:02x}{:02x}{:02x}{:02x}",
                        gateway_[0], gateway_[1], gateway_[2], gateway_[3]);
  if (auto ec = openCapture()) {
    return ec;
  }
  answered_ = false;
  missed_ = 0;
  tick();
  return {};
}

std::error_code GatewayCheck::openCapture() {
  if (auto ec = interfaceMac(options_.interfaceName, mac_)) {
    return ec;
  }
  return channel_.open(options_.interfaceName, filter_,
                       [this](const std::uint8_t* d, std::size_t n) { onFrame(d, n); });
}

void GatewayCheck::stop() {
  timer_->disable();
  channel_.close();
}

void GatewayCheck::tick() {
  if (!answered_ && ++missed_ >= options_.misses && reachable_) {
    reachable_ = false;
    RMHA_LOG(Warn, "netlink", "gateway {} unreachable: {} ARP requests unanswered",
             options_.gateway, missed_);
    onChange_(false);
  }
  answered_ = false;
  if (!channel_.isOpen()) {
    (void)openCapture();  // the interface vanished and may be back: each interval tries again
  }
  // Our own address as sender when we have one, else an RFC 5227 probe form (0.0.0.0), which
  // hosts answer too.
  const auto frame = arpRequest(mac_, interfaceIpv4(options_.interfaceName), gateway_);
  (void)channel_.sendFrame(frame.data(), frame.size());
  timer_->enable(options_.interval);
}

void GatewayCheck::onFrame(const std::uint8_t* data, std::size_t len) {
  const auto arp = parseArpFrame(data, len);
  if (!arp || arp->op != kArpReply || arp->senderIp != gateway_) {
    return;
  }
  answered_ = true;
  missed_ = 0;
  if (!reachable_) {
    reachable_ = true;
    RMHA_LOG(Info, "netlink", "gateway {} reachable ({})", options_.gateway,
             toString(arp->senderMac));
    onChange_(true);
  }
}

} // namespace rmha::netlink
