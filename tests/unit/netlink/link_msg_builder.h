#pragma once
// Builds rtnetlink link messages for tests, the way the kernel lays them out (bond masters
// and slaves included: this kernel has no bonding driver to produce real ones).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>

#include "netlink/nl_ptr.h"

// Tests name only the LinkSpec fields they care about (designated initializers); the others
// keep their defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace rmha::netlink::test {

struct LinkSpec {
  int type = RTM_NEWLINK;
  unsigned char family = AF_UNSPEC;
  int ifindex = 0;
  unsigned flags = 0;
  std::string name;
  std::vector<std::uint8_t> mac;
  std::optional<std::uint8_t> operstate;
  int master = 0;
  std::string kind;
  std::optional<std::uint32_t> bondActiveSlave;
  std::string slaveKind;
  std::optional<std::uint8_t> slaveState;
};

inline constexpr unsigned kUpRunning = IFF_UP | IFF_RUNNING | IFF_LOWER_UP;

inline std::vector<std::uint8_t> buildLink(const LinkSpec& s) {
  NlMsgPtr msg(nlmsg_alloc_simple(s.type, 0));
  ifinfomsg ifi{};
  ifi.ifi_family = s.family;
  ifi.ifi_index = s.ifindex;
  ifi.ifi_flags = s.flags;
  nlmsg_append(msg.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO);
  if (!s.name.empty()) nla_put_string(msg.get(), IFLA_IFNAME, s.name.c_str());
  if (!s.mac.empty()) nla_put(msg.get(), IFLA_ADDRESS, static_cast<int>(s.mac.size()), s.mac.data());
  if (s.operstate) nla_put_u8(msg.get(), IFLA_OPERSTATE, *s.operstate);
  if (s.master) nla_put_u32(msg.get(), IFLA_MASTER, static_cast<std::uint32_t>(s.master));
  if (!s.kind.empty() || !s.slaveKind.empty()) {
    nlattr* info = nla_nest_start(msg.get(), IFLA_LINKINFO);
    if (!s.kind.empty()) {
      nla_put_string(msg.get(), IFLA_INFO_KIND, s.kind.c_str());
      nlattr* data = nla_nest_start(msg.get(), IFLA_INFO_DATA);
      nla_put_u8(msg.get(), IFLA_BOND_MODE, 1);  // active-backup
      if (s.bondActiveSlave) nla_put_u32(msg.get(), IFLA_BOND_ACTIVE_SLAVE, *s.bondActiveSlave);
      nla_nest_end(msg.get(), data);
    }
    if (!s.slaveKind.empty()) {
      nla_put_string(msg.get(), IFLA_INFO_SLAVE_KIND, s.slaveKind.c_str());
      nlattr* data = nla_nest_start(msg.get(), IFLA_INFO_SLAVE_DATA);
      if (s.slaveState) nla_put_u8(msg.get(), IFLA_BOND_SLAVE_STATE, *s.slaveState);
      nla_nest_end(msg.get(), data);
    }
    nla_nest_end(msg.get(), info);
  }
  const nlmsghdr* h = nlmsg_hdr(msg.get());
  const auto* b = reinterpret_cast<const std::uint8_t*>(h);
  return std::vector<std::uint8_t>(b, b + h->nlmsg_len);
}

inline std::vector<std::uint8_t> mac(std::uint8_t last) { return {0x02, 0, 0x5e, 0, 0x53, last}; }

} // namespace rmha::netlink::test
