#pragma once
// IPv4 address add / renew / remove over rtnetlink (libnl-route). Each call is one request and
// its acknowledgement: the kernel handles the request inside sendmsg(), so the ack is already
// queued when the call waits for it; nothing here waits on the network.
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "netlink/garp_frame.h"

struct nl_sock;
struct rtnl_addr;

namespace rmha::netlink {

/// A neighbour table entry: this IPv4 address is reached at this MAC.
struct NeighbourEntry {
  Ipv4Address ip{};
  MacAddress mac{};
};

class AddressOps {
public:
  /// Opens the rtnetlink socket in the calling thread's network namespace.
  std::error_code open();
  bool isOpen() const { return sock_ != nullptr; }

  /// Adds `ip/prefix` to `ifindex` or, when present, replaces it: lifetimes are reset to
  /// `lifetimeSeconds` (valid and preferred; 0 = forever).
  std::error_code addOrRenew(int ifindex, const Ipv4Address& ip, unsigned prefix,
                             unsigned lifetimeSeconds);
  /// Removes `ip/prefix` from `ifindex`; an address that is not there is not an error.
  std::error_code remove(int ifindex, const Ipv4Address& ip, unsigned prefix);
  /// Proves that the kernel takes address changes on `ifindex` from this process, changing
  /// nothing: asks it to remove 0.0.0.0/32, an address no interface holds. The kernel checks
  /// CAP_NET_ADMIN before anything else (EPERM), then the interface (ENODEV), and only then
  /// looks for the address (EADDRNOTAVAIL, which here means: permitted). {} when permitted.
  std::error_code probeAddressChange(int ifindex);
  /// True when `ip` is configured on `ifindex` (a fresh dump of the addresses).
  bool present(int ifindex, const Ipv4Address& ip);
  /// The link-layer addresses the kernel's neighbour table holds for `ips`, on any interface
  /// (one RTM_GETNEIGH dump). Entries without a link-layer address (INCOMPLETE, FAILED) are
  /// left out; an address may appear once per interface.
  std::vector<NeighbourEntry> neighbours(const std::vector<Ipv4Address>& ips);

private:
  // Declared here without libnl's headers, so that users of the public headers need none.
  struct SockFree {
    void operator()(nl_sock* p) const;
  };
  struct AddrFree {
    void operator()(rtnl_addr* p) const;
  };
  std::unique_ptr<rtnl_addr, AddrFree> build(int ifindex, const Ipv4Address& ip, unsigned prefix);
  std::unique_ptr<nl_sock, SockFree> sock_;
};

} // namespace rmha::netlink
