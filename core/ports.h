#pragma once
// The narrow seams between the HA engine and the world. No Asio, netlink, pcap or Windows
// types here: the engine is tested against fakes (tests/fakes), each seam against the real
// thing in integration tests. Every callback runs on the owner's executor (the HA thread).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/result.h"

namespace rmha::core {

// ---------------------------------------------------------------------------------------------
// LinkMonitor: the NIC watchdog.

/// One monitored NIC as the watchdog last saw it.
struct NicState {
  std::string selector;   ///< what the configuration named: an interface name or a MAC
  std::string name;       ///< resolved interface name ("" when not present)
  std::string mac;        ///< aa:bb:cc:dd:ee:ff
  int ifindex = 0;
  bool adminUp = false;   ///< IFF_UP
  bool lowerUp = false;   ///< IFF_RUNNING / operstate UP
  bool healthy = false;   ///< adminUp && lowerUp, after the hold-down
  std::string bondActiveSlave; ///< for a bond master: the active slave's name
};

class LinkEvents {
public:
  virtual ~LinkEvents() = default;
  /// The node's network fitness changed (policy `any` or `all` over the monitored NICs).
  virtual void onLinkHealth(bool healthy, const std::string& reason) = 0;
  /// A monitored bond's active slave changed: the VIP must be re-announced.
  virtual void onBondActiveSlaveChanged(const std::string& bond, const std::string& slave) = 0;
};

class LinkMonitor {
public:
  virtual ~LinkMonitor() = default;
  /// Starts watching; events go to `sink` on the owner's executor. Errors are fatal at start.
  [[nodiscard]] virtual Result<> start(LinkEvents& sink) = 0;
  virtual void stop() = 0;
  /// Current fitness under the configured policy.
  virtual bool healthy() const = 0;
  virtual std::vector<NicState> nics() const = 0;
};

// ---------------------------------------------------------------------------------------------
// TrafficSteering: who receives the service traffic. VIP + gratuitous ARP on Linux, NLB on
// Windows, nothing for active-active behind a load balancer.

using SteeringDone = std::function<void(std::error_code)>;

/// Why a node cannot be trusted with the role. The value travels in the peer heartbeat
/// (byte 10), so the peer's status can say why: never renumber, only add.
enum class UnfitCode : std::uint8_t {
  None = 0,          ///< fit
  NicDown = 1,       ///< a monitored NIC is down (or the gateway is unreachable)
  NoInterface = 2,   ///< the VIP interface does not exist (or is not an Ethernet interface)
  NoCapNetAdmin = 3, ///< the process lacks CAP_NET_ADMIN: it cannot add the VIP
  NoCapNetRaw = 4,   ///< the process lacks CAP_NET_RAW: it cannot send ARP
  PacketSocket = 5,  ///< the packet socket does not open on the VIP interface
  AddressDenied = 6, ///< the kernel refuses address changes on the VIP interface
  ClaimFailed = 7,   ///< its last claim failed at run time (back-off running)
  SelfTestFailed = 8, ///< another self-test problem (bad steering options, ...)
  InternalError = 9, ///< a transition could not be applied (an exception); back-off running
};

/// A few words for an UnfitCode, as the peer's status shows it: "cannot claim (no CAP_NET_ADMIN)".
constexpr std::string_view describe(UnfitCode c) {
  switch (c) {
  case UnfitCode::None: return "fit";
  case UnfitCode::NicDown: return "a monitored NIC is down";
  case UnfitCode::NoInterface: return "cannot claim (no such VIP interface)";
  case UnfitCode::NoCapNetAdmin: return "cannot claim (no CAP_NET_ADMIN)";
  case UnfitCode::NoCapNetRaw: return "cannot claim (no CAP_NET_RAW)";
  case UnfitCode::PacketSocket: return "cannot claim (the packet socket does not open)";
  case UnfitCode::AddressDenied: return "cannot claim (address changes refused)";
  case UnfitCode::ClaimFailed: return "its last claim failed (back-off)";
  case UnfitCode::SelfTestFailed: return "cannot claim (self-test failed)";
  case UnfitCode::InternalError: return "an internal error (back-off)";
  }
  return "unfit (unknown reason)";
}

/// The answer of TrafficSteering::selfTest(): nothing wrong, or what and why.
struct SelfTestResult {
  UnfitCode code = UnfitCode::None;
  std::string problem;  ///< one sentence for status and the log ("" when fine)
  bool ok() const { return code == UnfitCode::None; }
};

class SteeringEvents {
public:
  virtual ~SteeringEvents() = default;
  /// While we own the traffic, another station claimed it (a gratuitous ARP or ARP reply for
  /// the VIP from another MAC). The engine decides: re-assert or release.
  virtual void onTrafficConflict(const std::string& otherMac) = 0;
};

class TrafficSteering {
public:
  virtual ~TrafficSteering() = default;
  /// Where conflicts are reported; set once before the first acquire.
  virtual void setEvents(SteeringEvents& sink) = 0;
  /// Makes this node receive the traffic (probe, claim, announce); answers from the peer's
  /// own addresses do not stop the claim (its process is known to be dead or silent, and a
  /// leftover VIP expires by itself). `done` runs once, on the
  /// owner's executor; an error means the traffic is not ours (for example an address
  /// conflict) and the node must not serve.
  virtual void acquire(SteeringDone done) = 0;
  /// The same, when the peer is known to have let go of the traffic (it said so, or its
  /// process is gone and its socket closed): nothing needs probing first. Default: acquire().
  virtual void acquireReleased(SteeringDone done) { acquire(std::move(done)); }
  /// The same, when the peer has never been heard: a station answering for the traffic may
  /// be the peer itself with a broken peer link, so even its answers count as a conflict.
  /// Default: acquire().
  virtual void acquireStrict(SteeringDone done) { acquire(std::move(done)); }
  /// The same, when the peer was heard and went silent: an answer from the peer's own
  /// address (its kernel still holds the VIP: its process may be stalled, not dead) ends the
  /// acquire with peerAnsweredError() and claims nothing; the engine decides when to claim
  /// anyway. A steering that cannot tell the peer's answer apart: acquire().
  virtual void acquireAskPeer(SteeringDone done) { acquire(std::move(done)); }
  /// Stops this node receiving the traffic. Synchronous and best effort: it never fails the
  /// release, it logs.
  virtual void release() = 0;
  /// Re-announces the traffic we own (bond slave changed, conflict won, periodic refresh).
  virtual void reassert() = 0;
  /// Removes traffic a previous run may have left behind (a stale VIP), at start.
  virtual void clearStale() = 0;
  /// A one-line description for status output ("vip 192.0.2.10/24 on eth0").
  virtual std::string describe() const = 0;
  /// Checks, without claiming anything and without any effect another host could see,
  /// that a claim could succeed now (the interface, the privileges, the sockets a claim
  /// uses). Synchronous and quick (a few system calls, no waiting on the network); run at
  /// start and before a node that failed is trusted again. Default: nothing to check.
  virtual SelfTestResult selfTest() { return {}; }
};

/// acquireAskPeer()'s answer when the silent peer answered for the traffic itself.
inline std::error_code peerAnsweredError() {
  class Category final : public std::error_category {
  public:
    const char* name() const noexcept override { return "rmha.steering.peer"; }
    std::string message(int) const override {
      return "the silent peer's own address answered for the VIP";
    }
  };
  static const Category category;
  return {1, category};
}

// ---------------------------------------------------------------------------------------------
// SessionStore: the resource manager's calls, as the HA engine sees them.

class SessionStore {
public:
  virtual ~SessionStore() = default;
  /// Number of sessions (dialogs) currently held.
  virtual std::size_t sessionCount() const = 0;
};

// ---------------------------------------------------------------------------------------------
// ServiceControl: the resource manager the pair protects (start / stop serving SIP).

class ServiceControl {
public:
  virtual ~ServiceControl() = default;
  // None of these waits for the service's own thread: each is done there, in call order.
  /// Starts taking new calls (and answering OPTIONS with 200).
  virtual void startServing() = 0;
  /// Stops taking new calls (OPTIONS answered with 503); calls in progress are kept;
  /// connections are closed (listeners stay).
  virtual void stopServing() = 0;
  /// The role is moving between the nodes (a graceful handover, a takeover under way, the
  /// moments after leaving the active role): not serving, but new requests are absorbed
  /// rather than refused where the sender retransmits, so that they reach the node that
  /// serves next. Calls in progress are kept. With `closeConnections` (a node that served),
  /// connections close as with stopServing.
  virtual void pauseServing(bool closeConnections) = 0;
  /// Runs `done` on the caller's thread once everything asked before is done (connections
  /// closed, sessions applied). The HA thread releases the traffic only after it, so that
  /// peers see their connections close while this node still owns the address.
  virtual void whenDone(std::function<void()> done) = 0;
};

} // namespace rmha::core
