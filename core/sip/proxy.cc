// Proxy core: the request path.
//
//   transport --onMessage--> parse --request--> server transaction (absorb retransmission)
//     --> ACK: hop-by-hop (absorbed by its INVITE transaction) or end-to-end (stateless)
//     --> CANCEL: 200, then CANCEL downstream (or 487 when nothing is pending)
//     --> Max-Forwards, loop check --> routeRequest:
//           Route names us: pop it; a Route left, or in dialog: loose routing to it / R-URI
//           OPTIONS for us: 200 serving / 503 standby
//           from a media server: upstream;  otherwise: rules -> resource group -> server
#include "core/sip/proxy.h"

#include <random>

#include "core/log.h"

namespace rmha::core::sip {

namespace {
constexpr std::string_view kCookie = "z9hG4bK";

bool dialogCreating(Method m) {
  return m == Method::Invite || m == Method::Subscribe || m == Method::Refer;
}

std::uint64_t fnv1a(std::uint64_t h, std::string_view s) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}
} // namespace

Proxy::Proxy(const SipConfig& cfg, MessageSender& sender, TimerFactory& timers, TimeSource& time,
             ResourceDirectory& resources, SessionTable& sessions, ProxyCounters& counters)
    : cfg_(cfg), sender_(sender), timers_(timers), time_(time), resources_(resources),
      sessions_(sessions), counters_(counters) {
  t_.t1 = cfg.t1;
  t_.t2 = cfg.t2;
  t_.t4 = cfg.t4;
  t_.failover = cfg.inviteFailoverTimeout;
  std::random_device rd;
  salt_ = fmt::format("{:08x}", rd());
  msg_.headers.reserve(64);
  scratch_.headers.reserve(64);
  out_.reserve(4096);
  const auto host = cfg_.advertisedHost.find(':') != std::string::npos
                        ? "[" + cfg_.advertisedHost + "]"
                        : cfg_.advertisedHost;
  hostPortUdp_ = fmt::format("{}:{}", host, ourPort(TransportKind::Udp));
  hostPortTcp_ = fmt::format("{}:{}", host, ourPort(TransportKind::Tcp));
  rrUdp_ = fmt::format("<sip:{};lr>", hostPortUdp_);
  rrTcp_ = fmt::format("<sip:{};transport=tcp;lr>", hostPortTcp_);
}

Proxy::~Proxy() { stop(); }

void Proxy::onMessage(std::span<char> data, const Peer& from) {
  deadServers_.clear();
  deadClients_.clear();
  if (!trusted(from)) {
    counters_.untrusted.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const auto st = parseMessage(data, msg_);
  if (!st.ok()) {
    refuseMalformed(from, st);
    return;
  }
  if (msg_.isRequest) {
    counters_.requests.fetch_add(1, std::memory_order_relaxed);
    onRequest(from);
  } else {
    counters_.responses.fetch_add(1, std::memory_order_relaxed);
    onResponse(from);
  }
}

void Proxy::refuseMalformed(const Peer& from, Status st) {
  // A request gets a 400 when enough of it parsed to address a response (RFC 3261 16.3);
  // a malformed response, or an ACK, is dropped and counted.
  if (!msg_.isRequest || msg_.method == Method::Ack || msg_.viaCount == 0) {
    (msg_.isRequest ? counters_.badRequests : counters_.badResponses)
        .fetch_add(1, std::memory_order_relaxed);
    RMHA_LOG(Debug, "sip", "dropped malformed message from {}: {}", from.str(), st.reason);
    return;
  }
  counters_.badRequests.fetch_add(1, std::memory_order_relaxed);
  const auto reason = fmt::format("Bad Request - {}", st.reason);
  respondLocally(msg_, responseTarget(from, msg_.topVia), 400, reason);
}

bool Proxy::trusted(const Peer& from) const {
  if (cfg_.trustedSources.empty()) {
    return true;
  }
  if (cfg_.hasUpstream && from.address == cfg_.upstream.address) {
    return true;
  }
  if (resources_.isMediaServerAddress(from.address)) {
    return true;
  }
  for (const auto& net : cfg_.trustedSources) {
    if (net.address.is_v4() && from.address.is_v4()) {
      const auto mask = net.prefix == 0 ? 0U : ~0U << (32 - net.prefix);
      if ((net.address.to_v4().to_uint() & mask) == (from.address.to_v4().to_uint() & mask)) {
        return true;
      }
    } else if (net.address.is_v6() && from.address.is_v6()) {
      const auto a = net.address.to_v6().to_bytes();
      const auto b = from.address.to_v6().to_bytes();
      unsigned bits = net.prefix;
      bool same = true;
      for (std::size_t i = 0; i < 16 && bits > 0 && same; ++i, bits = bits > 8 ? bits - 8 : 0) {
        const auto m = static_cast<unsigned char>(bits >= 8 ? 0xff : (0xff << (8 - bits)));
        same = (a[i] & m) == (b[i] & m);
      }
      if (same) {
        return true;
      }
    }
  }
  return false;
}

std::string Proxy::serverKey(const SipMessage& m, bool forAck) {
  // RFC 3261 17.2.3: branch + sent-by + method, ACK matching its INVITE.
  std::string key;
  key.reserve(m.topVia.branch.size() + m.topVia.host.size() + 16);
  key.append(m.topVia.branch);
  key.push_back('|');
  key.append(m.topVia.host);
  key.push_back(':');
  key.append(std::to_string(m.topVia.port));
  key.push_back('|');
  key.append(forAck ? std::string_view("INVITE") : m.methodToken);
  return key;
}

void Proxy::onRequest(const Peer& from) {
  if (msg_.method == Method::Ack) {
    onAck(from);
    return;
  }
  if (auto* st = findServer(serverKey(msg_, false))) {
    // A retransmission: answer with the last response, never forward again.
    counters_.retransmissionsAbsorbed.fetch_add(1, std::memory_order_relaxed);
    if (!st->lastResponse.empty()) {
      sender_.send(st->peer, st->lastResponse);
    }
    return;
  }
  if (msg_.method == Method::Cancel) {
    onCancel(from);
    return;
  }
  if (absorbedInTransition(from)) {
    return;
  }
  const auto target = responseTarget(from, msg_.topVia);
  if (!msg_.topVia.rfc3261Branch()) {
    respondLocally(msg_, target, 400, "Bad Request - Via branch without the z9hG4bK cookie");
    return;
  }
  if (msg_.maxForwards == 0 && !(msg_.method == Method::Options && isUs(msg_.requestUri))) {
    counters_.tooManyHops.fetch_add(1, std::memory_order_relaxed);
    respondLocally(msg_, target, 483, "Too Many Hops");
    return;
  }
  if (loopDetected(msg_)) {
    counters_.loops.fetch_add(1, std::memory_order_relaxed);
    respondLocally(msg_, target, 482, "Loop Detected");
    return;
  }
  auto& st = newServer(serverKey(msg_, false), target, msg_.raw);
  if (msg_.method == Method::Invite) {
    sendLocalResponse(st, 100, "Trying");
  }
  routeRequest(st);
}

bool Proxy::absorbedInTransition(const Peer& from) {
  if (!absorbing_.load(std::memory_order_relaxed) || serving_.load(std::memory_order_relaxed) ||
      from.transport != TransportKind::Udp || msg_.to.hasTag ||
      (cfg_.hasUpstream && resources_.isMediaServerAddress(from.address))) {
    return false;
  }
  // No transaction is kept: the retransmission must be handled as new where it lands.
  counters_.absorbedInTransition.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void Proxy::onAck(const Peer& from) {
  if (auto* st = findServer(serverKey(msg_, true))) {
    // Hop-by-hop ACK of our non-2xx final response (RFC 3261 17.2.1): absorbed here.
    if (st->state == ServerTxn::State::Completed) {
      st->state = ServerTxn::State::Confirmed;
      st->retransmit->disable();
      st->timeout->enable(reliable(st->peer, t_.t4));  // timer I
    }
    if (st->state != ServerTxn::State::Accepted) {
      return;
    }
  }
  forwardAckStateless(from);
}

void Proxy::onCancel(const Peer& from) {
  const auto target = responseTarget(from, msg_.topVia);
  auto* inv = findServer(serverKey(msg_, true));
  if (!inv) {
    respondLocally(msg_, target, 481, "Call/Transaction Does Not Exist");
    return;
  }
  respondLocally(msg_, target, 200, "OK");
  if (inv->lastCode >= 200 || inv->cancelled) {
    return;
  }
  inv->cancelled = true;
  auto* ct = inv->clientKey.empty() ? nullptr : findClient(inv->clientKey);
  if (ct && ct->state == ClientTxn::State::Proceeding) {
    sendCancel(*ct);
  } else if (ct && ct->state == ClientTxn::State::Calling) {
    ct->cancelPending = true;  // RFC 3261 9.1: wait for a provisional response
  } else {
    sendLocalResponse(*inv, 487, "Request Terminated");
  }
}

bool Proxy::isUs(const Uri& uri) const {
  if (uri.host.empty()) {
    return false;
  }
  const auto port = uri.port == 0 ? 5060 : uri.port;
  const bool ourHost = uri.host == cfg_.advertisedHost;
  if (ourHost && port == cfg_.advertisedPort) {
    return true;
  }
  for (const auto& l : cfg_.listen) {
    if (l.port == port &&
        (ourHost || (!l.address.is_unspecified() && uri.host == l.address.to_string()))) {
      return true;
    }
  }
  return false;
}

bool Proxy::topRouteIsUs(const SipMessage& m) const {
  const auto* h = m.find(HeaderId::Route);
  if (!h) {
    return false;
  }
  bool us = false;
  (void)forEachListItem(h->value, [&](std::string_view item) {
    NameAddr na;
    us = parseNameAddr(item, na).ok() && isUs(na.uri);
    return false;
  });
  return us;
}

bool Proxy::nextRouteHop(const SipMessage& m, bool popRoute, Peer& hop) const {
  // The first Route value left after popping ours, if any.
  int skip = popRoute ? 1 : 0;
  bool found = false;
  bool ok = false;
  for (const auto& h : m.headers) {
    if (h.id != HeaderId::Route || found) {
      continue;
    }
    (void)forEachListItem(h.value, [&](std::string_view item) {
      if (skip-- > 0) {
        return true;
      }
      found = true;
      NameAddr na;
      ok = parseNameAddr(item, na).ok() && peerFromUri(na.uri, hop);
      return false;
    });
  }
  return found && ok;
}

void Proxy::noteReInvite(const SipMessage& req) {
  // The caller's CSeq moves on; the session (and its replica) follows.
  const auto* s = sessions_.find(req.callId);
  if (s && s->fromTag == req.from.tag && req.cseq > s->cseq) {
    Session copy = *s;
    copy.cseq = req.cseq;
    sessions_.upsert(std::move(copy));
  }
}

void Proxy::routeRequest(ServerTxn& st) {
  if (msg_.method == Method::Bye) {
    sessions_.remove(msg_.callId);  // the call is over whatever the answer
  }
  if (msg_.to.hasTag && msg_.method == Method::Invite) {
    noteReInvite(msg_);
  }
  const bool popRoute = topRouteIsUs(msg_);
  Peer hop;
  if (nextRouteHop(msg_, popRoute, hop)) {
    forward(st, msg_, hop, popRoute, false, nullptr);  // loose routing (RFC 3261 16.4, 16.6)
    return;
  }
  if (msg_.to.hasTag) {
    // In-dialog without a Route left: the Request-URI is the remote target.
    if (isUs(msg_.requestUri) || !peerFromUri(msg_.requestUri, hop)) {
      sendLocalResponse(st, 404, "Not Found");
      return;
    }
    forward(st, msg_, hop, popRoute, false, nullptr);
    return;
  }
  routeInitial(st, popRoute);
}

void Proxy::routeInitial(ServerTxn& st, bool popRoute) {
  if (msg_.method == Method::Options && isUs(msg_.requestUri) && msg_.requestUri.user.empty()) {
    counters_.optionsAnswered.fetch_add(1, std::memory_order_relaxed);
    if (serving_) {
      sendLocalResponse(st, 200, "OK", "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, "
                                       "REFER, NOTIFY, PRACK\r\nAccept: application/sdp\r\n");
    } else {
      sendLocalResponse(st, 503, "Service Unavailable",
                        fmt::format("Retry-After: {}\r\n", cfg_.retryAfter.count()));
    }
    return;
  }
  const bool rr = dialogCreating(msg_.method);
  if (resources_.isMediaServerAddress(st.peer.address) && cfg_.hasUpstream) {
    if (forward(st, msg_, cfg_.upstream.peer(), popRoute, rr, nullptr) &&
        msg_.method == Method::Invite) {
      trackSession(st, msg_, nullptr);
    }
    return;
  }
  if (!serving_) {
    counters_.notServing.fetch_add(1, std::memory_order_relaxed);
    sendLocalResponse(st, 503, "Service Unavailable - standby",
                      fmt::format("Retry-After: {}\r\n", cfg_.retryAfter.count()));
    return;
  }
  if (msg_.method == Method::Invite && sessions_.size() >= cfg_.maxSessions) {
    counters_.noCapacity.fetch_add(1, std::memory_order_relaxed);
    sendLocalResponse(st, 503, "Service Unavailable - session table full",
                      fmt::format("Retry-After: {}\r\n", cfg_.retryAfter.count()));
    return;
  }
  auto* group = resources_.route(msg_.requestUri);
  if (!group) {
    counters_.noRoute.fetch_add(1, std::memory_order_relaxed);
    sendLocalResponse(st, 404, "Not Found - no resource group for this request");
    return;
  }
  group->candidates(st.candidates);
  if (st.candidates.empty()) {
    counters_.noCapacity.fetch_add(1, std::memory_order_relaxed);
    sendLocalResponse(st, 503, "Service Unavailable - no capacity",
                      fmt::format("Retry-After: {}\r\n", cfg_.retryAfter.count()));
    return;
  }
  st.nextCandidate = 0;
  tryNextServer(st, 0);
}

std::string Proxy::loopHash(const SipMessage& m) const {
  // RFC 3261 16.6 step 8: the fields that change on a spiral but not on a loop.
  auto h = fnv1a(1469598103934665603ULL, m.requestUriText);
  h = fnv1a(h, m.from.tag);
  h = fnv1a(h, m.to.tag);
  h = fnv1a(h, m.callId);
  h = fnv1a(h, std::to_string(m.cseq));
  if (const auto* r = m.find(HeaderId::Route)) {
    h = fnv1a(h, r->value);
  }
  return fmt::format("{:016x}", h);
}

bool Proxy::loopDetected(const SipMessage& m) const {
  if (m.viaCount < 2 && m.topVia.host != cfg_.advertisedHost) {
    return false;
  }
  const auto hash = loopHash(m);
  bool loop = false;
  for (const auto& h : m.headers) {
    if (h.id != HeaderId::Via || loop) {
      continue;
    }
    (void)forEachListItem(h.value, [&](std::string_view item) {
      Via v;
      if (parseVia(item, v).ok() && v.host == cfg_.advertisedHost &&
          v.branch.size() > kCookie.size() + 2 &&
          v.branch.substr(kCookie.size() + 2).starts_with(hash)) {
        loop = true;
      }
      return !loop;
    });
  }
  return loop;
}

void Proxy::respondLocally(const SipMessage& req, const Peer& to, int code,
                           std::string_view reason, std::string_view extra) {
  buildResponse(req, code, reason, code > 100 ? std::string_view(salt_) : std::string_view{},
                extra, out_);
  sender_.send(to, out_);
}

void Proxy::forwardAckStateless(const Peer& /*from*/) {
  // End-to-end ACK of a 2xx (RFC 3261 16.6, 16.11): its own branch, derived from the incoming
  // one so a retransmitted ACK gets the same branch.
  const bool popRoute = topRouteIsUs(msg_);
  Peer hop;
  if (!nextRouteHop(msg_, popRoute, hop) &&
      (isUs(msg_.requestUri) || !peerFromUri(msg_.requestUri, hop))) {
    return;
  }
  const auto via = fmt::format("SIP/2.0/{} {};branch={}ra{}.{:x}",
                               hop.transport == TransportKind::Tcp ? "TCP" : "UDP",
                               hostPort(hop.transport), kCookie,
                               loopHash(msg_), fnv1a(1469598103934665603ULL, msg_.topVia.branch));
  ForwardEdits e;
  e.via = via;
  e.popRoute = popRoute;
  e.decrementMaxForwards = true;
  serialiseForward(msg_, e, out_);
  sender_.send(hop, out_);
}

} // namespace rmha::core::sip
