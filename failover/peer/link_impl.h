#pragma once
// The peer link's implementation, shared by link.cc (start, stop, the UDP heartbeat
// paths) and channel.cc (the TCP channel: hellos, frames, the replication payloads);
// private to those two files. See link.cc for the picture.
//
// Every handler runs on the HA thread, except sendPayload: the SIP thread streams its
// session changes itself, so the channel's write side (the established channel, its queue,
// frame sequence and MAC context) is shared under `writeMutex`.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "failover/peer/link.h"

namespace rmha::failover {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

inline constexpr auto kDropLogEvery = std::chrono::seconds(10);

inline asio::ip::address toAddress(const core::HostPort& hp) {
  return asio::ip::make_address(hp.ip);
}

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
  static void moveToHighFd(Channel& c);
  core::Result<> bindPath(const core::HostPort& local, const core::HostPort& peer, int index);
  core::Result<> start(PeerEvents& e);
  void stop();
  void countDrop(PeerDrop d, const std::string& from);
  PeerFrame frame(PeerMessage m);
  void send(const PeerMessage& m);
  void receive(Path& p);
  void onDatagram(Path& p, std::size_t n);
  void deliver(const PeerMessage& m, int path, ReplayGuard& guard, const std::string& from);

  // --- TCP channel (channel.cc) ------------------------------------------------------------

  void accept();
  void connect();
  void dropAttempt(const ChannelPtr& c);
  void scheduleReconnect();
  void armHelloTimeout(const ChannelPtr& c);
  bool sendHello(Channel& c);
  void awaitHello(const ChannelPtr& c);
  bool helloOk(Channel& c);
  static std::string remoteOf(Channel& c);
  void establish(const ChannelPtr& c);

  // Channel frames: a 20-byte header, then the payload and its MAC.
  void readHeader(const ChannelPtr& c);
  void readBody(const ChannelPtr& c, ChannelHeader h);

  // Any thread. The frame goes to the socket at once unless frames are queued before it;
  // what the socket does not take at once (or an error, which the HA thread's write then
  // meets and closes the channel on) is queued for the HA thread.
  bool sendPayload(std::span<const std::uint8_t> payload);

  // HA thread, `c->writing` set: writes `out` until it is empty.
  void writeNext(const ChannelPtr& c);
  void readLoop(const ChannelPtr& c);
  void channelLost(const ChannelPtr& c, const std::string& why);
};

} // namespace rmha::failover
