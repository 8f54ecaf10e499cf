#include "netlink/nic_tracker.h"

#include <algorithm>
#include <cctype>

#include "core/log.h"

namespace rmha::netlink {
namespace {

std::string normalizeMac(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
    return c == '-' ? ':' : static_cast<char>(std::tolower(c));
  });
  return text;
}

std::string describe(bool adminUp, bool lowerUp, bool present) {
  if (!present) {
    return "absent";
  }
  return fmt::format("admin {}, lower layer {}", adminUp ? "up" : "down", lowerUp ? "up" : "down");
}

} // namespace

bool isMacSelector(const std::string& text) {
  if (text.size() != 17) {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (i % 3 == 2 ? (c != ':' && c != '-') : !std::isxdigit(c)) {
      return false;
    }
  }
  return true;
}

NicTracker::NicTracker(NicTrackerOptions options, core::TimerFactory& timers)
    : options_(std::move(options)) {
  nics_.resize(options_.selectors.size());
  for (std::size_t i = 0; i < nics_.size(); ++i) {
    auto& nic = nics_[i];
    nic.selector = options_.selectors[i];
    nic.byMac = isMacSelector(nic.selector);
    nic.wantMac = nic.byMac ? normalizeMac(nic.selector) : std::string();
    nic.hold = timers.createTimer([this, i] { holdExpired(i); });
  }
  lastHealthy_ = healthy();
}

NetlinkBatch NicTracker::handleDatagram(const void* data, std::size_t len) {
  auto batch = parseNetlinkDatagram(data, len);
  for (const auto& link : batch.links) {
    apply(link);
  }
  return batch;
}

bool NicTracker::matches(const Nic& nic, const std::string& name, const std::string& mac,
                         int master) const {
  // A bond's slaves carry the bond's MAC: a MAC selector means the link that is not enslaved.
  return nic.byMac ? (master == 0 && mac == nic.wantMac) : name == nic.selector;
}

void NicTracker::apply(const LinkMessage& msg) {
  if (msg.removed) {
    links_.erase(msg.ifindex);
    for (auto& nic : nics_) {
      if (nic.ifindex == msg.ifindex) {
        unbind(nic);
        rebindFromKnown(nic);
        evaluate(nic);
      }
    }
    return;
  }
  if (resyncing_) {
    seen_.insert(msg.ifindex);
  }
  auto& known = links_[msg.ifindex];
  // RTM_NEWLINK for AF_INET6 or partial updates may omit the name or address: keep the last.
  if (!msg.name.empty()) known.name = msg.name;
  if (!msg.mac.empty()) known.mac = msg.mac;
  known.master = msg.master;
  for (auto& nic : nics_) {
    const bool match = matches(nic, known.name, known.mac, known.master);
    if (nic.ifindex == msg.ifindex && !match) {
      RMHA_LOG(Info, "netlink", "nic {}: link {} (index {}) no longer matches", nic.selector,
               known.name, msg.ifindex);
      unbind(nic);
      rebindFromKnown(nic);
    } else if (match && (nic.ifindex == msg.ifindex || nic.ifindex == 0)) {
      bind(nic, msg);
      updateBond(nic, msg);
    }
    evaluate(nic);
  }
  slaveReported(msg);
}

void NicTracker::bind(Nic& nic, const LinkMessage& msg) {
  if (nic.ifindex != msg.ifindex) {
    nic.bondKnown = false;
    nic.activeSlave = 0;
    RMHA_LOG(Info, "netlink", "nic {}: now link {} (index {})", nic.selector,
             links_[msg.ifindex].name, msg.ifindex);
  }
  nic.ifindex = msg.ifindex;
  nic.name = links_[msg.ifindex].name;
  nic.mac = links_[msg.ifindex].mac;
  nic.adminUp = msg.adminUp();
  nic.lowerUp = msg.lowerUp();
}

void NicTracker::unbind(Nic& nic) {
  nic.ifindex = 0;
  nic.name.clear();
  nic.mac.clear();
  nic.adminUp = false;
  nic.lowerUp = false;
  nic.bondKnown = false;
  nic.activeSlave = 0;
}

void NicTracker::rebindFromKnown(Nic& nic) {
  // Without flags we cannot judge health: bind the index now and wait for the link's next
  // message (a re-read or an event) to fill in its state.
  for (const auto& [index, link] : links_) {
    if (matches(nic, link.name, link.mac, link.master)) {
      nic.ifindex = index;
      nic.name = link.name;
      nic.mac = link.mac;
      return;
    }
  }
}

void NicTracker::updateBond(Nic& nic, const LinkMessage& msg) {
  if (msg.kind == "bond" && msg.bondActiveSlave) {
    setActiveSlave(nic, *msg.bondActiveSlave);
  }
}

void NicTracker::slaveReported(const LinkMessage& msg) {
  // A slave announcing itself active (IFLA_BOND_SLAVE_STATE 0) may arrive before the master's
  // own update: either one moves the active slave, the other then finds nothing changed.
  if (msg.slaveKind != "bond" || msg.master == 0 || !msg.bondSlaveState || *msg.bondSlaveState != 0) {
    return;
  }
  for (auto& nic : nics_) {
    if (nic.ifindex == msg.master) {
      setActiveSlave(nic, msg.ifindex);
    }
  }
}

void NicTracker::setActiveSlave(Nic& nic, int slave) {
  if (nic.bondKnown && nic.activeSlave == slave) {
    return;
  }
  const bool announce = nic.bondKnown && slave != 0 && !initializing_;
  nic.bondKnown = true;
  nic.activeSlave = slave;
  const auto it = links_.find(slave);
  const std::string slaveName = it != links_.end() ? it->second.name : std::to_string(slave);
  RMHA_LOG(Info, "netlink", "bond {}: active slave {}", nic.name, slave ? slaveName : "none");
  if (announce && sink_) {
    sink_->onBondActiveSlaveChanged(nic.name, slaveName);
  }
}

void NicTracker::evaluate(Nic& nic) {
  const bool now = raw(nic);
  if (now == nic.reported) {
    nic.hold->disable();
    return;
  }
  const auto hold = now ? options_.upHoldDown : options_.downHoldDown;
  if (initializing_ || hold <= core::Duration::zero()) {
    nic.hold->disable();
    commit(nic, now);
  } else if (!nic.hold->enabled()) {
    nic.hold->enable(hold);
  }
}

void NicTracker::holdExpired(std::size_t index) {
  auto& nic = nics_[index];
  if (raw(nic) != nic.reported) {
    commit(nic, raw(nic));
  }
}

void NicTracker::commit(Nic& nic, bool healthyNow) {
  nic.reported = healthyNow;
  const auto state = describe(nic.adminUp, nic.lowerUp, nic.ifindex != 0);
  RMHA_LOG(Info, "netlink", "nic {} ({}) {}: {}", nic.selector, nic.name,
           healthyNow ? "healthy" : "unhealthy", state);
  const bool fit = healthy();
  if (fit == lastHealthy_) {
    return;
  }
  lastHealthy_ = fit;
  if (sink_ && !initializing_) {
    sink_->onLinkHealth(fit, fmt::format("nic {} {} ({})", nic.selector,
                                         healthyNow ? "up" : "down", state));
  }
}

void NicTracker::beginResync() {
  resyncing_ = true;
  seen_.clear();
}

void NicTracker::endResync() {
  if (!resyncing_) {
    return;
  }
  resyncing_ = false;
  std::vector<int> gone;
  for (const auto& [index, link] : links_) {
    if (!seen_.count(index)) {
      gone.push_back(index);
    }
  }
  for (int index : gone) {
    LinkMessage removed;
    removed.removed = true;
    removed.ifindex = index;
    apply(removed);
  }
}

void NicTracker::finishInitialLoad() {
  initializing_ = false;
  lastHealthy_ = healthy();
}

bool NicTracker::healthy() const {
  if (nics_.empty()) {
    return true;
  }
  const auto up = [](const Nic& n) { return n.reported; };
  return options_.policy == NicPolicy::Any ? std::all_of(nics_.begin(), nics_.end(), up)
                                           : std::any_of(nics_.begin(), nics_.end(), up);
}

std::vector<core::NicState> NicTracker::nics() const {
  std::vector<core::NicState> out;
  for (const auto& nic : nics_) {
    core::NicState s;
    s.selector = nic.selector;
    s.name = nic.name;
    s.mac = nic.mac;
    s.ifindex = nic.ifindex;
    s.adminUp = nic.adminUp;
    s.lowerUp = nic.lowerUp;
    s.healthy = nic.reported;
    if (nic.activeSlave != 0) {
      const auto it = links_.find(nic.activeSlave);
      s.bondActiveSlave = it != links_.end() ? it->second.name : std::to_string(nic.activeSlave);
    }
    out.push_back(std::move(s));
  }
  return out;
}

} // namespace rmha::netlink
