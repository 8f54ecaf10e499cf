#pragma once
// Pure parsing of rtnetlink link messages (RTM_NEWLINK / RTM_DELLINK) into plain data. The
// watchdog's message-handling path starts here, so unit tests feed it buffers they build
// themselves (bond masters included: this kernel has no bonding driver).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

struct nlmsghdr;

namespace rmha::netlink {

/// One link as an RTM_NEWLINK / RTM_DELLINK message describes it.
struct LinkMessage {
  bool removed = false;          ///< RTM_DELLINK
  unsigned char family = 0;      ///< ifi_family: AF_UNSPEC for the link itself
  int ifindex = 0;
  unsigned flags = 0;            ///< ifi_flags (IFF_UP, IFF_RUNNING, IFF_LOWER_UP ...)
  std::string name;              ///< IFLA_IFNAME ("" when absent)
  std::string mac;               ///< IFLA_ADDRESS as aa:bb:cc:dd:ee:ff ("" when absent)
  std::optional<std::uint8_t> operstate; ///< IFLA_OPERSTATE (IF_OPER_*)
  int master = 0;                ///< IFLA_MASTER ifindex, 0 when not enslaved
  std::string kind;              ///< IFLA_INFO_KIND ("bond", "veth", ...)
  std::optional<int> bondActiveSlave;    ///< IFLA_BOND_ACTIVE_SLAVE (bond masters)
  std::string slaveKind;         ///< IFLA_INFO_SLAVE_KIND ("bond" for a bond slave)
  std::optional<std::uint8_t> bondSlaveState; ///< IFLA_BOND_SLAVE_STATE (0 active, 1 backup)

  /// Administratively up (IFF_UP).
  bool adminUp() const;
  /// Lower layer up: IFF_RUNNING, with the operstate (when present) agreeing. Deliberately not
  /// IFLA_CARRIER alone, which some messages omit.
  bool lowerUp() const;
};

/// What one netlink datagram carried, besides the links.
struct NetlinkBatch {
  std::vector<LinkMessage> links;
  std::vector<std::uint32_t> doneSeqs;  ///< NLMSG_DONE of these dump sequence numbers
  std::vector<std::uint32_t> interruptedSeqs; ///< dump parts flagged NLM_F_DUMP_INTR
  std::vector<std::pair<std::uint32_t, int>> errors; ///< NLMSG_ERROR (seq, -errno), acks skipped
  std::size_t malformed = 0;            ///< messages skipped as truncated or malformed
};

/// Parses one link message; nullopt when it is not a well-formed RTM_NEWLINK / RTM_DELLINK.
std::optional<LinkMessage> parseLinkMessage(const nlmsghdr* hdr, std::size_t available);

/// Parses every message of one datagram as received from a NETLINK_ROUTE socket. Never reads
/// outside [data, data + len). Only AF_UNSPEC link messages describe the link itself: a
/// bridge's AF_BRIDGE RTM_DELLINK, for one, means "port left the bridge", not "link removed";
/// those are left out of `links`.
NetlinkBatch parseNetlinkDatagram(const void* data, std::size_t len);

/// Sends an RTM_GETLINK dump request (every link, AF_UNSPEC) with sequence `seq` on the
/// NETLINK_ROUTE socket `fd`; false with errno set when the kernel did not take it.
bool sendLinkDumpRequest(int fd, std::uint32_t seq);

/// aa:bb:cc:dd:ee:ff (lower case).
std::string formatMac(const std::uint8_t* bytes, std::size_t len);

} // namespace rmha::netlink
