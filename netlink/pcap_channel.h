#pragma once
// Frames on the wire through libpcap: send with pcap_inject, receive what a BPF filter lets
// through, read from the owner's io_context via pcap_get_selectable_fd. One channel per
// interface and purpose (VIP announcements and conflict watch, gateway check).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "netlink/garp_frame.h"

struct pcap;

namespace rmha::netlink {

/// The sending seam: ARP frames go out through it (pcap_inject in production).
class FrameSender {
public:
  virtual ~FrameSender() = default;
  /// Sends one complete Ethernet frame now, without blocking. Thread: the owner's.
  virtual std::error_code sendFrame(const std::uint8_t* data, std::size_t len) = 0;
};

/// Our MAC and ifindex of `ifname`, read in the calling thread's network namespace.
std::error_code interfaceMac(const std::string& ifname, MacAddress& mac);
/// The interface's primary IPv4 address, or 0.0.0.0 when it has none.
Ipv4Address interfaceIpv4(const std::string& ifname);

class PcapChannel final : public FrameSender {
public:
  using FrameHandler = std::function<void(const std::uint8_t* data, std::size_t len)>;

  explicit PcapChannel(boost::asio::io_context& io);
  ~PcapChannel() override;
  PcapChannel(const PcapChannel&) = delete;
  PcapChannel& operator=(const PcapChannel&) = delete;

  /// Opens `ifname` (immediate mode, inbound only, `filter` in BPF syntax) and delivers every
  /// matching frame to `onFrame` on the io_context. Needs CAP_NET_RAW. `onFrame` may close or
  /// re-open the channel, but must not destroy it.
  std::error_code open(const std::string& ifname, const std::string& filter, FrameHandler onFrame);
  /// Closes the capture. A read error (the interface vanished) closes it too.
  void close();
  bool isOpen() const { return handle_ != nullptr; }

  /// pcap_inject of one frame.
  std::error_code sendFrame(const std::uint8_t* data, std::size_t len) override;

private:
  void armRead();
  void dispatch();

  boost::asio::posix::stream_descriptor fd_;
  pcap* handle_ = nullptr;
  pcap* retired_ = nullptr;   // closed by a frame handler while pcap_dispatch still runs on it
  bool dispatching_ = false;
  FrameHandler onFrame_;
  std::shared_ptr<int> alive_;
};

} // namespace rmha::netlink
