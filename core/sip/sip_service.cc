#include "core/sip/sip_service.h"

#include <boost/asio/post.hpp>

#include "core/log.h"
#include "core/sip/transport_tcp.h"
#include "core/sip/transport_udp.h"

namespace rmha::core::sip {

namespace asio = boost::asio;

SipService::SipService(asio::io_context& io, const SipConfig& cfg, core::TimeSource& time,
                       core::TimerFactory& timers)
    : io_(io), cfg_(cfg), time_(time), timers_(timers), resources_(cfg_),
      sessions_(time, [this](const std::string& server, int delta) {
        if (auto* s = resources_.findById(server)) {
          s->active.fetch_add(delta, std::memory_order_relaxed);
        }
      }) {}

SipService::~SipService() { stop(); }

core::Result<> SipService::bindAll() {
  TcpLimits limits;
  limits.maxMessageSize = cfg_.maxMessageSize;
  limits.idleTimeout = cfg_.tcpIdleTimeout;
  limits.maxConnectionsPerPeer = cfg_.tcpMaxConnectionsPerPeer;
  tcp_ = std::make_unique<TcpTransport>(io_, static_cast<TransportSink&>(*this), timers_, limits);
  std::size_t tcpIndex = 0;
  for (auto& l : cfg_.listen) {
    std::error_code ec;
    if (l.transport == TransportKind::Udp) {
      auto u = std::make_unique<UdpTransport>(io_, static_cast<TransportSink&>(*this));
      ec = u->start(asio::ip::udp::endpoint(l.address, l.port));
      if (!ec) {
        l.port = u->localEndpoint().port();
        udp_.push_back(std::move(u));
      }
    } else {
      ec = tcp_->listen(asio::ip::tcp::endpoint(l.address, l.port));
      if (!ec) {
        l.port = tcp_->localEndpoint(tcpIndex++).port();
      }
    }
    if (ec) {
      return core::fail(ec, fmt::format("cannot listen on {}: {}", l.peer().str(), ec.message()));
    }
    RMHA_LOG(Info, "sip", "listening on {}", l.peer().str());
  }
  return {};
}

core::Result<> SipService::start() {
  if (started_.exchange(true)) {
    return {};
  }
  if (auto r = bindAll(); !r) {
    for (auto& u : udp_) {
      u->stop();
    }
    udp_.clear();
    tcp_.reset();
    started_ = false;
    return r;
  }
  proxy_ = std::make_unique<Proxy>(cfg_, static_cast<MessageSender&>(*this), timers_, time_, resources_, sessions_, counters_);
  proxy_->setServing(serving_.load());
  proxy_->start();
  return {};
}

void SipService::stopHere() {
  std::lock_guard lock(stopMutex_);
  if (!started_.exchange(false)) {
    return;
  }
  for (auto& u : udp_) {
    u->stop();
  }
  if (tcp_) {
    tcp_->stop();
  }
  if (proxy_) {
    proxy_->stop();
  }
}

void SipService::onSipThread(std::function<void()> f) {
  if (io_.get_executor().running_in_this_thread() || io_.stopped()) {
    f(); // on the SIP thread, or nothing runs there any more: nothing else touches its state
    return;
  }
  asio::post(io_, [f = std::move(f), alive = std::weak_ptr<int>(alive_)] {
    if (!alive.expired()) {
      f();
    }
  });
}

void SipService::stop() {
  if (!started_.load()) {
    return;
  }
  onSipThread([this] { stopHere(); });
}

void SipService::startServing() {
  serving_.store(true);
  onSipThread([this] {
    if (proxy_) {
      proxy_->setServing(true);
      proxy_->setAbsorbing(false);
    }
  });
  RMHA_LOG(Info, "sip", "serving: taking new calls");
}

void SipService::pauseServing(bool closeConnections) {
  serving_.store(false);
  onSipThread([this, closeConnections] {
    if (proxy_) {
      proxy_->setAbsorbing(true);
      proxy_->setServing(false);
    }
    if (closeConnections) {
      closeTcpConnections();
    }
  });
  RMHA_LOG(Info, "sip", "paused: the role is moving; new requests over UDP absorbed for the "
           "next owner, over TCP refused with 503");
}

void SipService::stopServing() {
  serving_.store(false);
  onSipThread([this] {
    if (proxy_) {
      proxy_->setServing(false);
      proxy_->setAbsorbing(false);
    }
    closeTcpConnections();
  });
  RMHA_LOG(Info, "sip", "not serving: new calls refused with 503");
}

void SipService::whenDone(std::function<void()> done) {
  auto home = caller_;
  if (io_.stopped() || io_.get_executor().running_in_this_thread()) {
    if (home) {
      asio::post(home, std::move(done));
    } else {
      done();
    }
    return;
  }
  // Behind everything posted before: once it runs, all of that ran.
  asio::post(io_, [home, done = std::move(done)]() mutable {
    if (home) {
      asio::post(home, std::move(done));
    } else {
      done();
    }
  });
}

void SipService::closeTcpConnections() {
  if (started_.load() && tcp_) {
    tcp_->closeConnections();
  }
}

bool SipService::serving() const { return serving_.load(); }

std::size_t SipService::sessionCount() const { return sessions_.size(); }

void SipService::setSessionObserver(SessionObserver* observer) { sessions_.setObserver(observer); }

void SipService::applyReplicas(std::vector<ReplicaOp> ops) {
  onSipThread([this, ops = std::move(ops)]() mutable {
    for (auto& op : ops) {
      if (op.removed) {
        sessions_.remove(op.session.callId);
      } else {
        sessions_.upsert(std::move(op.session));
      }
    }
  });
}

void SipService::send(const Peer& to, std::string_view data) {
  if (to.transport == TransportKind::Tcp) {
    if (tcp_) {
      tcp_->send(to, data);
    }
    return;
  }
  const bool v6 = to.address.is_v6();
  for (auto& u : udp_) {
    if (u->isV6() == v6) {
      u->send(asio::ip::udp::endpoint(to.address, to.port), data);
      return;
    }
  }
  dropped_.fetch_add(1, std::memory_order_relaxed);
}

void SipService::onMessage(std::span<char> data, const Peer& from) {
  if (proxy_) {
    proxy_->onMessage(data, from);
  }
}

void SipService::onTransportError(const Peer& to) {
  if (proxy_) {
    proxy_->onTransportError(to);
  }
}

nlohmann::json SipService::statusJson() const {
  const auto& c = counters_;
  auto load = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  nlohmann::json j;
  j["serving"] = serving_.load();
  j["sessions"] = sessions_.size();
  j["counters"] = {
      {"requests", load(c.requests)},           {"responses", load(c.responses)},
      {"bad_requests", load(c.badRequests)},    {"bad_responses", load(c.badResponses)},
      {"stray_responses", load(c.strayResponses)},
      {"retransmissions_absorbed", load(c.retransmissionsAbsorbed)},
      {"untrusted_dropped", load(c.untrusted)}, {"no_capacity", load(c.noCapacity)},
      {"refused_not_serving", load(c.notServing)},
       {"absorbed_in_transition", load(c.absorbedInTransition)}, {"no_route", load(c.noRoute)},
      {"failovers", load(c.failovers)},         {"calls_routed", load(c.callsRouted)},
      {"loops", load(c.loops)},                 {"too_many_hops", load(c.tooManyHops)},
      {"options_answered", load(c.optionsAnswered)},
      {"transport_errors", load(c.transportErrors)},
      {"sessions_expired", load(c.sessionsExpired)}, {"send_dropped", load(dropped_)}};
  auto groups = nlohmann::json::array();
  for (const auto& g : resources_.groups()) {
    auto servers = nlohmann::json::array();
    for (const auto& s : g->servers()) {
      servers.push_back({{"server", s->id},
                         {"up", s->up.load()},
                         {"active", s->active.load()},
                         {"capacity", s->capacity},
                         {"invites", s->invites.load()},
                         {"failures", s->failures.load()}});
    }
    groups.push_back({{"name", g->name()},
                      {"policy", g->policy() == BalancePolicy::RoundRobin ? "round-robin"
                                                                           : "least-used"},
                      {"servers", std::move(servers)}});
  }
  j["resource_groups"] = std::move(groups);
  return j;
}

nlohmann::json SipService::sessionsJson() const {
  return {{"count", sessions_.size()}, {"sessions", sessions_.toJson(10000)}};
}

} // namespace rmha::core::sip
