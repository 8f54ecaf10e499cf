#include "netlink/vip_backend.h"

#include <net/if.h>
#include <sys/capability.h>

#include "netlink/address_ops.h"

namespace rmha::netlink {
namespace {

class LinuxVipBackend final : public VipBackend {
public:
  explicit LinuxVipBackend(boost::asio::io_context& io) : channel_(io) {}

  std::error_code open(const std::string& ifname, const std::string& filter, FrameHandler onFrame,
                       MacAddress& mac, int& ifindex) override {
    if (!addresses_.isOpen()) {
      if (auto ec = addresses_.open()) {
        return ec;
      }
    }
    // The interface may have been removed and re-added since: follow its current index.
    const int index = static_cast<int>(::if_nametoindex(ifname.c_str()));
    if (index == 0) {
      return std::make_error_code(std::errc::no_such_device);
    }
    if (index != index_ || !channel_.isOpen()) {
      if (auto ec = interfaceMac(ifname, mac_)) {
        return ec;
      }
      if (auto ec = channel_.open(ifname, filter, std::move(onFrame))) {
        return ec;
      }
      index_ = index;
    }
    mac = mac_;
    ifindex = index_;
    return {};
  }
  Privileges privileges() override {
    Privileges p;
    cap_t caps = ::cap_get_proc();
    if (caps == nullptr) {
      return p;
    }
    auto has = [caps](cap_value_t cap) {
      cap_flag_value_t v = CAP_CLEAR;
      return ::cap_get_flag(caps, cap, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET;
    };
    p.netAdmin = has(CAP_NET_ADMIN);
    p.netRaw = has(CAP_NET_RAW);
    ::cap_free(caps);
    return p;
  }
  std::error_code probeAddressChange(int ifindex) override {
    return addresses_.probeAddressChange(ifindex);
  }
  std::error_code addOrRenew(int ifindex, const Ipv4Address& ip, unsigned prefix,
                             unsigned lifetimeSeconds) override {
    return addresses_.addOrRenew(ifindex, ip, prefix, lifetimeSeconds);
  }
  std::error_code remove(int ifindex, const Ipv4Address& ip, unsigned prefix) override {
    return addresses_.remove(ifindex, ip, prefix);
  }
  bool present(int ifindex, const Ipv4Address& ip) override {
    return addresses_.present(ifindex, ip);
  }
  std::vector<NeighbourEntry> neighbours(const std::vector<Ipv4Address>& ips) override {
    return addresses_.neighbours(ips);
  }
  std::error_code sendFrame(const std::uint8_t* data, std::size_t len) override {
    return channel_.sendFrame(data, len);
  }

private:
  AddressOps addresses_;
  PcapChannel channel_;
  MacAddress mac_{};
  int index_ = 0;
};

} // namespace

VipBackendPtr makeLinuxVipBackend(boost::asio::io_context& io) {
  return std::make_unique<LinuxVipBackend>(io);
}

} // namespace rmha::netlink
