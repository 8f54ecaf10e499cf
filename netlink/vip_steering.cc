#include "netlink/vip_steering.h"

// Actors (all on the owner's io_context):
//
//   acquire() --probe--> wire ..probeWait.. finishProbe() --> claim(): add address (lifetime)
//       ^                  |                                    | first GARP, done({})
//       |   PcapChannel --onFrame()--> conflict? -> done(AddressConflict)
//       |                  |                                    v
//   engine <--onTrafficConflict-- (owned: ARP for the VIP from another MAC)
//                                 burst / repeat / refresh timers --> sendGarp()
//                                 renew timer --> addOrRenew() (lifetime reset)
#include <boost/asio/post.hpp>
#include <net/if.h>

#include <algorithm>

#include "core/log.h"

namespace rmha::netlink {
namespace {

class SteeringCategory final : public std::error_category {
public:
  const char* name() const noexcept override { return "rmha.steering"; }
  std::string message(int code) const override {
    switch (static_cast<SteeringError>(code)) {
    case SteeringError::AddressConflict: return "another station answers for the VIP";
    case SteeringError::BadOptions: return "invalid VIP options";
    case SteeringError::Busy: return "an acquire is already in progress";
    case SteeringError::Canceled: return "acquire canceled by release";
    }
    return "unknown steering error";
  }
};

unsigned toLifetimeSeconds(core::Duration d) {
  if (d <= core::Duration::zero()) {
    return 0;
  }
  const auto s = std::chrono::ceil<std::chrono::seconds>(d).count();
  return static_cast<unsigned>(std::max<long long>(1, s));
}

} // namespace

const std::error_category& steeringCategory() {
  static const SteeringCategory category;
  return category;
}

std::error_code make_error_code(SteeringError e) {
  return {static_cast<int>(e), steeringCategory()};
}

std::string validate(const VipOptions& o) {
  using namespace std::chrono_literals;
  if (!parseIpv4(o.address)) return fmt::format("'{}' is not an IPv4 address", o.address);
  if (o.prefixLength < 1 || o.prefixLength > 32) return "prefix length must be 1..32";
  if (o.interfaceName.empty() || o.interfaceName.size() >= IFNAMSIZ) {
    return "interface name must be 1..15 characters";
  }
  if (o.lifetime < 0ms || o.lifetime > 24h) return "lifetime must be 0..86400000 ms";
  if (o.lifetime > 0ms && o.renewInterval >= o.lifetime) return "renew interval must be below the lifetime";
  if (o.renewInterval < 0ms) return "renew interval must not be negative";
  if (o.probeWait < 0ms || o.probeWait > 10s) return "probe wait must be 0..10000 ms";
  if (o.garpCount > 100) return "gratuitous ARP count must be 0..100";
  if (o.garpInterval < 0ms || o.garpInterval > 10s) return "gratuitous ARP interval must be 0..10000 ms";
  if (o.garpRepeatAfter < 0ms || o.garpRefresh < 0ms || o.conflictHoldOff < 0ms) {
    return "durations must not be negative";
  }
  if (o.garpRefresh > 0ms && o.garpRefresh < 100ms) return "gratuitous ARP refresh must be 0 or >= 100 ms";
  for (const auto& peer : o.peerAddresses) {
    if (!parseIpv4(peer)) return fmt::format("peer address '{}' is not an IPv4 address", peer);
  }
  return {};
}

VipSteering::VipSteering(boost::asio::io_context& io, VipOptions options, core::TimerFactory& timers)
    : VipSteering(io, std::move(options), timers, makeLinuxVipBackend(io)) {}

VipSteering::VipSteering(boost::asio::io_context& io, VipOptions options, core::TimerFactory& timers,
                         VipBackendPtr backend)
    : io_(io), options_(std::move(options)), invalid_(validate(options_)),
      backend_(std::move(backend)), probeTimer_(timers.createTimer([this] { finishProbe(); })),
      burstTimer_(timers.createTimer([this] { burstStep(); })),
      repeatTimer_(timers.createTimer([this] { startBurst(); })),
      refreshTimer_(timers.createTimer([this] {
        startBurst();
        refreshTimer_->enable(options_.garpRefresh);
      })),
      renewTimer_(timers.createTimer([this] { renew(); })),
      conflictTimer_(timers.createTimer([] {})) {
  if (invalid_.empty()) {
    vip_ = *parseIpv4(options_.address);
    lifetimeSeconds_ = toLifetimeSeconds(options_.lifetime);
    for (const auto& peer : options_.peerAddresses) {
      peers_.push_back(*parseIpv4(peer));
    }
    if (options_.renewInterval <= core::Duration::zero()) {
      options_.renewInterval = options_.lifetime / 3;
    }
  } else {
    RMHA_LOG(Error, "garp", "vip options: {}", invalid_);
  }
}

VipSteering::~VipSteering() = default;

std::string VipSteering::describe() const {
  return fmt::format("vip {}/{} on {}{}", options_.address, options_.prefixLength,
                     options_.interfaceName, owned() ? " (owned)" : "");
}

std::error_code VipSteering::prepare() {
  if (!invalid_.empty()) {
    return SteeringError::BadOptions;
  }
  // ARP whose sender is the VIP (answers, announcements) or probes for the VIP.
  const auto hex = fmt::format("0x{:02x}{:02x}{:02x}{:02x}", vip_[0], vip_[1], vip_[2], vip_[3]);
  const auto filter =
      fmt::format("arp and (arp[14:4] = {0} or (arp[14:4] = 0 and arp[24:4] = {0}))", hex);
  auto ec = backend_->open(options_.interfaceName, filter,
                           [this](const std::uint8_t* d, std::size_t n) { onFrame(d, n); }, mac_,
                           ifindex_);
  prepared_ = !ec;
  return ec;
}

void VipSteering::acquire(core::SteeringDone done) {
  strict_ = false;
  askPeer_ = false;
  acquire(std::move(done), options_.probe);
}

void VipSteering::acquireStrict(core::SteeringDone done) {
  strict_ = true;
  askPeer_ = false;
  acquire(std::move(done), options_.probe);
}

void VipSteering::acquireAskPeer(core::SteeringDone done) {
  strict_ = false;
  askPeer_ = true;
  acquire(std::move(done), options_.probe);
}

void VipSteering::acquire(core::SteeringDone done, bool probe) {
  if (state_ != State::Idle) {
    const auto ec = state_ == State::Owned ? std::error_code() : make_error_code(SteeringError::Busy);
    boost::asio::post(io_, [done = std::move(done), ec] { done(ec); });
    return;
  }
  if (auto ec = prepare()) {
    RMHA_LOG(Error, "garp", "{}: cannot acquire: {}", describe(), ec.message());
    boost::asio::post(io_, [done = std::move(done), ec] { done(ec); });
    return;
  }
  pending_ = std::move(done);
  conflictMac_.clear();
  peersResolved_ = false;
  peerLogged_ = false;
  if (probe && options_.probeWait > core::Duration::zero()) {
    state_ = State::Probing;
    const auto frame = arpProbe(mac_, vip_);
    if (auto ec = backend_->sendFrame(frame.data(), frame.size())) {
      RMHA_LOG(Warn, "garp", "{}: probe not sent: {}", describe(), ec.message());
    }
    probeTimer_->enable(options_.probeWait);
    return;
  }
  claim();
}

void VipSteering::finishProbe() {
  if (state_ == State::Probing) {
    claim();
  }
}

void VipSteering::claim() {
  if (auto ec = backend_->addOrRenew(ifindex_, vip_, options_.prefixLength, lifetimeSeconds_)) {
    RMHA_LOG(Error, "garp", "{}: address add failed: {}", describe(), ec.message());
    state_ = State::Idle;
    complete(ec);
    return;
  }
  state_ = State::Owned;
  startBurst();  // the first gratuitous ARP goes out now, before the engine hears of success
  if (lifetimeSeconds_ > 0) {
    renewTimer_->enable(options_.renewInterval);
  }
  if (options_.garpRepeatAfter > core::Duration::zero()) {
    repeatTimer_->enable(options_.garpRepeatAfter);
  }
  if (options_.garpRefresh > core::Duration::zero()) {
    refreshTimer_->enable(options_.garpRefresh);
  }
  RMHA_LOG(Info, "garp", "{} acquired ({})", describe(), toString(mac_));
  complete({});
}

void VipSteering::complete(std::error_code ec) {
  auto done = std::move(pending_);
  pending_ = nullptr;
  if (done) {
    boost::asio::post(io_, [done = std::move(done), ec] { done(ec); });
  }
}

void VipSteering::startBurst() {
  if (state_ != State::Owned) {
    return;
  }
  burstLeft_ = options_.garpCount;
  burstStep();
}

void VipSteering::burstStep() {
  while (state_ == State::Owned && burstLeft_ > 0) {
    sendGarp();
    if (--burstLeft_ > 0 && options_.garpInterval > core::Duration::zero()) {
      burstTimer_->enable(options_.garpInterval);
      return;
    }
  }
}

void VipSteering::sendGarp() {
  std::error_code ec;
  if (options_.garpForm != GarpForm::Reply) {
    const auto f = garpRequest(mac_, vip_);
    ec = backend_->sendFrame(f.data(), f.size());
  }
  if (options_.garpForm != GarpForm::Request) {
    const auto f = garpReply(mac_, vip_);
    if (auto e = backend_->sendFrame(f.data(), f.size())) {
      ec = e;
    }
  }
  if (ec) {
    RMHA_LOG(Warn, "garp", "{}: gratuitous ARP not sent: {}", describe(), ec.message());
  }
}

void VipSteering::renew() {
  if (state_ != State::Owned) {
    return;
  }
  // prepare() first: cheap when nothing changed, and it follows a re-created interface.
  auto ec = prepare();
  if (!ec) {
    ec = backend_->addOrRenew(ifindex_, vip_, options_.prefixLength, lifetimeSeconds_);
  }
  if (ec) {
    RMHA_LOG(Warn, "garp", "{}: lifetime renewal failed: {}", describe(), ec.message());
  }
  renewTimer_->enable(options_.renewInterval);
}

void VipSteering::reassert() {
  if (state_ != State::Owned) {
    RMHA_LOG(Debug, "garp", "{}: reassert ignored, not owned", describe());
    return;
  }
  if (burstTimer_->enabled()) {
    // A burst is on its way: extend it instead of sending more at once. An engine that
    // re-asserts on every heartbeat of a healing split brain would otherwise flood the LAN
    // (and re-open a closed capture each time).
    burstLeft_ = std::max(burstLeft_, options_.garpCount);
    RMHA_LOG(Debug, "garp", "{}: re-announce folded into the burst in progress", describe());
    return;
  }
  RMHA_LOG(Info, "garp", "{}: re-announcing", describe());
  if (auto ec = prepare()) {  // re-opens a capture closed by a vanished interface
    RMHA_LOG(Warn, "garp", "{}: interface not ready: {}", describe(), ec.message());
  }
  startBurst();
  // And a second burst later, as after a claim: a reassert often follows a link coming back
  // (a healed partition), and frames sent before the carrier is up again are lost.
  if (options_.garpRepeatAfter > core::Duration::zero()) {
    repeatTimer_->enable(options_.garpRepeatAfter);
  }
}

void VipSteering::release() {
  if (state_ == State::Probing) {
    complete(SteeringError::Canceled);
  }
  const bool wasOwned = state_ == State::Owned;
  state_ = State::Idle;
  for (auto* t : {&probeTimer_, &burstTimer_, &repeatTimer_, &refreshTimer_, &renewTimer_}) {
    (*t)->disable();
  }
  if (!prepared_) {
    return;
  }
  if (auto ec = backend_->remove(ifindex_, vip_, options_.prefixLength)) {
    RMHA_LOG(Warn, "garp", "{}: address removal failed: {}", describe(), ec.message());
  } else if (wasOwned) {
    RMHA_LOG(Info, "garp", "{} released", describe());
  }
}

void VipSteering::clearStale() {
  if (auto ec = prepare()) {
    RMHA_LOG(Warn, "garp", "{}: stale check skipped: {}", describe(), ec.message());
    return;
  }
  if (state_ == State::Idle && backend_->present(ifindex_, vip_)) {
    RMHA_LOG(Warn, "garp", "{}: removing a VIP left by a previous run", describe());
    release();
  }
}

core::SelfTestResult VipSteering::selfTest() {
  using core::UnfitCode;
  const auto& ifname = options_.interfaceName;
  if (!invalid_.empty()) {
    return {UnfitCode::SelfTestFailed, "cannot claim: the VIP options are invalid: " + invalid_};
  }
  const auto priv = backend_->privileges();
  if (!priv.netAdmin || !priv.netRaw) {
    const bool admin = !priv.netAdmin;
    return {admin ? UnfitCode::NoCapNetAdmin : UnfitCode::NoCapNetRaw,
            fmt::format("cannot claim: the process lacks {} ({}); give rmhad CAP_NET_ADMIN and "
                        "CAP_NET_RAW (run it as root, or AmbientCapabilities= in its unit)",
                        admin ? "CAP_NET_ADMIN" : "CAP_NET_RAW",
                        admin ? "needed to add the VIP" : "needed to send ARP")};
  }
  if (auto ec = prepare()) {
    if (ec == std::errc::no_such_device) {
      return {UnfitCode::NoInterface,
              fmt::format("cannot claim: the VIP interface '{}' does not exist on this host "
                          "(check vip-interface)", ifname)};
    }
    return {ec == std::errc::operation_not_permitted ? UnfitCode::NoCapNetRaw
                                                     : UnfitCode::PacketSocket,
            fmt::format("cannot claim: the packet socket does not open on '{}': {}", ifname,
                        ec.message())};
  }
  if (mac_ == MacAddress{}) {
    return {UnfitCode::NoInterface,
            fmt::format("cannot claim: '{}' has no Ethernet address, so ARP cannot announce the "
                        "VIP on it (check vip-interface)", ifname)};
  }
  if (auto ec = backend_->probeAddressChange(ifindex_)) {
    const bool perm = ec == std::errc::operation_not_permitted;
    return {perm ? UnfitCode::NoCapNetAdmin
                 : ec == std::errc::no_such_device ? UnfitCode::NoInterface
                                                   : UnfitCode::AddressDenied,
            fmt::format("cannot claim: the kernel refuses address changes on '{}': {}", ifname,
                        ec.message())};
  }
  return {};
}

void VipSteering::onFrame(const std::uint8_t* data, std::size_t len) {
  const auto arp = parseArpFrame(data, len);
  if (!arp || arp->senderMac == mac_ || arp->ethSource == mac_) {
    return;  // not ARP, or our own frame
  }
  const bool claimsVip = arp->senderIp == vip_;
  if (state_ == State::Probing) {
    // An answer, an announcement, or another station probing for the same address at once.
    const bool probing = arp->senderIp == Ipv4Address{} && arp->targetIp == vip_ &&
                         arp->op == kArpRequest;
    if (claimsVip && isPeerLeftover(arp->senderMac)) {
      if (askPeer_) {
        // The silent peer's kernel still answers: the engine gives its process one more
        // heartbeat window before claiming over it.
        probeTimer_->disable();
        state_ = State::Idle;
        complete(core::peerAnsweredError());
      }
      return;  // keep listening: a third station may answer too
    }
    if (claimsVip || probing) {
      probeTimer_->disable();
      state_ = State::Idle;
      conflictMac_ = toString(arp->senderMac);
      RMHA_LOG(Warn, "garp", "{}: probe answered by {}: not claiming", describe(), conflictMac_);
      complete(SteeringError::AddressConflict);
    }
  } else if (state_ == State::Owned && claimsVip) {
    reportConflict(arp->senderMac);
  }
}

bool VipSteering::isPeerLeftover(const MacAddress& mac) {
  if (peers_.empty() || strict_) {
    return false;
  }
  // Read the neighbour table once per acquire, and only when someone answers: a probe nobody
  // answers costs nothing more. The heartbeats to the peer keep its entries resolved.
  if (!peersResolved_ && !peerOf(mac)) {
    peersResolved_ = true;
    for (const auto& entry : backend_->neighbours(peers_)) {
      peerMacs_[entry.ip] = entry.mac;
    }
  }
  const auto* peer = peerOf(mac);
  if (peer && !peerLogged_) {
    peerLogged_ = true;
    if (askPeer_) {
      RMHA_LOG(Info, "garp", "{}: probe answered by the peer {} ({}): its kernel is up; not "
               "claiming yet", describe(), toString(*peer), toString(mac));
    } else {
      RMHA_LOG(Info, "garp", "{}: probe answered by the peer {} ({}): its leftover VIP, "
               "claiming anyway", describe(), toString(*peer), toString(mac));
    }
  }
  return peer != nullptr;
}

const Ipv4Address* VipSteering::peerOf(const MacAddress& mac) const {
  for (const auto& [ip, known] : peerMacs_) {
    if (known == mac) {
      return &ip;
    }
  }
  return nullptr;
}

void VipSteering::reportConflict(const MacAddress& mac) {
  if (conflictTimer_->enabled() && mac == lastConflict_) {
    return;  // the same station's burst: one report per hold-off
  }
  lastConflict_ = mac;
  conflictTimer_->enable(options_.conflictHoldOff);
  RMHA_LOG(Warn, "garp", "{}: {} claims the VIP", describe(), toString(mac));
  if (events_) {
    events_->onTrafficConflict(toString(mac));
  }
}

} // namespace rmha::netlink
