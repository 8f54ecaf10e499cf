// The peer link on Asio: start and stop, the UDP heartbeat paths, and the PeerLink calls.
//
//   node (member 1)                                   node (member 2)
//   UDP member.1:9801  <---- heartbeats, both ways ---->  UDP member.2:9801
//   UDP alt-member.1   <---- the same on the 2nd path -->  UDP alt-member.2
//   TCP member.1:9801  <---- one channel, member 2 connects; each side sends a signed hello
//                            first; EOF on it = the peer's process is gone; after the
//                            hellos, authenticated channel frames (the replication stream)
//
// The TCP channel is in channel.cc. Frames that fail any check are counted per reason
// and logged at most once per 10 s per reason.
#include <fcntl.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <unistd.h>

#include "core/log.h"
#include "failover/peer/link_impl.h"

namespace rmha::failover {

void PeerLink::Impl::moveToHighFd(Channel& c) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur < 64) {
    return;
  }
  boost::system::error_code ec;
  const auto protocol = c.socket.local_endpoint(ec).protocol();
  if (ec) {
    return;
  }
  const int want = static_cast<int>(std::min<rlim_t>(lim.rlim_cur, 65536) - 8);
  const int high = ::fcntl(c.socket.native_handle(), F_DUPFD_CLOEXEC, want);
  if (high < 0) {
    return;
  }
  const int fd = c.socket.release(ec);
  if (ec) {
    ::close(high);
    return;
  }
  ::close(fd);
  c.socket.assign(protocol, high, ec);
}

core::Result<> PeerLink::Impl::bindPath(const core::HostPort& local, const core::HostPort& peer,
                                        int index) {
  auto p = std::make_unique<Path>(io);
  p->index = index;
  boost::system::error_code ec;
  const udp::endpoint ep(toAddress(local), local.port);
  p->socket.open(ep.protocol(), ec);
  if (!ec) {
    p->socket.set_option(udp::socket::reuse_address(true), ec);
  }
  if (!ec) {
    p->socket.bind(ep, ec);
  }
  if (ec) {
    return core::fail(std::make_error_code(static_cast<std::errc>(ec.value())),
                      fmt::format("udp {}: {}", local.str(), ec.message()));
  }
  // Heartbeats are network control traffic (DSCP CS6), ahead of bulk traffic in queues.
  const int tos = IPTOS_PREC_INTERNETCONTROL;
  if (!local.v6) {
    ::setsockopt(p->socket.native_handle(), IPPROTO_IP, IP_TOS, &tos, sizeof tos);
  }
  p->socket.non_blocking(true, ec);
  p->peer = udp::endpoint(toAddress(peer), peer.port);
  paths.push_back(std::move(p));
  receive(*paths.back());
  return {};
}

core::Result<> PeerLink::Impl::start(PeerEvents& e) {
  events = &e;
  if (auto r = bindPath(opt.local, opt.peer, 0); !r) {
    return r;
  }
  if (opt.localAlt && opt.peerAlt) {
    if (auto r = bindPath(*opt.localAlt, *opt.peerAlt, 1); !r) {
      return r;
    }
  }
  if (!connector()) {
    boost::system::error_code ec;
    const tcp::endpoint ep(toAddress(opt.local), opt.local.port);
    acceptor.open(ep.protocol(), ec);
    if (!ec) {
      acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    }
    if (!ec) {
      acceptor.bind(ep, ec);
    }
    if (!ec) {
      acceptor.listen(4, ec);
    }
    if (ec) {
      return core::fail(std::make_error_code(static_cast<std::errc>(ec.value())),
                        fmt::format("tcp {}: {}", opt.local.str(), ec.message()));
    }
    accept();
  } else {
    connect();
  }
  return {};
}

void PeerLink::Impl::stop() {
  stopped = true;
  boost::system::error_code ec;
  for (auto& p : paths) {
    p->socket.close(ec);
  }
  acceptor.close(ec);
  reconnectTimer.cancel();
  ChannelPtr established;
  {
    std::lock_guard lock(writeMutex);
    established = std::move(channel);
    channel.reset();
  }
  for (auto* c : {&established, &connecting}) {
    if (*c) {
      (*c)->socket.close(ec);
      (*c)->helloTimer.cancel();
      c->reset();
    }
  }
}

void PeerLink::Impl::countDrop(PeerDrop d, const std::string& from) {
  const auto i = static_cast<std::size_t>(d);
  ++counters.dropped[i];
  ++dropsSinceLog[i];
  const auto now = time.monotonicTime();
  if (lastDropLog[i] == core::MonotonicTime{} || now - lastDropLog[i] >= kDropLogEvery) {
    RMHA_LOG(Warn, "peer", "dropped {} peer frame(s) from {}: {} (logged at most every 10 s)",
             dropsSinceLog[i], from, toString(d));
    lastDropLog[i] = now;
    dropsSinceLog[i] = 0;
  }
}

PeerFrame PeerLink::Impl::frame(PeerMessage m) {
  m.member = static_cast<std::uint8_t>(opt.localMember);
  m.epoch = epoch;
  m.seq = ++seq;
  return encodePeerMessage(m, opt.key);
}

void PeerLink::Impl::send(const PeerMessage& m) {
  for (auto& p : paths) {
    // Each path gets its own sequence number, so the copy on the other path is not a replay.
    const auto f = frame(m);
    boost::system::error_code ec;
    p->socket.send_to(asio::buffer(f), p->peer, 0, ec);
    if (ec) {
      ++counters.sendErrors;
    } else {
      ++counters.sent;
    }
  }
}

void PeerLink::Impl::receive(Path& p) {
  p.socket.async_receive_from(
      asio::buffer(p.buf), p.from, [this, &p](const boost::system::error_code& ec, std::size_t n) {
        if (stopped || ec == asio::error::operation_aborted) {
          return;
        }
        if (!ec) {
          onDatagram(p, n);
        }
        receive(p);
      });
}

void PeerLink::Impl::onDatagram(Path& p, std::size_t n) {
  const auto from = fmt::format("{}:{}", p.from.address().to_string(), p.from.port());
  if (p.from != p.peer) {
    countDrop(PeerDrop::WrongSender, from);
    return;
  }
  // A datagram that filled the buffer was larger than any frame: oversized, not truncated.
  const auto r = decodePeerMessage(std::span(p.buf.data(), n), opt.key);
  if (!r.message) {
    countDrop(r.drop, from);
    return;
  }
  deliver(*r.message, p.index, udpGuard, from);
}

void PeerLink::Impl::deliver(const PeerMessage& m, int path, ReplayGuard& guard, const std::string& from) {
  if (m.member == opt.localMember) {
    countDrop(PeerDrop::WrongSender, from);
    return;
  }
  PeerDrop why{};
  if (!guard.accept(m.epoch, m.seq, time.monotonicTime(), why)) {
    countDrop(why, from);
    return;
  }
  ++counters.received;
  events->onPeerMessage(m, path);
}

PeerLink::PeerLink(asio::io_context& io, PeerLinkOptions options, const core::TimeSource& time)
    : impl_(std::make_unique<Impl>(io, std::move(options), time)) {}

PeerLink::~PeerLink() {
  if (impl_) {
    impl_->stop();
  }
}

core::Result<> PeerLink::start(PeerEvents& events) {
  return impl_->start(events);
}
void PeerLink::stop() { impl_->stop(); }
void PeerLink::send(PeerMessage m) { impl_->send(m); }
bool PeerLink::channelUp() const { return impl_->channel != nullptr; }
PeerLinkCounters PeerLink::counters() const {
  std::lock_guard lock(impl_->writeMutex);
  return impl_->counters;
}
void PeerLink::setChannelSink(ChannelSink* sink) { impl_->sink = sink; }
bool PeerLink::channelReady() const {
  std::lock_guard lock(impl_->writeMutex);
  return impl_->channel && impl_->channel->frames;
}
bool PeerLink::sendPayload(std::span<const std::uint8_t> payload) {
  return impl_->sendPayload(payload);
}
std::size_t PeerLink::pendingBytes() const {
  std::lock_guard lock(impl_->writeMutex);
  return impl_->channel ? impl_->channel->pending : 0;
}

} // namespace rmha::failover
