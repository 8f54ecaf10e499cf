#pragma once
// `rmhad --check-config` on the host it runs on: the interfaces and MACs the configuration
// names that this host does not have. Warnings, never refusals: a configuration may be written
// on one host for another. The pure check sees a list of links, so unit tests give it any
// host; hostLinks() reads the real one.
#include <string>
#include <vector>

#include "core/config.h"
#include "core/result.h"

namespace rmha::netlink {

/// One link of the host, as the NIC watchdog would see it.
struct HostLink {
  std::string name;
  std::string mac;       ///< aa:bb:cc:dd:ee:ff, lower case; "" when the link has none
  bool enslaved = false; ///< has a master (bond or bridge): a MAC selector never matches it
};

/// One warning: the [cluster] key it is about, and a sentence.
struct HostWarning {
  std::string key;
  std::string message;
};

/// The keys naming interfaces (vip-interface, monitor-nics by name or MAC) that `links` does
/// not satisfy, matched the way the NIC watchdog matches them. Empty when all are present.
std::vector<HostWarning> checkInterfaces(const core::ClusterConfig& config,
                                         const std::vector<HostLink>& links);

/// The links of the calling thread's network namespace (one RTM_GETLINK dump, at most about
/// two seconds); the error says why they could not be read.
[[nodiscard]] core::Result<std::vector<HostLink>> hostLinks();

} // namespace rmha::netlink
