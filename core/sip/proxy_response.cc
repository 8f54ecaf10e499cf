// Proxy core: the response path.
//
//   response --top Via ours?--> probe branch: health of a media server
//                          --> client transaction (by branch, CANCEL apart)
//                               INVITE: 1xx (send a pending CANCEL), 2xx (session confirmed,
//                               forwarded), >=300 (ACK hop by hop; 5xx/timeout: next server)
//                               non-INVITE: 1xx, final (forwarded)
//                          --> none: a 2xx to INVITE is forwarded statelessly by the next Via
#include "core/sip/proxy.h"

#include "core/log.h"

namespace rmha::core::sip {

void Proxy::onResponse(const Peer& /*from*/) {
  const auto& via = msg_.topVia;
  if (via.host != cfg_.advertisedHost || !via.branch.starts_with("z9hG4bKr")) {
    counters_.strayResponses.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (via.branch.starts_with("z9hG4bKrp")) {
    onProbeResponse(via.branch);
    return;
  }
  std::string key(via.branch);
  if (msg_.cseqMethod == Method::Cancel) {
    key += "|C";
  }
  auto* ct = findClient(key);
  if (msg_.viaCount < 2 && (!ct || !ct->serverKey.empty())) {
    // RFC 3261 16.7 step 3: no Via left after ours, nothing to forward it to.
    counters_.badResponses.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!ct) {
    if (msg_.cseqMethod == Method::Invite && msg_.statusCode >= 200 && msg_.statusCode < 300) {
      forwardResponseStateless(msg_);  // RFC 3261 16.7 step 10: 2xx retransmissions
    } else {
      counters_.strayResponses.fetch_add(1, std::memory_order_relaxed);
    }
    return;
  }
  if (ct->method == Method::Invite) {
    onInviteResponse(*ct, msg_);
  } else {
    onNonInviteResponse(*ct, msg_);
  }
}

void Proxy::onInviteResponse(ClientTxn& ct, const SipMessage& rsp) {
  const int code = rsp.statusCode;
  auto* st = ct.serverKey.empty() ? nullptr : findServer(ct.serverKey);
  if (ct.state == ClientTxn::State::Abandoned) {
    // A late answer from a server we gave up on: the call is elsewhere now.
    if (code >= 300) {
      sendAck(ct, rsp);
    } else if (code >= 200) {
      closeLateAnswer(ct, rsp);
    }
    return;
  }
  if (code < 200) {
    if (ct.state == ClientTxn::State::Calling) {
      ct.state = ClientTxn::State::Proceeding;
      ct.retransmit->disable();
      ct.failover->disable();
    }
    if (ct.cancelPending) {
      sendCancel(ct);
    }
    if (code > 100 && st && ct.state == ClientTxn::State::Proceeding) {
      sendResponse(*st, rsp);
    }
    return;
  }
  if (code < 300) {
    const bool first = ct.state != ClientTxn::State::Accepted;
    ct.state = ClientTxn::State::Accepted;
    ct.retransmit->disable();
    ct.failover->disable();
    if (first) {
      ct.timeout->enable(64 * t_.t1);  // linger to pass 2xx retransmissions (RFC 6026)
      std::string().swap(ct.request);
      updateSessionFromResponse(rsp);
    }
    if (st) {
      sendResponse(*st, rsp);
    } else {
      forwardResponseStateless(rsp);
    }
    return;
  }
  onInviteFinal(ct, st, rsp);
}

void Proxy::onInviteFinal(ClientTxn& ct, ServerTxn* st, const SipMessage& rsp) {
  const int code = rsp.statusCode;
  // Non-2xx final: ACK it hop by hop (RFC 3261 17.1.1.3), then decide.
  sendAck(ct, rsp);
  if (ct.state == ClientTxn::State::Completed) {
    return;  // a retransmission: the ACK was all it needed
  }
  ct.state = ClientTxn::State::Completed;
  ct.retransmit->disable();
  ct.failover->disable();
  ct.timeout->enable(reliable(ct.peer, std::chrono::seconds(32)));  // timer D
  if (!st) {
    return;
  }
  if (ct.server && code >= 500 && !st->cancelled) {
    ct.server->failures.fetch_add(1, std::memory_order_relaxed);
    st->clientKey.clear();
    tryNextServer(*st, code);
    return;
  }
  if (st->tracksSession) {
    sessions_.remove(rsp.callId);
    st->tracksSession = false;
  }
  sendResponse(*st, rsp);
}

void Proxy::closeLateAnswer(ClientTxn& ct, const SipMessage& rsp) {
  // ACK the 2xx (each retransmission), then BYE the dialog once.
  if (!parseMessage(std::span<char>(ct.request.data(), ct.request.size()), scratch_).ok()) {
    return;
  }
  const auto* to = rsp.find(HeaderId::To);
  const auto* contact = rsp.find(HeaderId::Contact);
  std::string_view first;
  if (contact) {
    (void)forEachListItem(contact->value, [&](std::string_view item) {
      first = item;
      return false;
    });
  }
  NameAddr target;
  if (!to || first.empty() || !parseNameAddr(first, target).ok()) {
    return;
  }
  for (const auto method : {Method::Ack, Method::Bye}) {
    if (method == Method::Bye && ct.lateAnswerClosed) {
      break;
    }
    std::string branch;
    const auto via = viaFor(ct.peer, scratch_, branch);
    buildLateAnswerRequest(scratch_, method, target.uriText, via, to->value,
                           method == Method::Ack ? scratch_.cseq : scratch_.cseq + 1, out_);
    sender_.send(ct.peer, out_);
  }
  ct.lateAnswerClosed = true;
}

void Proxy::onNonInviteResponse(ClientTxn& ct, const SipMessage& rsp) {
  const int code = rsp.statusCode;
  if (ct.state == ClientTxn::State::Completed) {
    return;  // retransmitted final
  }
  auto* st = ct.serverKey.empty() ? nullptr : findServer(ct.serverKey);
  if (code < 200) {
    ct.state = ClientTxn::State::Proceeding;
    if (code > 100 && st) {
      sendResponse(*st, rsp);
    }
    return;
  }
  ct.state = ClientTxn::State::Completed;
  ct.retransmit->disable();
  ct.timeout->enable(reliable(ct.peer, t_.t4));  // timer K
  std::string().swap(ct.request);
  if (st) {
    sendResponse(*st, rsp);
  }
}

void Proxy::updateSessionFromResponse(const SipMessage& rsp) {
  const auto* old = sessions_.find(rsp.callId);
  if (!old || rsp.cseqMethod != Method::Invite) {
    return;
  }
  Session s = *old;
  s.toTag = rsp.to.tag;
  s.state = SessionState::Confirmed;
  s.routeSet.clear();
  for (const auto& h : rsp.headers) {
    if (h.id == HeaderId::RecordRoute) {
      s.routeSet += s.routeSet.empty() ? "" : ", ";
      s.routeSet += h.value;
    }
  }
  sessions_.upsert(std::move(s));
}

void Proxy::forwardResponseStateless(const SipMessage& rsp) {
  // The next Via (after ours) says where: received/rport when present.
  if (rsp.viaCount < 2) {
    return;
  }
  Via next;
  int index = 0;
  for (const auto& h : rsp.headers) {
    if (h.id != HeaderId::Via || index > 1) {
      continue;
    }
    (void)forEachListItem(h.value, [&](std::string_view item) {
      if (index++ == 1) {
        (void)parseVia(item, next);
        return false;
      }
      return true;
    });
  }
  Peer to;
  to.transport = iequals(next.transport, "TCP") ? TransportKind::Tcp : TransportKind::Udp;
  boost::system::error_code ec;
  to.address = boost::asio::ip::make_address(
      std::string(next.received.empty() ? next.host : next.received), ec);
  if (ec) {
    return;
  }
  std::uint32_t port = 0;
  to.port = !next.rport.empty() && parseUint(next.rport, port, 5)
                ? static_cast<std::uint16_t>(port)
                : (next.port != 0 ? next.port : 5060);
  ForwardEdits e;
  e.removeTopVia = true;
  serialiseForward(rsp, e, out_);
  sender_.send(to, out_);
}

void Proxy::onTransportError(const Peer& to) {
  counters_.transportErrors.fetch_add(1, std::memory_order_relaxed);
  std::vector<std::string> hit;
  for (const auto& [key, ct] : clients_) {
    if (ct->peer.sameEndpoint(to) && (ct->state == ClientTxn::State::Calling ||
                                      ct->state == ClientTxn::State::Proceeding)) {
      hit.push_back(key);
    }
  }
  for (const auto& key : hit) {
    if (auto* ct = findClient(key)) {
      clientFailed(*ct, 503, "Service Unavailable - transport error", true);
    }
  }
}

} // namespace rmha::core::sip
