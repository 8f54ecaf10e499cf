#pragma once
// VipSteering: core::TrafficSteering for Linux — the VIP as an IPv4 address with a short
// lifetime that the owner renews, claimed after an RFC 5227 probe and announced with
// gratuitous ARP through libpcap; while owned, ARP about the VIP from another MAC is reported
// as a conflict. Everything runs on the owner's io_context; nothing blocks it.
#include <cstdint>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/ports.h"
#include "core/timer.h"
#include "netlink/garp_frame.h"
#include "netlink/vip_backend.h"

namespace rmha::netlink {

/// Errors of the steering adapters (category "rmha.steering").
enum class SteeringError {
  AddressConflict = 1, ///< the probe found another station answering for the VIP
  BadOptions,          ///< an option is out of range (see VipOptions)
  Busy,                ///< an acquire is already in progress
  Canceled,            ///< release() came before the acquire finished
};
const std::error_category& steeringCategory();
std::error_code make_error_code(SteeringError e);

struct VipOptions {
  std::string address;            ///< IPv4 VIP, dotted quad (no prefix)
  unsigned prefixLength = 32;     ///< 1..32
  std::string interfaceName;      ///< interface the VIP lives on
  /// valid_lft = preferred_lft of the address, rounded up to whole seconds (kernel unit),
  /// at least 1 s; 0 = permanent (no self-expiry: not recommended).
  core::Duration lifetime = core::Millis(3000);
  /// How often the owner renews the lifetime; 0 = lifetime / 3.
  core::Duration renewInterval = core::Millis(0);
  bool probe = true;                             ///< RFC 5227 probe before claiming
  core::Duration probeWait = core::Millis(2);    ///< how long to listen for an answer
  /// Frames (or request+reply pairs) per burst; 0 = no announcements at all.
  unsigned garpCount = 3;
  core::Duration garpInterval = core::Millis(1); ///< spacing inside a burst (0: back to back)
  core::Duration garpRepeatAfter = core::Millis(1000); ///< second burst; 0 = none
  core::Duration garpRefresh = core::Millis(0);  ///< periodic burst while owned; 0 or >= 100 ms
  GarpForm garpForm = GarpForm::Both;
  /// Conflicts from the same MAC are reported at most once per this interval.
  core::Duration conflictHoldOff = core::Millis(1000);
  /// The peer's IPv4 addresses (member and alt-member). A probe answered from one of their
  /// MACs (as the kernel neighbour table knows them) is the peer's leftover VIP — a dead or
  /// frozen daemon whose kernel still holds the address until its lifetime runs out — and
  /// does not stop the claim: heartbeats, the conflict watch and the VIP's self-expiry deal
  /// with the peer. The probe stays what it is for: catching a third station.
  std::vector<std::string> peerAddresses;
};

/// Checks ranges; the message says what is wrong ("" when fine).
std::string validate(const VipOptions& options);

class VipSteering final : public core::TrafficSteering {
public:
  /// The Linux steering: rtnetlink + libpcap on `options.interfaceName`.
  VipSteering(boost::asio::io_context& io, VipOptions options, core::TimerFactory& timers);
  /// The same over another backend (tests).
  VipSteering(boost::asio::io_context& io, VipOptions options, core::TimerFactory& timers,
              VipBackendPtr backend);
  ~VipSteering() override;

  void setEvents(core::SteeringEvents& sink) override { events_ = &sink; }
  /// Probe (if enabled) -> add address -> first gratuitous ARP -> done({}) -> rest of burst.
  /// On a conflict done(SteeringError::AddressConflict) and conflictMac() names the station.
  void acquire(core::SteeringDone done) override;
  /// The same, choosing the probe for this acquire only (for example: skip it when the peer
  /// has just said it released the VIP, to save the probe wait).
  void acquire(core::SteeringDone done, bool probe);
  /// The peer let go of the VIP (or its process is gone): claim without probing.
  void acquireReleased(core::SteeringDone done) override { acquire(std::move(done), false); }
  /// The peer was never heard: probe, and count even the peer's answers as a conflict.
  void acquireStrict(core::SteeringDone done) override;
  /// The peer was heard and went silent: probe; an answer from the peer's own MAC ends the
  /// acquire with core::peerAnsweredError() (nothing claimed).
  void acquireAskPeer(core::SteeringDone done) override;
  /// Stops announcements, renewal and conflict reports, removes the address (best effort).
  void release() override;
  /// Sends a gratuitous ARP burst again if we own the VIP, and a second one after
  /// `garpRepeatAfter`; during a burst, extends it to `garpCount` more frames instead (many
  /// reasserts in a row cost one burst).
  void reassert() override;
  /// Removes the VIP from the interface if a previous run left it there.
  void clearStale() override;
  std::string describe() const override;
  /// Privileges (CAP_NET_ADMIN, CAP_NET_RAW), the interface (exists, has an Ethernet
  /// address), the packet socket (opens on it) and address changes (the kernel takes them
  /// from us: probeAddressChange, which adds nothing any host could see).
  core::SelfTestResult selfTest() override;

  bool owned() const { return state_ == State::Owned; }
  /// The MAC that answered the last failed probe ("" if none).
  const std::string& conflictMac() const { return conflictMac_; }

private:
  enum class State { Idle, Probing, Owned };
  std::error_code prepare();
  void finishProbe();
  void claim();
  void complete(std::error_code ec);
  void startBurst();
  void burstStep();
  void sendGarp();
  void renew();
  void onFrame(const std::uint8_t* data, std::size_t len);
  void reportConflict(const MacAddress& mac);
  bool isPeerLeftover(const MacAddress& mac);
  const Ipv4Address* peerOf(const MacAddress& mac) const;

  boost::asio::io_context& io_;
  VipOptions options_;
  std::string invalid_;
  Ipv4Address vip_{};
  MacAddress mac_{};
  int ifindex_ = 0;
  unsigned lifetimeSeconds_ = 0;
  VipBackendPtr backend_;
  bool prepared_ = false;
  core::TimerPtr probeTimer_;
  core::TimerPtr burstTimer_;
  core::TimerPtr repeatTimer_;
  core::TimerPtr refreshTimer_;
  core::TimerPtr renewTimer_;
  core::TimerPtr conflictTimer_;
  core::SteeringEvents* events_ = nullptr;
  core::SteeringDone pending_;
  State state_ = State::Idle;
  unsigned burstLeft_ = 0;
  MacAddress lastConflict_{};
  std::string conflictMac_;
  std::vector<Ipv4Address> peers_;
  /// The peer addresses' MACs, as last read from the neighbour table (kept across acquires:
  /// an entry that has since gone FAILED still names the peer).
  std::map<Ipv4Address, MacAddress> peerMacs_;
  bool strict_ = false; ///< this acquire counts the peer's answers as conflicts
  bool askPeer_ = false; ///< this acquire stops on the peer's answer (acquireAskPeer)
  bool peersResolved_ = false;  ///< neighbour table read during this acquire
  bool peerLogged_ = false;     ///< "peer's leftover" logged during this acquire
};

} // namespace rmha::netlink

template <>
struct std::is_error_code_enum<rmha::netlink::SteeringError> : std::true_type {};
