#pragma once
// Resource groups: pools of media servers with a balancing policy, per-server port capacity
// and health. Selection runs on the SIP thread; usage and health are atomics so status
// readers on other threads see them without locks.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/sip/message.h"
#include "core/sip/sip_config.h"

namespace rmha::core::sip {

struct MediaServer {
  SipAddress address;
  std::string hostPort;            ///< for the Request-URI sent to it
  std::string id;                  ///< "udp:192.0.2.21:5070", the name sessions record
  std::uint32_t capacity = 0;
  std::string group;
  std::atomic<int> active{0};      ///< sessions placed on it
  std::atomic<bool> up{true};      ///< healthy per probes and failures
  std::atomic<std::uint64_t> invites{0};
  std::atomic<std::uint64_t> failures{0};
  std::uint32_t unansweredProbes = 0;
  bool probed = false;             ///< OPTIONS probes bring it back after a failure

  bool hasCapacity() const { return active.load(std::memory_order_relaxed) < static_cast<int>(capacity); }
};

class ResourceGroup {
public:
  explicit ResourceGroup(const ResourceGroupConfig& cfg);
  const std::string& name() const { return name_; }
  BalancePolicy policy() const { return policy_; }
  const std::vector<std::unique_ptr<MediaServer>>& servers() const { return servers_; }

  /// Servers to try for a new call, best first: up and with free capacity, in policy order
  /// (round-robin rotates the start; least-used sorts by active sessions).
  void candidates(std::vector<MediaServer*>& out);

private:
  std::string name_;
  BalancePolicy policy_;
  std::vector<std::unique_ptr<MediaServer>> servers_;
  std::size_t cursor_ = 0;
};

/// All groups plus the routing rules.
class ResourceDirectory {
public:
  explicit ResourceDirectory(const SipConfig& cfg);
  /// The group for a new request's Request-URI, or nullptr (no rule, no default).
  ResourceGroup* route(const Uri& requestUri);
  /// The media server with this transport address, or nullptr (requests from MCPs).
  MediaServer* findByAddress(const Peer& peer);
  MediaServer* findById(std::string_view id);
  /// True when `addr` is one of the media servers (any port).
  bool isMediaServerAddress(const boost::asio::ip::address& addr) const;
  std::vector<std::unique_ptr<ResourceGroup>>& groups() { return groups_; }
  const std::vector<std::unique_ptr<ResourceGroup>>& groups() const { return groups_; }

private:
  std::vector<std::unique_ptr<ResourceGroup>> groups_;
  std::vector<RoutingRule> rules_;
  ResourceGroup* defaultGroup_ = nullptr;
};

} // namespace rmha::core::sip
