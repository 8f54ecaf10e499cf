// Proxy core: transaction records and their RFC 3261 timers, OPTIONS health probes and the
// session-age sweep.
//
//   server INVITE:  Proceeding --2xx--> Accepted (64*T1 linger) ; --3xx+--> Completed
//                   (G: retransmit, H: give up) --ACK--> Confirmed (I) --> gone
//   server other:   Trying/Proceeding --final--> Completed (J) --> gone
//   client INVITE:  Calling (A, B, failover) --1xx--> Proceeding (B) --2xx--> Accepted
//                   --3xx+--> Completed (D);  failover/B/transport error: next server
//   client other:   Trying (E, F) --1xx--> Proceeding (E at T2) --final--> Completed (K)
#include "core/sip/proxy.h"

#include <algorithm>

#include "core/log.h"

namespace rmha::core::sip {

Duration Proxy::reliable(const Peer& p, Duration d) const {
  return p.transport == TransportKind::Tcp ? Duration::zero() : d;
}

ServerTxn* Proxy::findServer(const std::string& key) {
  auto it = servers_.find(key);
  return it == servers_.end() ? nullptr : it->second.get();
}

ClientTxn* Proxy::findClient(const std::string& key) {
  auto it = clients_.find(key);
  return it == clients_.end() ? nullptr : it->second.get();
}

ServerTxn& Proxy::newServer(std::string key, const Peer& peer, std::string_view request) {
  auto p = std::make_unique<ServerTxn>();
  auto* st = p.get();
  st->key = std::move(key);
  st->method = msg_.method;
  st->peer = peer;
  st->request.assign(request);
  st->toTag = fmt::format("{}{:x}", salt_, ++counter_);
  st->retransmit = timers_.createTimer([this, st] {  // timer G
    deadServers_.clear();
    if (st->state == ServerTxn::State::Completed && !st->lastResponse.empty()) {
      sender_.send(st->peer, st->lastResponse);
      st->interval = std::min(2 * st->interval, t_.t2);
      st->retransmit->enable(st->interval);
    }
  });
  st->timeout = timers_.createTimer([this, st] {  // H, I, J, Accepted linger
    deadServers_.clear();
    endServer(st->key);
  });
  servers_.emplace(st->key, std::move(p));
  return *st;
}

ClientTxn& Proxy::newClient(std::string key, Method method, const Peer& peer, std::string request) {
  auto p = std::make_unique<ClientTxn>();
  auto* ct = p.get();
  ct->key = std::move(key);
  ct->method = method;
  ct->peer = peer;
  ct->request = std::move(request);
  ct->retransmit = timers_.createTimer([this, ct] {
    deadClients_.clear();
    clientTimerA(*ct);
  });
  ct->timeout = timers_.createTimer([this, ct] {
    deadClients_.clear();
    deadServers_.clear();
    clientTimeout(*ct);
  });
  ct->failover = timers_.createTimer([this, ct] {
    deadClients_.clear();
    deadServers_.clear();
    clientFailover(*ct);
  });
  clients_.emplace(ct->key, std::move(p));
  return *ct;
}

void Proxy::endServer(const std::string& key) {
  auto it = servers_.find(key);
  if (it == servers_.end()) {
    return;
  }
  it->second->retransmit->disable();
  it->second->timeout->disable();
  deadServers_.push_back(std::move(it->second));
  servers_.erase(it);
}

void Proxy::endClient(const std::string& key) {
  auto it = clients_.find(key);
  if (it == clients_.end()) {
    return;
  }
  it->second->retransmit->disable();
  it->second->timeout->disable();
  it->second->failover->disable();
  deadClients_.push_back(std::move(it->second));
  clients_.erase(it);
}

void Proxy::serverFinal(ServerTxn& st, int code) {
  // After the final response the request is never needed again: a lingering transaction
  // keeps only what absorbs retransmissions (its key, and the response it must repeat).
  std::string().swap(st.request);
  if (st.method == Method::Invite) {
    if (code < 300) {
      // The UAS repeats its 2xx itself; a retransmitted INVITE is only absorbed.
      std::string().swap(st.lastResponse);
      st.state = ServerTxn::State::Accepted;
      st.timeout->enable(64 * t_.t1);
      return;
    }
    st.state = ServerTxn::State::Completed;
    if (st.peer.transport == TransportKind::Udp) {
      st.interval = t_.t1;
      st.retransmit->enable(st.interval);  // timer G
    }
    st.timeout->enable(64 * t_.t1);        // timer H
    return;
  }
  st.state = ServerTxn::State::Completed;
  st.timeout->enable(reliable(st.peer, 64 * t_.t1));  // timer J
}

void Proxy::clientTimerA(ClientTxn& ct) {
  const bool invite = ct.method == Method::Invite;
  if (invite ? ct.state != ClientTxn::State::Calling
             : (ct.state != ClientTxn::State::Calling && ct.state != ClientTxn::State::Proceeding)) {
    return;
  }
  sender_.send(ct.peer, ct.request);
  if (invite) {
    ct.interval *= 2;
  } else {
    ct.interval = ct.state == ClientTxn::State::Proceeding ? t_.t2 : std::min(2 * ct.interval, t_.t2);
  }
  ct.retransmit->enable(ct.interval);
}

void Proxy::clientTimeout(ClientTxn& ct) {
  if (ct.state == ClientTxn::State::Calling || ct.state == ClientTxn::State::Proceeding) {
    // Timer B or F: no final response.
    clientFailed(ct, 408, "Request Timeout", ct.state == ClientTxn::State::Calling);
    return;
  }
  endClient(ct.key);  // D, K, the Accepted linger, or an abandoned attempt
}

void Proxy::clientFailover(ClientTxn& ct) {
  if (ct.state != ClientTxn::State::Calling || !ct.server) {
    return;
  }
  // Nothing, not even 100 Trying, from this media server in time: try the next one now;
  // keep the attempt (timer B) to ACK a late final response.
  ct.state = ClientTxn::State::Abandoned;
  ct.retransmit->disable();
  RMHA_LOG(Info, "sip", "media server {} did not answer an INVITE in time", ct.server->id);
  if (ct.server->probed) {
    ct.server->up.store(false);
  }
  ct.server->failures.fetch_add(1, std::memory_order_relaxed);
  auto* st = findServer(ct.serverKey);
  if (st && st->clientKey == ct.key && st->lastCode < 200) {
    st->clientKey.clear();
    tryNextServer(*st, 408);
  }
}

void Proxy::clientFailed(ClientTxn& ct, int code, std::string_view reason, bool markDown) {
  if (ct.server) {
    ct.server->failures.fetch_add(1, std::memory_order_relaxed);
    if (markDown && ct.server->probed) {
      RMHA_LOG(Info, "sip", "media server {} taken out: {}", ct.server->id, reason);
      ct.server->up.store(false);
    }
  }
  const auto key = ct.key;
  auto* st = ct.serverKey.empty() ? nullptr : findServer(ct.serverKey);
  const bool current = st && st->clientKey == key && st->lastCode < 200;
  const bool retry = current && ct.method == Method::Invite && ct.server && !st->cancelled;
  endClient(key);
  if (!current) {
    return;
  }
  st->clientKey.clear();
  if (retry) {
    tryNextServer(*st, code);
    return;
  }
  if (st->tracksSession) {
    if (parseMessage(std::span<char>(st->request.data(), st->request.size()), scratch_).ok()) {
      sessions_.remove(scratch_.callId);
    }
    st->tracksSession = false;
  }
  if (st->cancelled) {
    sendLocalResponse(*st, 487, "Request Terminated");
  } else {
    sendLocalResponse(*st, code, reason);
  }
}

void Proxy::start() {
  std::size_t index = 0;
  for (auto& g : resources_.groups()) {
    const auto it = std::find_if(cfg_.groups.begin(), cfg_.groups.end(),
                                 [&](const auto& c) { return c.name == g->name(); });
    const auto interval = it == cfg_.groups.end() ? Millis(0) : it->probeInterval;
    for (auto& s : g->servers()) {
      if (interval.count() > 0) {
        s->probed = true;
        Probe p;
        p.server = s.get();
        p.interval = static_cast<std::uint32_t>(interval.count());
        p.failures = it->probeFailures;
        probes_.push_back(std::move(p));
      }
    }
  }
  for (auto& p : probes_) {
    const auto i = index++;
    p.timer = timers_.createTimer([this, i] { probeTick(i); });
    p.timer->enable(Duration::zero());
  }
  const auto every = std::clamp<std::chrono::seconds>(cfg_.maxSessionAge / 4,
                                                      std::chrono::seconds(1),
                                                      std::chrono::seconds(60));
  sweep_ = timers_.createTimer([this, every] {
    sweepSessions();
    sweep_->enable(every);
  });
  sweep_->enable(every);
}

void Proxy::stop() {
  probes_.clear();
  sweep_.reset();
  servers_.clear();
  clients_.clear();
  deadServers_.clear();
  deadClients_.clear();
}

void Proxy::probeTick(std::size_t index) {
  deadServers_.clear();
  deadClients_.clear();
  auto& p = probes_[index];
  auto& s = *p.server;
  if (p.awaiting && ++s.unansweredProbes >= p.failures && s.up.load()) {
    RMHA_LOG(Warn, "sip", "media server {} taken out: {} OPTIONS probes unanswered", s.id,
             s.unansweredProbes);
    s.up.store(false);
  }
  ++p.seq;
  p.awaiting = true;
  const auto& hp = hostPort(s.address.transport);
  out_ = fmt::format(
      "OPTIONS sip:{}{} SIP/2.0\r\nVia: SIP/2.0/{} {};branch=z9hG4bKrp{}.{}\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:rm@{}>;tag={}\r\nTo: <sip:{}>\r\n"
      "Call-ID: rmprobe-{}-{}-{}@{}\r\nCSeq: {} OPTIONS\r\nContent-Length: 0\r\n\r\n",
      s.hostPort, s.address.transport == TransportKind::Tcp ? ";transport=tcp" : "",
      s.address.transport == TransportKind::Tcp ? "TCP" : "UDP", hp, index, p.seq, hp, salt_,
      s.hostPort, index, p.seq, salt_, cfg_.advertisedHost, p.seq);
  sender_.send(s.address.peer(), out_);
  p.timer->enable(Millis(p.interval));
}

void Proxy::onProbeResponse(std::string_view branch) {
  branch.remove_prefix(9);  // z9hG4bKrp
  const auto dot = branch.find('.');
  std::uint32_t index = 0;
  if (dot == std::string_view::npos || !parseUint(branch.substr(0, dot), index, 6) ||
      index >= probes_.size()) {
    return;
  }
  auto& p = probes_[index];
  p.awaiting = false;
  auto& s = *p.server;
  s.unansweredProbes = 0;
  if (!s.up.exchange(true)) {
    RMHA_LOG(Info, "sip", "media server {} back in service (answers OPTIONS)", s.id);
  }
}

void Proxy::sweepSessions() {
  const auto n = sessions_.expire(cfg_.maxSessionAge);
  if (n > 0) {
    counters_.sessionsExpired.fetch_add(n, std::memory_order_relaxed);
    RMHA_LOG(Info, "sip", "{} sessions ended: older than max-session-age", n);
  }
}

} // namespace rmha::core::sip
