#pragma once
// What VipSteering needs from the system, as a seam: the interface (MAC, index), the VIP
// address (add / renew / remove) and ARP on the wire (send, and a filtered receive). The
// Linux backend is rtnetlink + libpcap; unit tests put a fake behind it and run VipSteering
// on the FakeClock.
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "netlink/address_ops.h"
#include "netlink/garp_frame.h"
#include "netlink/pcap_channel.h"

namespace rmha::netlink {

/// The capabilities a claim needs, as the kernel will check them (the effective set).
struct Privileges {
  bool netAdmin = true;  ///< CAP_NET_ADMIN: add and remove the VIP
  bool netRaw = true;    ///< CAP_NET_RAW: the packet socket for ARP
};

class VipBackend : public FrameSender {
public:
  using FrameHandler = std::function<void(const std::uint8_t* data, std::size_t len)>;

  /// This process's effective capabilities (both true when they cannot be read: the other
  /// checks of the self-test then tell).
  virtual Privileges privileges() = 0;
  /// {} when the kernel takes address changes on `ifindex` from this process; nothing
  /// changes (AddressOps::probeAddressChange). Needs open() first.
  virtual std::error_code probeAddressChange(int ifindex) = 0;

  /// Makes the interface ready: the address socket, and an ARP capture with `filter` whose
  /// frames go to `onFrame` on the owner's executor (never from inside this call). Cheap when
  /// already open on the same interface index; re-opens when the interface was re-created.
  /// Fills our MAC and the interface index.
  virtual std::error_code open(const std::string& ifname, const std::string& filter,
                               FrameHandler onFrame, MacAddress& mac, int& ifindex) = 0;
  /// Adds the address or resets its lifetimes (seconds; 0 = permanent).
  virtual std::error_code addOrRenew(int ifindex, const Ipv4Address& ip, unsigned prefix,
                                     unsigned lifetimeSeconds) = 0;
  /// Removes the address; one that is not there is not an error.
  virtual std::error_code remove(int ifindex, const Ipv4Address& ip, unsigned prefix) = 0;
  /// True when the address is on the interface.
  virtual bool present(int ifindex, const Ipv4Address& ip) = 0;
  /// The kernel neighbour table's MACs for `ips` (any interface); unresolved ones are left out.
  virtual std::vector<NeighbourEntry> neighbours(const std::vector<Ipv4Address>& ips) = 0;
};
using VipBackendPtr = std::unique_ptr<VipBackend>;

/// The Linux backend: rtnetlink (libnl-route) for the address, libpcap for the frames.
VipBackendPtr makeLinuxVipBackend(boost::asio::io_context& io);

} // namespace rmha::netlink
