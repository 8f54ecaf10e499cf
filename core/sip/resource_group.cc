#include "core/sip/resource_group.h"

#include <algorithm>

#include "core/sip/syntax.h"

namespace rmha::core::sip {

ResourceGroup::ResourceGroup(const ResourceGroupConfig& cfg)
    : name_(cfg.name), policy_(cfg.policy) {
  for (const auto& a : cfg.servers) {
    auto s = std::make_unique<MediaServer>();
    s->address = a;
    s->hostPort = a.hostPort();
    s->id = std::string(toString(a.transport)) + ":" + s->hostPort;
    s->capacity = cfg.capacity;
    s->group = cfg.name;
    servers_.push_back(std::move(s));
  }
}

void ResourceGroup::candidates(std::vector<MediaServer*>& out) {
  out.clear();
  const auto n = servers_.size();
  if (n == 0) {
    return;
  }
  const auto start = cursor_++ % n;
  for (std::size_t i = 0; i < n; ++i) {
    auto* s = servers_[(start + i) % n].get();
    if (s->up.load(std::memory_order_relaxed) && s->hasCapacity()) {
      out.push_back(s);
    }
  }
  if (policy_ == BalancePolicy::LeastUsed) {
    // Stable: among equals, the round-robin order breaks the tie.
    std::stable_sort(out.begin(), out.end(), [](const MediaServer* a, const MediaServer* b) {
      return a->active.load(std::memory_order_relaxed) < b->active.load(std::memory_order_relaxed);
    });
  }
}

ResourceDirectory::ResourceDirectory(const SipConfig& cfg) : rules_(cfg.rules) {
  for (const auto& g : cfg.groups) {
    groups_.push_back(std::make_unique<ResourceGroup>(g));
    if (g.name == cfg.defaultGroup) {
      defaultGroup_ = groups_.back().get();
    }
  }
}

ResourceGroup* ResourceDirectory::route(const Uri& ruri) {
  const auto tenant = ruri.param("gvp-tenant-id");
  const auto service = ruri.param("media-service");
  for (const auto& r : rules_) {
    if (!r.user.empty() && !iequals(r.user, ruri.user)) {
      continue;
    }
    if (!r.dnisPrefix.empty() && !ruri.user.starts_with(r.dnisPrefix)) {
      continue;
    }
    if (!r.tenant.empty() && !iequals(r.tenant, tenant)) {
      continue;
    }
    if (!r.service.empty() && !iequals(r.service, service)) {
      continue;
    }
    for (auto& g : groups_) {
      if (g->name() == r.group) {
        return g.get();
      }
    }
  }
  return defaultGroup_;
}

MediaServer* ResourceDirectory::findByAddress(const Peer& peer) {
  for (auto& g : groups_) {
    for (auto& s : g->servers()) {
      if (s->address.address == peer.address && s->address.port == peer.port &&
          s->address.transport == peer.transport) {
        return s.get();
      }
    }
  }
  return nullptr;
}

MediaServer* ResourceDirectory::findById(std::string_view id) {
  for (auto& g : groups_) {
    for (auto& s : g->servers()) {
      if (s->id == id) {
        return s.get();
      }
    }
  }
  return nullptr;
}

bool ResourceDirectory::isMediaServerAddress(const boost::asio::ip::address& addr) const {
  for (const auto& g : groups_) {
    for (const auto& s : g->servers()) {
      if (s->address.address == addr) {
        return true;
      }
    }
  }
  return false;
}

} // namespace rmha::core::sip
