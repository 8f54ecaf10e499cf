// The peer link on Asio.
//
//   node (member 1)                                   node (member 2)
//   UDP member.1:9801  <---- heartbeats, both ways ---->  UDP member.2:9801
//   UDP alt-member.1   <---- the same on the 2nd path -->  UDP alt-member.2
//   TCP member.1:9801  <---- one channel, member 2 connects; each side sends a signed hello
//                            first; EOF on it = the peer's process is gone; after the
//                            hellos, authenticated channel frames (the replication stream)
//
// Every handler runs on the HA thread. Frames that fail any check are counted per reason and
// logged at most once per 10 s per reason. sendPayload is the exception: the SIP thread
// streams its session changes itself, so the channel's write side (the established channel,
// its queue and frame sequence) is shared under `writeMutex`.
#include "failover/peer_link.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <mutex>
#include <vector>

#include "core/log.h"

namespace rmha::failover {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

namespace {

constexpr auto kDropLogEvery = std::chrono::seconds(10);

asio::ip::address toAddress(const core::HostPort& hp) { return asio::ip::make_address(hp.ip); }

} // namespace

struct Channel {
  explicit Channel(asio::io_context& io) : socket(io), helloTimer(io) {}
  tcp::socket socket;
  asio::steady_timer helloTimer;
  PeerFrame buf{};
  bool up = false;
  PeerFrame myHello{};
  PeerFrame peerHello{};
  bool frames = false;            ///< both sides speak channel frames
  std::unique_ptr<KeyedMac> sendMac;  ///< under the channel key; used under writeMutex
  std::vector<std::uint8_t> frame;    ///< the frame being sent (under writeMutex)
  std::unique_ptr<KeyedMac> recvMac;  ///< HA thread
  std::uint64_t sendSeq = 0;
  std::uint64_t recvSeq = 0;
  std::vector<std::uint8_t> in;   ///< the frame being read
  // Write side, under PeerLink::Impl::writeMutex once the channel is established.
  std::deque<std::vector<std::uint8_t>> out;  ///< frames (the first maybe partly written)
  std::size_t pending = 0;
  bool writing = false;  ///< the HA thread writes `out`: nobody else writes the socket
};
using ChannelPtr = std::shared_ptr<Channel>;

struct PeerLink::Impl {
  Impl(asio::io_context& ctx, PeerLinkOptions o, const core::TimeSource& t)
      : io(ctx), opt(std::move(o)), time(t), udpGuard(opt.restartGrace),
        tcpGuard(opt.restartGrace), acceptor(ctx), reconnectTimer(ctx) {
    epoch = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(time.systemTime().time_since_epoch())
            .count());
  }

  struct Path {
    explicit Path(asio::io_context& ctx) : socket(ctx) {}
    udp::socket socket;
    udp::endpoint peer;
    udp::endpoint from;
    std::array<std::uint8_t, 2048> buf{};
    int index = 0;
  };

  asio::io_context& io;
  PeerLinkOptions opt;
  const core::TimeSource& time;
  PeerEvents* events = nullptr;
  ChannelSink* sink = nullptr;
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;
  PeerLinkCounters counters;
  ReplayGuard udpGuard;
  ReplayGuard tcpGuard;
  std::vector<std::unique_ptr<Path>> paths;
  tcp::acceptor acceptor;
  ChannelPtr channel;      ///< the established channel (changed under writeMutex)
  mutable std::mutex writeMutex;
  ChannelPtr connecting;   ///< member 2: the attempt in progress
  asio::steady_timer reconnectTimer;
  bool stopped = false;
  std::array<core::MonotonicTime, kPeerDropCount> lastDropLog{};
  std::array<std::uint64_t, kPeerDropCount> dropsSinceLog{};

  bool connector() const { return opt.localMember == 2; }

  // When a process dies, the kernel releases its files last-closed-first, and releasing a
  // packet socket (the ARP capture) waits for an RCU grace period: milliseconds. The channel
  // socket is what tells the peer we died, so it is moved to a descriptor above every other,
  // and its FIN leaves first.
  static void moveToHighFd(Channel& c) {
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

  std::error_code bindPath(const core::HostPort& local, const core::HostPort& peer, int index,
                           std::string& what) {
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
      what = fmt::format("udp {}: {}", local.str(), ec.message());
      return std::make_error_code(static_cast<std::errc>(ec.value()));
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

  std::error_code start(PeerEvents& e, std::string& what) {
    events = &e;
    if (auto ec = bindPath(opt.local, opt.peer, 0, what)) {
      return ec;
    }
    if (opt.localAlt && opt.peerAlt) {
      if (auto ec = bindPath(*opt.localAlt, *opt.peerAlt, 1, what)) {
        return ec;
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
        what = fmt::format("tcp {}: {}", opt.local.str(), ec.message());
        return std::make_error_code(static_cast<std::errc>(ec.value()));
      }
      accept();
    } else {
      connect();
    }
    return {};
  }

  void stop() {
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

  void countDrop(PeerDrop d, const std::string& from) {
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

  PeerFrame frame(PeerMessage m) {
    m.member = static_cast<std::uint8_t>(opt.localMember);
    m.epoch = epoch;
    m.seq = ++seq;
    return encodePeerMessage(m, opt.key);
  }

  void send(const PeerMessage& m) {
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

  void receive(Path& p) {
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

  void onDatagram(Path& p, std::size_t n) {
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

  void deliver(const PeerMessage& m, int path, ReplayGuard& guard, const std::string& from) {
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

  // --- TCP channel -----------------------------------------------------------------------

  void accept() {
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

  void connect() {
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

  void dropAttempt(const ChannelPtr& c) {
    boost::system::error_code ec;
    c->socket.close(ec);
    c->helloTimer.cancel();
    if (connecting == c) {
      connecting.reset();
      scheduleReconnect();
    }
  }

  void scheduleReconnect() {
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

  void armHelloTimeout(const ChannelPtr& c) {
    c->helloTimer.expires_after(opt.helloTimeout);
    c->helloTimer.async_wait([c](const boost::system::error_code& ec) {
      if (!ec && !c->up) {
        boost::system::error_code ignored;
        c->socket.close(ignored); // completes the pending read/connect with an error
      }
    });
  }

  bool sendHello(Channel& c) {
    PeerMessage m;
    m.kind = PeerMsgKind::ChannelHello;
    m.flags = kFlagChannelFrames;
    c.myHello = frame(m);
    boost::system::error_code ec;
    asio::write(c.socket, asio::buffer(c.myHello), ec);
    return !ec;
  }

  void awaitHello(const ChannelPtr& c) {
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

  bool helloOk(Channel& c) {
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

  static std::string remoteOf(Channel& c) {
    boost::system::error_code ec;
    const auto ep = c.socket.remote_endpoint(ec);
    return ec ? std::string("?") : fmt::format("{}:{}", ep.address().to_string(), ep.port());
  }

  void establish(const ChannelPtr& c) {
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

  // Channel frames: a 20-byte header, then the payload and its MAC.
  void readHeader(const ChannelPtr& c) {
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

  void readBody(const ChannelPtr& c, ChannelHeader h) {
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

  // Any thread. The frame goes to the socket at once unless frames are queued before it;
  // what the socket does not take at once (or an error, which the HA thread's write then
  // meets and closes the channel on) is queued for the HA thread.
  bool sendPayload(std::span<const std::uint8_t> payload) {
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

  // HA thread, `c->writing` set: writes `out` until it is empty.
  void writeNext(const ChannelPtr& c) {
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

  void readLoop(const ChannelPtr& c) {
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

  void channelLost(const ChannelPtr& c, const std::string& why) {
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
};

PeerLink::PeerLink(asio::io_context& io, PeerLinkOptions options, const core::TimeSource& time)
    : impl_(std::make_unique<Impl>(io, std::move(options), time)) {}

PeerLink::~PeerLink() {
  if (impl_) {
    impl_->stop();
  }
}

std::error_code PeerLink::start(PeerEvents& events, std::string& what) {
  return impl_->start(events, what);
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
