// The peer link's TCP channel: member 2 connects, both send a signed hello, and after the
// hellos authenticated frames carry the replication payloads. The channel closing is how
// the peer's death is seen at once (see docs/design/kill-detection.md).
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>

#include "core/log.h"
#include "failover/peer/link_impl.h"

namespace rmha::failover {

void PeerLink::Impl::accept() {
  auto c = std::make_shared<Channel>(io);
  acceptor.async_accept(c->socket, [this, c](const boost::system::error_code& ec) {
    if (stopped || ec == asio::error::operation_aborted) {
      return;
    }
    if (!ec) {
      awaitHello(c);
    }
    accept();
  });
}

void PeerLink::Impl::connect() {
  if (stopped || channel || connecting) {
    return;
  }
  auto c = std::make_shared<Channel>(io);
  connecting = c;
  boost::system::error_code ec;
  const tcp::endpoint local(toAddress(opt.local), 0);
  c->socket.open(local.protocol(), ec);
  if (!ec) {
    c->socket.bind(local, ec);
  }
  if (ec) {
    connecting.reset();
    scheduleReconnect();
    return;
  }
  armHelloTimeout(c);
  const tcp::endpoint peer(toAddress(opt.peer), opt.peer.port);
  c->socket.async_connect(peer, [this, c](const boost::system::error_code& cec) {
    if (stopped || connecting != c) {
      return;
    }
    if (cec) {
      dropAttempt(c);
      return;
    }
    if (!sendHello(*c)) {
      dropAttempt(c);
      return;
    }
    awaitHello(c);
  });
}

void PeerLink::Impl::dropAttempt(const ChannelPtr& c) {
  boost::system::error_code ec;
  c->socket.close(ec);
  c->helloTimer.cancel();
  if (connecting == c) {
    connecting.reset();
    scheduleReconnect();
  }
}

void PeerLink::Impl::scheduleReconnect() {
  if (stopped || !connector()) {
    return;
  }
  reconnectTimer.expires_after(opt.reconnectInterval);
  reconnectTimer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) {
      connect();
    }
  });
}

void PeerLink::Impl::armHelloTimeout(const ChannelPtr& c) {
  c->helloTimer.expires_after(opt.helloTimeout);
  c->helloTimer.async_wait([c](const boost::system::error_code& ec) {
    if (!ec && !c->up) {
      boost::system::error_code ignored;
      c->socket.close(ignored); // completes the pending read/connect with an error
    }
  });
}

bool PeerLink::Impl::sendHello(Channel& c) {
  PeerMessage m;
  m.kind = PeerMsgKind::ChannelHello;
  m.flags = kFlagChannelFrames;
  c.myHello = frame(m);
  boost::system::error_code ec;
  asio::write(c.socket, asio::buffer(c.myHello), ec);
  return !ec;
}

void PeerLink::Impl::awaitHello(const ChannelPtr& c) {
  if (!connector()) {
    armHelloTimeout(c);
  }
  asio::async_read(c->socket, asio::buffer(c->buf),
                   [this, c](const boost::system::error_code& ec, std::size_t) {
                     if (stopped) {
                       return;
                     }
                     if (ec || !helloOk(*c)) {
                       dropAttempt(c);
                       return;
                     }
                     c->helloTimer.cancel();
                     if (!connector() && !sendHello(*c)) {
                       dropAttempt(c);
                       return;
                     }
                     establish(c);
                   });
}

bool PeerLink::Impl::helloOk(Channel& c) {
  const auto from = remoteOf(c);
  const auto r = decodePeerMessage(c.buf, opt.key);
  if (!r.message) {
    countDrop(r.drop, from);
    return false;
  }
  PeerDrop why{};
  if (r.message->kind != PeerMsgKind::ChannelHello || r.message->member == opt.localMember) {
    countDrop(PeerDrop::BadField, from);
    return false;
  }
  if (!tcpGuard.accept(r.message->epoch, r.message->seq, time.monotonicTime(), why)) {
    countDrop(why, from);
    return false;
  }
  c.peerHello = c.buf;
  c.frames = (r.message->flags & kFlagChannelFrames) != 0;
  return true;
}

std::string PeerLink::Impl::remoteOf(Channel& c) {
  boost::system::error_code ec;
  const auto ep = c.socket.remote_endpoint(ec);
  return ec ? std::string("?") : fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

void PeerLink::Impl::establish(const ChannelPtr& c) {
  if (connecting == c) {
    connecting.reset();
  }
  if (auto old = channel) {
    // The peer restarted and reconnected before we saw the old channel close.
    {
      std::lock_guard lock(writeMutex);
      channel.reset();
    }
    boost::system::error_code ec;
    old->socket.close(ec);
    if (old->frames && sink) {
      sink->onChannelClosed();
    }
  }
  moveToHighFd(*c);
  if (c->frames) {
    const auto key = opt.localMember == 1 ? channelKey(opt.key, c->myHello, c->peerHello)
                                          : channelKey(opt.key, c->peerHello, c->myHello);
    c->sendMac = std::make_unique<KeyedMac>(key);
    c->recvMac = std::make_unique<KeyedMac>(key);
  } else {
    RMHA_LOG(Warn, "peer", "the peer does not speak channel frames (an older version): no "
             "session replication until both nodes run this version");
  }
  c->up = true;
  {
    std::lock_guard lock(writeMutex);
    channel = c;
  }
  ++counters.channelUps;
  boost::system::error_code ec;
  c->socket.set_option(tcp::no_delay(true), ec);
  RMHA_LOG(Info, "peer", "channel to member {} up ({})", opt.localMember == 1 ? 2 : 1,
           remoteOf(*c));
  events->onPeerChannel(true);
  if (c->frames) {
    if (sink) {
      sink->onChannelOpen();
    }
    if (channel == c) {
      readHeader(c);
    }
    return;
  }
  readLoop(c);
}

void PeerLink::Impl::readHeader(const ChannelPtr& c) {
  c->in.resize(kChannelHeaderSize);
  asio::async_read(c->socket, asio::buffer(c->in),
                   [this, c](const boost::system::error_code& ec, std::size_t) {
                     if (stopped || channel != c) {
                       return;
                     }
                     if (ec) {
                       channelLost(c, ec.message());
                       return;
                     }
                     PeerDrop why{};
                     const auto h = decodeChannelHeader(c->in, why);
                     if (!h) {
                       countDrop(why, remoteOf(*c));
                       channelLost(c, "bad frame header");
                       return;
                     }
                     readBody(c, *h);
                   });
}

void PeerLink::Impl::readBody(const ChannelPtr& c, ChannelHeader h) {
  c->in.resize(kChannelHeaderSize + h.length + kChannelMacSize);
  asio::async_read(
      c->socket, asio::buffer(c->in.data() + kChannelHeaderSize, h.length + kChannelMacSize),
      [this, c, h](const boost::system::error_code& ec, std::size_t) {
        if (stopped || channel != c) {
          return;
        }
        if (ec) {
          channelLost(c, ec.message());
          return;
        }
        if (!verifyChannelFrame(c->in, *c->recvMac)) {
          countDrop(PeerDrop::BadAuth, remoteOf(*c));
          channelLost(c, "bad frame MAC");
          return;
        }
        if (h.seq != c->recvSeq + 1) {
          countDrop(h.seq <= c->recvSeq ? PeerDrop::Replayed : PeerDrop::BadField, remoteOf(*c));
          channelLost(c, "frame out of sequence");
          return;
        }
        c->recvSeq = h.seq;
        ++counters.framesReceived;
        counters.frameBytesReceived += c->in.size();
        if (sink) {
          sink->onChannelPayload(std::span(c->in.data() + kChannelHeaderSize, h.length));
        }
        if (!stopped && channel == c) {
          readHeader(c);
        }
      });
}

bool PeerLink::Impl::sendPayload(std::span<const std::uint8_t> payload) {
  std::lock_guard lock(writeMutex);
  if (!channel || !channel->frames || payload.size() > kMaxChannelPayload) {
    return false;
  }
  auto& c = *channel;
  auto& frame = c.frame;
  encodeChannelFrame(++c.sendSeq, payload, *c.sendMac, frame);
  ++counters.framesSent;
  counters.frameBytesSent += frame.size();
  std::size_t sent = 0;
  if (!c.writing) {
    const auto n = ::send(c.socket.native_handle(), frame.data(), frame.size(),
                          MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(frame.size())) {
      return true;
    }
    sent = n > 0 ? static_cast<std::size_t>(n) : 0;
    c.writing = true;
    asio::post(io, [this, ch = channel] { writeNext(ch); });
  }
  c.out.emplace_back(frame.begin() + static_cast<std::ptrdiff_t>(sent), frame.end());
  c.pending += c.out.back().size();
  return true;
}

void PeerLink::Impl::writeNext(const ChannelPtr& c) {
  std::lock_guard lock(writeMutex);
  if (stopped || channel != c) {
    return;
  }
  if (c->out.empty()) {
    c->writing = false;
    return;
  }
  asio::async_write(c->socket, asio::buffer(c->out.front()),
                    [this, c](const boost::system::error_code& ec, std::size_t) {
                      if (stopped || channel != c) {
                        return;
                      }
                      if (ec) {
                        channelLost(c, ec.message());
                        return;
                      }
                      {
                        std::lock_guard relock(writeMutex);
                        c->pending -= c->out.front().size();
                        c->out.pop_front();
                      }
                      writeNext(c);
                    });
}

void PeerLink::Impl::readLoop(const ChannelPtr& c) {
  asio::async_read(c->socket, asio::buffer(c->buf),
                   [this, c](const boost::system::error_code& ec, std::size_t) {
                     if (stopped || channel != c) {
                       return;
                     }
                     if (ec) {
                       channelLost(c, ec.message());
                       return;
                     }
                     const auto r = decodePeerMessage(c->buf, opt.key);
                     if (!r.message) {
                       countDrop(r.drop, remoteOf(*c));
                       channelLost(c, "bad frame");
                       return;
                     }
                     if (r.message->kind != PeerMsgKind::ChannelHello) {
                       deliver(*r.message, 2, tcpGuard, remoteOf(*c));
                     }
                     readLoop(c);
                   });
}

void PeerLink::Impl::channelLost(const ChannelPtr& c, const std::string& why) {
  {
    std::lock_guard lock(writeMutex);
    channel.reset();
  }
  boost::system::error_code ec;
  c->socket.close(ec);
  ++counters.channelDowns;
  RMHA_LOG(Info, "peer", "channel down: {}", why);
  if (c->frames && sink) {
    sink->onChannelClosed();
  }
  events->onPeerChannel(false);
  scheduleReconnect();
}

} // namespace rmha::failover
