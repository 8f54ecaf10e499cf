#include "netlink/address_ops.h"

#include <algorithm>
#include <cstring>

#include <netlink/errno.h>
#include <netlink/route/addr.h>
#include <netlink/route/neighbour.h>

#include "netlink/nl_error.h"
#include "netlink/nl_ptr.h"

namespace rmha::netlink {

void AddressOps::SockFree::operator()(nl_sock* p) const { NlSockDeleter{}(p); }
void AddressOps::AddrFree::operator()(rtnl_addr* p) const { RtnlAddrDeleter{}(p); }

std::error_code AddressOps::open() {
  std::unique_ptr<nl_sock, SockFree> sock(nl_socket_alloc());
  if (!sock) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
  if (int rc = nl_connect(sock.get(), NETLINK_ROUTE); rc < 0) {
    return makeNlError(rc);
  }
  sock_ = std::move(sock);
  return {};
}

std::unique_ptr<rtnl_addr, AddressOps::AddrFree> AddressOps::build(int ifindex,
                                                                    const Ipv4Address& ip,
                                                                    unsigned prefix) {
  std::unique_ptr<rtnl_addr, AddrFree> addr(rtnl_addr_alloc());
  NlAddrPtr local(nl_addr_build(AF_INET, ip.data(), ip.size()));
  if (!addr || !local) {
    return nullptr;
  }
  nl_addr_set_prefixlen(local.get(), static_cast<int>(prefix));
  rtnl_addr_set_ifindex(addr.get(), ifindex);
  rtnl_addr_set_family(addr.get(), AF_INET);
  // rtnl_addr_set_local takes its own reference; `local` drops ours.
  if (rtnl_addr_set_local(addr.get(), local.get()) < 0) {
    return nullptr;
  }
  rtnl_addr_set_prefixlen(addr.get(), static_cast<int>(prefix));
  return addr;
}

std::error_code AddressOps::addOrRenew(int ifindex, const Ipv4Address& ip, unsigned prefix,
                                       unsigned lifetimeSeconds) {
  if (!sock_) {
    return std::make_error_code(std::errc::not_connected);
  }
  auto addr = build(ifindex, ip, prefix);
  if (!addr) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
  if (lifetimeSeconds > 0) {
    rtnl_addr_set_valid_lifetime(addr.get(), lifetimeSeconds);
    rtnl_addr_set_preferred_lifetime(addr.get(), lifetimeSeconds);
  }
  // NLM_F_REPLACE (libnl adds NLM_F_CREATE): the same request adds the address or, when it is
  // already there, resets its lifetimes — the renewal that keeps a live owner's VIP.
  const int rc = rtnl_addr_add(sock_.get(), addr.get(), NLM_F_REPLACE);
  return rc == -NLE_EXIST ? std::error_code() : makeNlError(rc);
}

std::error_code AddressOps::remove(int ifindex, const Ipv4Address& ip, unsigned prefix) {
  if (!sock_) {
    return std::make_error_code(std::errc::not_connected);
  }
  auto addr = build(ifindex, ip, prefix);
  if (!addr) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
  const int rc = rtnl_addr_delete(sock_.get(), addr.get(), 0);
  if (rc == -NLE_NOADDR || rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV) {
    return {};
  }
  return makeNlError(rc);
}

std::error_code AddressOps::probeAddressChange(int ifindex) {
  if (!sock_) {
    return std::make_error_code(std::errc::not_connected);
  }
  auto addr = build(ifindex, Ipv4Address{}, 32);
  if (!addr) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
  const int rc = rtnl_addr_delete(sock_.get(), addr.get(), 0);
  switch (rc < 0 ? -rc : rc) {
  case NLE_NOADDR:
  case NLE_OBJ_NOTFOUND: return {};
  case 0: return {}; // cannot happen: no interface holds 0.0.0.0
  case NLE_PERM: return std::make_error_code(std::errc::operation_not_permitted);
  case NLE_NODEV: return std::make_error_code(std::errc::no_such_device);
  default: return makeNlError(rc);
  }
}

bool AddressOps::present(int ifindex, const Ipv4Address& ip) {
  if (!sock_) {
    return false;
  }
  nl_cache* raw = nullptr;
  if (rtnl_addr_alloc_cache(sock_.get(), &raw) < 0) {
    return false;
  }
  NlCachePtr cache(raw);
  bool found = false;
  for (nl_object* o = nl_cache_get_first(cache.get()); o && !found; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    nl_addr* local = rtnl_addr_get_local(a);  // borrowed: no reference taken
    found = rtnl_addr_get_ifindex(a) == ifindex && rtnl_addr_get_family(a) == AF_INET && local &&
            nl_addr_get_len(local) == ip.size() &&
            std::memcmp(nl_addr_get_binary_addr(local), ip.data(), ip.size()) == 0;
  }
  return found;
}

std::vector<NeighbourEntry> AddressOps::neighbours(const std::vector<Ipv4Address>& ips) {
  std::vector<NeighbourEntry> found;
  if (!sock_ || ips.empty()) {
    return found;
  }
  nl_cache* raw = nullptr;
  if (rtnl_neigh_alloc_cache(sock_.get(), &raw) < 0) {
    return found;
  }
  NlCachePtr cache(raw);
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* n = reinterpret_cast<rtnl_neigh*>(o);
    nl_addr* dst = rtnl_neigh_get_dst(n);        // borrowed
    nl_addr* lladdr = rtnl_neigh_get_lladdr(n);  // borrowed
    if (rtnl_neigh_get_family(n) != AF_INET || !dst || !lladdr ||
        nl_addr_get_len(dst) != sizeof(Ipv4Address) ||
        nl_addr_get_len(lladdr) != sizeof(MacAddress) ||
        (rtnl_neigh_get_state(n) & (NUD_INCOMPLETE | NUD_FAILED)) != 0) {
      continue;
    }
    NeighbourEntry e;
    std::memcpy(e.ip.data(), nl_addr_get_binary_addr(dst), e.ip.size());
    std::memcpy(e.mac.data(), nl_addr_get_binary_addr(lladdr), e.mac.size());
    if (std::find(ips.begin(), ips.end(), e.ip) != ips.end()) {
      found.push_back(e);
    }
  }
  return found;
}

} // namespace rmha::netlink
