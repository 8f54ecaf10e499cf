// One blocking RTM_GETLINK dump, for --check-config only (never on the HA thread):
//
//   hostLinks():  socket(NETLINK_ROUTE) --RTM_GETLINK dump--> kernel
//                 recv (SO_RCVTIMEO bounded) <-- links ... NLMSG_DONE
//                 parseNetlinkDatagram() --> HostLink list --> checkInterfaces() (pure)
#include "netlink/host_check.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "netlink/link_message.h"
#include "netlink/nic_tracker.h"

namespace rmha::netlink {
namespace {

constexpr std::size_t kNamesShown = 8;

std::string lowerMac(std::string mac) {
  std::transform(mac.begin(), mac.end(), mac.begin(), [](unsigned char c) {
    return c == '-' ? ':' : static_cast<char>(std::tolower(c));
  });
  return mac;
}

// "lo, eth0, eth1" (the first few), so the warning shows what the host does have.
std::string hostNames(const std::vector<HostLink>& links) {
  if (links.empty()) {
    return "no interface at all";
  }
  std::string out = "it has ";
  for (std::size_t i = 0; i < links.size() && i < kNamesShown; ++i) {
    out += (i == 0 ? "" : ", ") + links[i].name;
  }
  if (links.size() > kNamesShown) {
    out += fmt::format(" and {} more", links.size() - kNamesShown);
  }
  return out;
}

bool hasName(const std::vector<HostLink>& links, const std::string& name) {
  return std::any_of(links.begin(), links.end(), [&](const auto& l) { return l.name == name; });
}

std::vector<std::string> withMac(const std::vector<HostLink>& links, const std::string& mac,
                                 bool enslaved) {
  std::vector<std::string> out;
  for (const auto& l : links) {
    if (l.mac == mac && l.enslaved == enslaved) {
      out.push_back(l.name);
    }
  }
  return out;
}

std::string checkMacSelector(const std::string& selector, const std::vector<HostLink>& links) {
  const auto mac = lowerMac(selector);
  if (!withMac(links, mac, false).empty()) {
    return "";
  }
  const auto slaves = withMac(links, mac, true);
  if (!slaves.empty()) {
    return fmt::format("monitor-nics entry '{}' is the MAC of {}, which is enslaved (to a bond "
                       "or bridge): a MAC selects only a link that is not; name it instead "
                       "(monitor-nics = {}), or it counts as down and the node as unfit",
                       selector, slaves.front(), slaves.front());
  }
  return fmt::format("monitor-nics entry '{}': no interface with that MAC on this host ({}); "
                     "here it would count as down and the node as unfit",
                     selector, hostNames(links));
}

} // namespace

std::vector<HostWarning> checkInterfaces(const core::ClusterConfig& config,
                                         const std::vector<HostLink>& links) {
  std::vector<HostWarning> out;
  if (!config.vipInterface.empty() && !hasName(links, config.vipInterface)) {
    out.push_back({"vip-interface",
                   fmt::format("vip-interface = {}: no interface of that name on this host ({}); "
                               "here the node could not claim the VIP{}",
                               config.vipInterface, hostNames(links),
                               config.gateway.empty() ? "" : " nor check the gateway")});
  }
  for (const auto& n : config.monitorNics) {
    if (isMacSelector(n)) {
      if (auto w = checkMacSelector(n, links); !w.empty()) {
        out.push_back({"monitor-nics", std::move(w)});
      }
    } else if (!hasName(links, n)) {
      out.push_back({"monitor-nics",
                     fmt::format("monitor-nics entry '{}': no interface of that name on this "
                                 "host ({}); here it would count as down and the node as unfit",
                                 n, hostNames(links))});
    }
  }
  return out;
}

namespace {

class Socket {
public:
  Socket() : fd_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) {}
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int fd() const { return fd_; }

private:
  int fd_;
};

} // namespace

core::Result<std::vector<HostLink>> hostLinks() {
  constexpr std::uint32_t kSeq = 1;
  Socket s;
  // Bounded: a kernel that never finishes the dump ends the check, not hangs it.
  const timeval timeout{2, 0};
  if (s.fd() < 0 || ::setsockopt(s.fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0 ||
      !sendLinkDumpRequest(s.fd(), kSeq)) {
    const int e = errno;
    return core::fail(std::error_code(e, std::generic_category()),
                      fmt::format("cannot list this host's interfaces ({})", std::strerror(e)));
  }
  std::vector<HostLink> links;
  std::vector<char> buf(64 * 1024);
  for (;;) {
    const auto n = ::recv(s.fd(), buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      const int e = n == 0 ? ECONNRESET : errno;
      return core::fail(std::error_code(e, std::generic_category()),
                        fmt::format("cannot list this host's interfaces ({})",
                                    n == 0 ? "the kernel closed the socket" : std::strerror(e)));
    }
    const auto batch = parseNetlinkDatagram(buf.data(), static_cast<std::size_t>(n));
    for (const auto& l : batch.links) {
      if (!l.removed) {
        links.push_back({l.name, lowerMac(l.mac), l.master != 0});
      }
    }
    for (const auto& [seq, err] : batch.errors) {
      if (seq == kSeq) {
        return core::fail(std::error_code(-err, std::generic_category()),
                          fmt::format("cannot list this host's interfaces ({})",
                                      std::strerror(-err)));
      }
    }
    if (std::find(batch.doneSeqs.begin(), batch.doneSeqs.end(), kSeq) != batch.doneSeqs.end()) {
      return links;
    }
  }
}

} // namespace rmha::netlink
