#pragma once
// The watchdog's pure half: which links are the monitored NICs, their health after the
// hold-down, the node's fitness under the policy, and bond active-slave changes. It sees only
// parsed link messages and timers from a core::TimerFactory, so unit tests drive it with
// built messages on simulated time; NetlinkLinkMonitor feeds it from a real socket.
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/ports.h"
#include "core/timer.h"
#include "netlink/link_message.h"

namespace rmha::netlink {

/// How the monitored NICs combine into the node's network fitness: Any (any monitored NIC
/// down means the network is down, the GVP rule) or All (down only when every one is down).
/// The configuration's own enum, so the composition root passes it through unchanged.
using NicPolicy = core::NicPolicy;

/// Debounce and selection settings of the tracker (a subset of LinkMonitorOptions).
struct NicTrackerOptions {
  std::vector<std::string> selectors;          ///< interface names or MACs (aa:bb:cc:dd:ee:ff)
  NicPolicy policy = NicPolicy::Any;
  core::Duration downHoldDown = core::Millis(0);  ///< a NIC must stay down this long
  core::Duration upHoldDown = core::Millis(500);  ///< a NIC must stay up this long
};

/// True when `text` looks like a MAC selector (six hex pairs separated by ':' or '-').
bool isMacSelector(const std::string& text);

class NicTracker {
public:
  NicTracker(NicTrackerOptions options, core::TimerFactory& timers);
  NicTracker(const NicTracker&) = delete;
  NicTracker& operator=(const NicTracker&) = delete;

  /// Where health and bond events go; nullptr silences them (initial load).
  void setSink(core::LinkEvents* sink) { sink_ = sink; }

  /// The message-handling path: parses a NETLINK_ROUTE datagram and applies its links.
  /// Returns what else the datagram carried (dump completion, errors) for the socket owner.
  NetlinkBatch handleDatagram(const void* data, std::size_t len);
  /// Applies one link message (new, changed or removed link).
  void apply(const LinkMessage& msg);

  /// Starts a full re-read: links not seen before endResync() are treated as removed.
  void beginResync();
  void endResync();

  /// Ends the initial load: from now on state changes go through the hold-down and the sink.
  void finishInitialLoad();

  /// Fitness under the policy, from the debounced per-NIC health.
  bool healthy() const;
  std::vector<core::NicState> nics() const;

private:
  struct Nic {
    std::string selector;
    bool byMac = false;
    std::string wantMac;
    int ifindex = 0;
    std::string name;
    std::string mac;
    bool adminUp = false;
    bool lowerUp = false;
    bool reported = false;      // debounced health
    bool bondKnown = false;     // active slave seen at least once since bound
    int activeSlave = 0;
    core::TimerPtr hold;
  };
  struct KnownLink {
    std::string name;
    std::string mac;
    int master = 0;
  };

  bool matches(const Nic& nic, const std::string& name, const std::string& mac, int master) const;
  void bind(Nic& nic, const LinkMessage& msg);
  void unbind(Nic& nic);
  void rebindFromKnown(Nic& nic);
  void updateBond(Nic& nic, const LinkMessage& msg);
  void slaveReported(const LinkMessage& msg);
  void setActiveSlave(Nic& nic, int slave);
  void evaluate(Nic& nic);
  void commit(Nic& nic, bool healthy);
  void holdExpired(std::size_t index);
  static bool raw(const Nic& nic) { return nic.ifindex != 0 && nic.adminUp && nic.lowerUp; }

  NicTrackerOptions options_;
  std::vector<Nic> nics_;
  std::map<int, KnownLink> links_;
  std::set<int> seen_;
  bool resyncing_ = false;
  bool initializing_ = true;
  bool lastHealthy_ = false;
  core::LinkEvents* sink_ = nullptr;
};

} // namespace rmha::netlink
