// The peer link's TCP channel between two real PeerLinks on loopback, as the daemon uses it:
// the SIP thread writes replication payloads itself while the HA thread writes its own
// (acknowledgements, bulk copies). Every payload arrives once, intact and in its writer's
// order, including payloads larger than the socket takes at once (the HA thread finishes
// those).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "core/time_source.h"
#include "failover/peer/link.h"

namespace rmha::failover {
namespace {

using namespace std::chrono_literals;

std::uint16_t freePort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

class Events final : public PeerEvents {
public:
  void onPeerMessage(const PeerMessage&, int) override {}
  void onPeerChannel(bool) override {}
};

class Sink final : public ChannelSink {
public:
  void onChannelOpen() override { open = true; }
  void onChannelClosed() override { open = false; }
  void onChannelPayload(std::span<const std::uint8_t> p) override {
    payloads.emplace_back(p.begin(), p.end());
  }
  bool open = false;
  std::vector<std::vector<std::uint8_t>> payloads;
};

// writer tag, index, then bytes that depend on both: a payload cut, mixed or repeated shows.
std::vector<std::uint8_t> payload(std::uint8_t writer, std::uint32_t index, std::size_t size) {
  std::vector<std::uint8_t> p(size);
  p[0] = writer;
  for (int i = 0; i < 4; ++i) {
    p[1 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(index >> (8 * (3 - i)));
  }
  for (std::size_t i = 5; i < size; ++i) {
    p[i] = static_cast<std::uint8_t>(i * 31 + index * 7 + writer);
  }
  return p;
}

PeerLinkOptions options(int member, std::uint16_t mine, std::uint16_t theirs) {
  PeerLinkOptions o;
  o.localMember = member;
  o.local = {"127.0.0.1", mine, false};
  o.peer = {"127.0.0.1", theirs, false};
  o.key = "peer-channel-test-key-0123456789";
  return o;
}

TEST(PeerChannel, PayloadsFromTwoThreadsArriveIntactAndInOrder) {
  boost::asio::io_context io; // the HA thread: this one
  core::RealTimeSource time;
  const auto p1 = freePort();
  const auto p2 = freePort();
  PeerLink one(io, options(1, p1, p2), time);
  PeerLink two(io, options(2, p2, p1), time);
  Events e1;
  Events e2;
  Sink s1;
  Sink s2;
  one.setChannelSink(&s1);
  two.setChannelSink(&s2);
  const auto r1 = one.start(e1);
  ASSERT_TRUE(r1) << r1.error();
  const auto r2 = two.start(e2);
  ASSERT_TRUE(r2) << r2.error();
  auto runUntil = [&io](auto done, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.run_for(1ms);
    }
    return done();
  };
  ASSERT_TRUE(runUntil([&] { return s1.open && s2.open; }, 10s)) << "the channel never came up";

  // The second thread writes many small payloads while this one writes its own and runs
  // both ends; then larger ones while nobody reads (this thread waits for it), so that the
  // socket refuses most of them and the HA thread must finish the writes.
  constexpr std::uint32_t kSmall = 2000;
  constexpr std::uint32_t kLarge = 12;
  constexpr std::size_t kLargeSize = 512 * 1024;
  constexpr std::uint32_t kHa = 300;
  std::atomic<int> refused{0};
  auto send = [&](std::uint32_t from, std::uint32_t to) {
    for (std::uint32_t i = from; i < to; ++i) {
      if (!one.sendPayload(payload('S', i, i < kSmall ? 120 : kLargeSize))) {
        ++refused;
      }
    }
  };
  std::thread small([&] { send(0, kSmall); });
  for (std::uint32_t i = 0; i < kHa; ++i) {
    if (!one.sendPayload(payload('H', i, 60))) {
      ++refused;
    }
    io.run_for(100us);
  }
  small.join();
  std::thread large([&] { send(kSmall, kSmall + kLarge); });
  large.join();
  EXPECT_GT(one.pendingBytes(), 0u); // queued: the socket did not take it all at once
  const auto total = kSmall + kLarge + kHa;
  ASSERT_TRUE(runUntil([&] { return s2.payloads.size() >= total; }, 30s))
      << s2.payloads.size() << " of " << total << " payloads arrived";
  EXPECT_EQ(refused, 0);
  EXPECT_EQ(s2.payloads.size(), total);

  std::uint32_t nextS = 0;
  std::uint32_t nextH = 0;
  for (const auto& p : s2.payloads) {
    ASSERT_GE(p.size(), 5u);
    const std::uint32_t index = (std::uint32_t{p[1]} << 24) | (std::uint32_t{p[2]} << 16) |
                                (std::uint32_t{p[3]} << 8) | p[4];
    auto& next = p[0] == 'S' ? nextS : nextH;
    ASSERT_TRUE(p[0] == 'S' || p[0] == 'H');
    ASSERT_EQ(index, next) << "writer " << p[0];
    ++next;
    const auto size = p[0] == 'H' ? 60u : (index < kSmall ? 120u : kLargeSize);
    ASSERT_EQ(p, payload(p[0], index, size)) << "writer " << p[0] << " payload " << index;
  }
  EXPECT_EQ(nextS, kSmall + kLarge);
  EXPECT_EQ(nextH, kHa);
  EXPECT_EQ(one.pendingBytes(), 0u); // the HA thread finished what the socket refused at once
  EXPECT_EQ(two.counters().framesReceived, total);
  EXPECT_EQ(one.counters().framesSent, total);
  one.stop();
  two.stop();
}

} // namespace
} // namespace rmha::failover
