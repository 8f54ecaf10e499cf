// Peer-link frames: round trip, forgery, truncation, oversize, bad fields, replay; channel
// frames and their keyed MAC.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>
#include <vector>

#include "failover/peer/protocol.h"

namespace rmha::failover {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kKey = "0123456789abcdef-shared-key";

PeerMessage sample() {
  PeerMessage m;
  m.kind = PeerMsgKind::HandoverRequest;
  m.member = 2;
  m.state = HaState::Active;
  m.priority = 150;
  m.flags = kFlagFit | kFlagYielding;
  m.handoverId = 0x02000011;
  m.epoch = 1'700'000'000'000'000'000ULL;
  m.seq = 42;
  m.sessions = 12345;
  return m;
}

TEST(PeerProtocol, RoundTrip) {
  const auto f = encodePeerMessage(sample(), kKey);
  const auto r = decodePeerMessage(f, kKey);
  ASSERT_TRUE(r.message);
  EXPECT_EQ(r.message->kind, PeerMsgKind::HandoverRequest);
  EXPECT_EQ(r.message->member, 2);
  EXPECT_EQ(r.message->state, HaState::Active);
  EXPECT_EQ(r.message->priority, 150);
  EXPECT_EQ(r.message->flags, kFlagFit | kFlagYielding);
  EXPECT_EQ(r.message->handoverId, 0x02000011u);
  EXPECT_EQ(r.message->epoch, sample().epoch);
  EXPECT_EQ(r.message->seq, 42u);
  EXPECT_EQ(r.message->sessions, 12345u);
}

TEST(PeerProtocol, GoldenHeaderBytes) {
  const auto f = encodePeerMessage(sample(), kKey);
  const std::vector<std::uint8_t> head(f.begin(), f.begin() + 16);
  const std::vector<std::uint8_t> want = {'R', 'M', 'H', 'A', 1, 2, 2, 5,
                                          150, 3,   0,   0,   2, 0, 0, 0x11};
  EXPECT_EQ(head, want);
}

TEST(PeerProtocol, EveryFlippedBitIsRejected) {
  const auto good = encodePeerMessage(sample(), kKey);
  for (std::size_t byte = 0; byte < good.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      auto f = good;
      f[byte] ^= static_cast<std::uint8_t>(1 << bit);
      EXPECT_FALSE(decodePeerMessage(f, kKey).message) << "byte " << byte << " bit " << bit;
    }
  }
}

TEST(PeerProtocol, WrongKeyIsForgery) {
  const auto f = encodePeerMessage(sample(), "another-key-of-sixteen+");
  const auto r = decodePeerMessage(f, kKey);
  EXPECT_FALSE(r.message);
  EXPECT_EQ(r.drop, PeerDrop::BadAuth);
}

TEST(PeerProtocol, TruncatedAtEveryLength) {
  const auto f = encodePeerMessage(sample(), kKey);
  for (std::size_t n = 0; n < f.size(); ++n) {
    const auto r = decodePeerMessage(std::span(f.data(), n), kKey);
    EXPECT_FALSE(r.message);
    EXPECT_EQ(r.drop, PeerDrop::Truncated) << n;
  }
}

TEST(PeerProtocol, Oversized) {
  const auto f = encodePeerMessage(sample(), kKey);
  std::vector<std::uint8_t> big(f.begin(), f.end());
  big.resize(65507, 0xee);
  const auto r = decodePeerMessage(big, kKey);
  EXPECT_EQ(r.drop, PeerDrop::Oversized);
  big.resize(kPeerFrameSize + 1);
  EXPECT_EQ(decodePeerMessage(big, kKey).drop, PeerDrop::Oversized);
}

TEST(PeerProtocol, BadMagicAndVersionAreNamed) {
  auto f = encodePeerMessage(sample(), kKey);
  f[0] = 'X';
  EXPECT_EQ(decodePeerMessage(f, kKey).drop, PeerDrop::BadMagic);
  f = encodePeerMessage(sample(), kKey);
  f[4] = 9;
  EXPECT_EQ(decodePeerMessage(f, kKey).drop, PeerDrop::BadVersion);
}

TEST(PeerProtocol, AuthenticatedButNonsenseFieldsAreRejected) {
  auto m = sample();
  m.state = static_cast<HaState>(77);
  EXPECT_EQ(decodePeerMessage(encodePeerMessage(m, kKey), kKey).drop, PeerDrop::BadField);
  m = sample();
  m.member = 3;
  EXPECT_EQ(decodePeerMessage(encodePeerMessage(m, kKey), kKey).drop, PeerDrop::BadField);
  m = sample();
  m.kind = static_cast<PeerMsgKind>(0);
  EXPECT_EQ(decodePeerMessage(encodePeerMessage(m, kKey), kKey).drop, PeerDrop::BadField);
}

// Byte 10 carries why an unfit sender is unfit; byte 11 stays reserved.
TEST(PeerProtocol, UnfitCodeRoundTrip) {
  auto m = sample();
  m.flags = kFlagClaimFailed;
  m.unfitCode = 3;  // core::UnfitCode::NoCapNetAdmin
  const auto f = encodePeerMessage(m, kKey);
  EXPECT_EQ(f[10], 3);
  EXPECT_EQ(f[11], 0);
  const auto r = decodePeerMessage(f, kKey);
  ASSERT_TRUE(r.message);
  EXPECT_EQ(r.message->unfitCode, 3);
  EXPECT_EQ(r.message->flags, kFlagClaimFailed);
  m.unfitCode = 200;  // a code of a later version: decodes, shown as an unknown reason
  EXPECT_EQ(decodePeerMessage(encodePeerMessage(m, kKey), kKey).message->unfitCode, 200);
}

TEST(PeerProtocol, AFrameOfAnEarlierVersionDecodesWithNoUnfitCode) {
  // Before the code, bytes 10-11 were reserved and 0: such a frame is what a fit node sends.
  auto m = sample();
  m.unfitCode = 0;
  const auto f = encodePeerMessage(m, kKey);
  EXPECT_EQ(f[10], 0);
  const auto r = decodePeerMessage(f, kKey);
  ASSERT_TRUE(r.message);
  EXPECT_EQ(r.message->unfitCode, 0);
}

TEST(PeerProtocol, ByteElevenIsStillReserved) {
  auto f = encodePeerMessage(sample(), kKey);
  f[11] = 1;
  unsigned int len = 32;
  HMAC(EVP_sha256(), kKey.data(), static_cast<int>(kKey.size()), f.data(), 40, &f[40], &len);
  EXPECT_EQ(decodePeerMessage(f, kKey).drop, PeerDrop::BadField);
}

TEST(ReplayGuard, RejectsReplayAcceptsReorderWithinWindow) {
  ReplayGuard g(60ms);
  const auto t = core::MonotonicTime{} + 1h;
  PeerDrop why{};
  EXPECT_TRUE(g.accept(100, 10, t, why));
  EXPECT_FALSE(g.accept(100, 10, t, why));
  EXPECT_EQ(why, PeerDrop::Replayed);
  EXPECT_TRUE(g.accept(100, 12, t, why));
  EXPECT_TRUE(g.accept(100, 11, t, why)); // late but new
  EXPECT_FALSE(g.accept(100, 11, t, why));
  EXPECT_TRUE(g.accept(100, 200, t, why));
  EXPECT_FALSE(g.accept(100, 12, t, why)); // fell out of the window
  EXPECT_EQ(why, PeerDrop::Stale);
}

TEST(ReplayGuard, RestartedSenderWithHigherEpochIsAcceptedAtOnce) {
  ReplayGuard g(60ms);
  const auto t = core::MonotonicTime{} + 1h;
  PeerDrop why{};
  EXPECT_TRUE(g.accept(100, 5000, t, why));
  EXPECT_TRUE(g.accept(200, 1, t, why));
  EXPECT_FALSE(g.accept(100, 5001, t, why)); // the old run is stale now
  EXPECT_EQ(why, PeerDrop::Stale);
}

TEST(ReplayGuard, LowerEpochOnlyAfterTheCurrentOneFellSilent) {
  ReplayGuard g(60ms);
  auto t = core::MonotonicTime{} + 1h;
  PeerDrop why{};
  EXPECT_TRUE(g.accept(200, 1, t, why));
  EXPECT_FALSE(g.accept(100, 1, t + 10ms, why));
  EXPECT_TRUE(g.accept(100, 2, t + 70ms, why));
}

TEST(KeyedMac, EqualsAOneShotHmacEveryTime) {
  const ChannelKey key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                       17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
  KeyedMac mac(key);
  for (std::size_t n : {0u, 1u, 55u, 64u, 65u, 1000u, 70000u}) {
    std::vector<std::uint8_t> data(n);
    for (std::size_t i = 0; i < n; ++i) {
      data[i] = static_cast<std::uint8_t>(i * 7 + n);
    }
    std::uint8_t want[32];
    unsigned int len = 32;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), want,
         &len);
    for (int again = 0; again < 2; ++again) { // the key survives each use
      std::uint8_t got[32];
      mac.sign(data, got);
      EXPECT_EQ(0, std::memcmp(want, got, 32)) << n << " bytes, use " << again;
    }
  }
}

TEST(ChannelFrame, RoundTripAndEveryFlippedBitIsRefused) {
  const auto key = channelKey(kKey, encodePeerMessage(sample(), kKey), encodePeerMessage(sample(), kKey));
  KeyedMac sender(key);
  KeyedMac receiver(key);
  const std::vector<std::uint8_t> payload{'r', 'e', 'c', 'o', 'r', 'd'};
  const auto f = encodeChannelFrame(7, payload, sender);
  ASSERT_EQ(f.size(), kChannelHeaderSize + payload.size() + kChannelMacSize);
  PeerDrop why{};
  const auto h = decodeChannelHeader(std::span(f).first(kChannelHeaderSize), why);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->seq, 7u);
  EXPECT_EQ(h->length, payload.size());
  EXPECT_TRUE(verifyChannelFrame(f, receiver));
  for (std::size_t bit = 0; bit < f.size() * 8; ++bit) {
    auto bad = f;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(verifyChannelFrame(bad, receiver)) << "bit " << bit;
  }
  KeyedMac other(channelKey("another-key-entirely", encodePeerMessage(sample(), kKey),
                            encodePeerMessage(sample(), kKey)));
  EXPECT_FALSE(verifyChannelFrame(f, other));
  EXPECT_TRUE(verifyChannelFrame(f, receiver)); // still keyed after the refusals
}

} // namespace
} // namespace rmha::failover
