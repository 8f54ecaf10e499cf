// Proxy core: sending. Forwarded requests get our Via (a unique z9hG4bK branch that embeds
// the loop-detection hash), lose the Route that named us, get Record-Route when they create
// a dialog, and have Max-Forwards decremented. Responses lose our Via and go back on the
// server transaction. ACK (non-2xx) and CANCEL are built from the INVITE as it was sent.
#include "core/sip/proxy.h"

#include "core/log.h"

namespace rmha::core::sip {

namespace {
bool dialogCreating(Method m) {
  return m == Method::Invite || m == Method::Subscribe || m == Method::Refer;
}
} // namespace

std::uint16_t Proxy::ourPort(TransportKind t) const {
  if (cfg_.advertisedPort != 0) {
    return cfg_.advertisedPort;
  }
  for (const auto& l : cfg_.listen) {
    if (l.transport == t) {
      return l.port;
    }
  }
  return cfg_.listen.empty() ? 5060 : cfg_.listen.front().port;
}

const std::string& Proxy::hostPort(TransportKind t) const {
  return t == TransportKind::Tcp ? hostPortTcp_ : hostPortUdp_;
}

std::string Proxy::recordRouteFor(TransportKind t) const {
  return t == TransportKind::Tcp ? rrTcp_ : rrUdp_;
}

Peer Proxy::responseTarget(const Peer& from, const Via& via) const {
  if (from.transport == TransportKind::Tcp) {
    return from;  // RFC 3261 18.2.2: on the connection the request came on
  }
  // The source address (as `received` would say); the source port when rport was asked for
  // (RFC 3581), else the sent-by port.
  Peer p = from;
  if (!via.hasRport) {
    p.port = via.port != 0 ? via.port : 5060;
  }
  return p;
}

std::string Proxy::viaFor(const Peer& hop, const SipMessage& req, std::string& branch) {
  branch = fmt::format("z9hG4bKrm{}.{}{:x}", loopHash(req), salt_, ++counter_);
  return fmt::format("SIP/2.0/{} {};branch={}", hop.transport == TransportKind::Tcp ? "TCP" : "UDP",
                     hostPort(hop.transport), branch);
}

bool Proxy::forward(ServerTxn& st, const SipMessage& req, const Peer& hop, bool popRoute,
                    bool recordRoute, MediaServer* server, std::string_view requestUri) {
  std::string branch;
  const auto via = viaFor(hop, req, branch);
  ForwardEdits e;
  e.via = via;
  e.popRoute = popRoute;
  e.decrementMaxForwards = true;
  e.requestUri = requestUri;
  const auto rr = recordRoute ? recordRouteFor(hop.transport) : std::string();
  e.recordRoute = rr;
  serialiseForward(req, e, out_);
  auto& ct = newClient(branch, req.method, hop, out_);
  ct.serverKey = st.key;
  ct.server = server;
  st.clientKey = ct.key;
  const bool udp = hop.transport == TransportKind::Udp;
  if (req.method == Method::Invite) {
    if (udp) {
      ct.interval = t_.t1;
      ct.retransmit->enable(ct.interval);  // timer A
    }
    ct.timeout->enable(64 * t_.t1);        // timer B
    if (server) {
      ct.failover->enable(t_.failover);
    }
  } else {
    if (udp) {
      ct.interval = t_.t1;
      ct.retransmit->enable(ct.interval);  // timer E
    }
    ct.timeout->enable(64 * t_.t1);        // timer F
  }
  sender_.send(hop, ct.request);
  return true;
}

void Proxy::tryNextServer(ServerTxn& st, int failedCode) {
  if (!parseMessage(std::span<char>(st.request.data(), st.request.size()), scratch_).ok()) {
    sendLocalResponse(st, 500, "Server Internal Error");
    return;
  }
  const bool popRoute = topRouteIsUs(scratch_);
  while (!st.cancelled && st.nextCandidate < st.candidates.size()) {
    auto* s = st.candidates[st.nextCandidate++];
    if (failedCode != 0 && (!s->up.load() || !s->hasCapacity())) {
      continue;  // changed since the list was made
    }
    const auto& u = scratch_.requestUri;
    auto ruri = fmt::format("{}:{}{}{}{}{}", u.scheme, u.user, u.user.empty() ? "" : "@",
                            s->hostPort, u.params.empty() ? "" : ";", u.params);
    if (s->address.transport == TransportKind::Tcp && !u.hasParam("transport")) {
      ruri += ";transport=tcp";
    }
    forward(st, scratch_, s->address.peer(), popRoute, dialogCreating(scratch_.method), s, ruri);
    s->invites.fetch_add(1, std::memory_order_relaxed);
    if (failedCode != 0) {
      counters_.failovers.fetch_add(1, std::memory_order_relaxed);
    }
    if (scratch_.method == Method::Invite) {
      trackSession(st, scratch_, s);
      counters_.callsRouted.fetch_add(1, std::memory_order_relaxed);
    }
    return;
  }
  if (st.tracksSession) {
    sessions_.remove(scratch_.callId);
    st.tracksSession = false;
  }
  if (st.cancelled) {
    sendLocalResponse(st, 487, "Request Terminated");
  } else if (failedCode == 0 || failedCode == 503) {
    counters_.noCapacity.fetch_add(1, std::memory_order_relaxed);
    sendLocalResponse(st, 503, "Service Unavailable - no media server available",
                      fmt::format("Retry-After: {}\r\n", cfg_.retryAfter.count()));
  } else if (failedCode == 408) {
    sendLocalResponse(st, 408, "Request Timeout");
  } else {
    sendLocalResponse(st, failedCode, "Media Server Error");
  }
}

void Proxy::trackSession(ServerTxn& st, const SipMessage& req, MediaServer* server) {
  Session s;
  if (const auto* old = sessions_.find(req.callId)) {
    s = *old;
  }
  s.callId = req.callId;
  s.fromTag = req.from.tag;
  s.server = server ? server->id : "upstream";
  s.cseq = req.cseq;
  s.state = SessionState::Trying;
  sessions_.upsert(std::move(s));
  st.tracksSession = true;
}

void Proxy::sendResponse(ServerTxn& st, const SipMessage& rsp) {
  ForwardEdits e;
  e.removeTopVia = true;
  serialiseForward(rsp, e, out_);
  sender_.send(st.peer, out_);
  if (st.lastCode >= 200) {
    return;  // a 2xx retransmission after the first, passed through
  }
  st.lastResponse = out_;
  st.lastCode = rsp.statusCode;
  if (rsp.statusCode >= 200) {
    serverFinal(st, rsp.statusCode);
  }
}

void Proxy::sendLocalResponse(ServerTxn& st, int code, std::string_view reason,
                              std::string_view extra) {
  if (!parseMessage(std::span<char>(st.request.data(), st.request.size()), scratch_).ok()) {
    return;
  }
  buildResponse(scratch_, code, reason, st.toTag, extra, out_);
  sender_.send(st.peer, out_);
  st.lastResponse = out_;
  st.lastCode = code;
  if (code >= 200) {
    serverFinal(st, code);
  }
}

void Proxy::sendCancel(ClientTxn& ct) {
  ct.cancelPending = false;
  if (!parseMessage(std::span<char>(ct.request.data(), ct.request.size()), scratch_).ok()) {
    return;
  }
  const auto* to = scratch_.find(HeaderId::To);
  buildAckOrCancel(scratch_, Method::Cancel, to ? to->value : std::string_view{}, out_);
  auto key = ct.key + "|C";
  if (findClient(key)) {
    return;
  }
  const auto peer = ct.peer;
  auto& cancel = newClient(std::move(key), Method::Cancel, peer, out_);
  if (peer.transport == TransportKind::Udp) {
    cancel.interval = t_.t1;
    cancel.retransmit->enable(cancel.interval);
  }
  cancel.timeout->enable(64 * t_.t1);
  sender_.send(peer, cancel.request);
}

void Proxy::sendAck(ClientTxn& ct, const SipMessage& rsp) {
  if (!parseMessage(std::span<char>(ct.request.data(), ct.request.size()), scratch_).ok()) {
    return;
  }
  const auto* to = rsp.find(HeaderId::To);
  buildAckOrCancel(scratch_, Method::Ack, to ? to->value : std::string_view{}, out_);
  sender_.send(ct.peer, out_);
}

} // namespace rmha::core::sip
