#include "failover/peer/protocol.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstring>

namespace rmha::failover {
namespace {

constexpr std::size_t kSignedSize = 40;
constexpr std::uint8_t kMagic[4] = {'R', 'M', 'H', 'A'};

void put(std::uint8_t* p, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v & 0xff);
    v >>= 8;
  }
}

std::uint64_t get(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v = (v << 8) | p[i];
  }
  return v;
}

void mac(const std::uint8_t* data, std::string_view key, std::uint8_t out[32]) {
  unsigned int len = 32;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data, kSignedSize, out, &len);
}

} // namespace

std::string_view toString(PeerDrop d) {
  switch (d) {
  case PeerDrop::Truncated: return "truncated";
  case PeerDrop::Oversized: return "oversized";
  case PeerDrop::BadMagic: return "bad-magic";
  case PeerDrop::BadVersion: return "bad-version";
  case PeerDrop::BadField: return "bad-field";
  case PeerDrop::BadAuth: return "bad-auth";
  case PeerDrop::Replayed: return "replayed";
  case PeerDrop::Stale: return "stale";
  case PeerDrop::WrongSender: return "wrong-sender";
  }
  return "unknown";
}

PeerFrame encodePeerMessage(const PeerMessage& m, std::string_view key) {
  PeerFrame f{};
  std::memcpy(f.data(), kMagic, 4);
  f[4] = kPeerProtocolVersion;
  f[5] = static_cast<std::uint8_t>(m.kind);
  f[6] = m.member;
  f[7] = static_cast<std::uint8_t>(m.state);
  f[8] = m.priority;
  f[9] = m.flags;
  f[10] = m.unfitCode;
  put(&f[12], m.handoverId, 4);
  put(&f[16], m.epoch, 8);
  put(&f[24], m.seq, 8);
  put(&f[32], m.sessions, 8);
  mac(f.data(), key, &f[kSignedSize]);
  return f;
}

DecodeResult decodePeerMessage(std::span<const std::uint8_t> b, std::string_view key) {
  DecodeResult r;
  if (b.size() < kPeerFrameSize) {
    r.drop = PeerDrop::Truncated;
    return r;
  }
  if (b.size() > kPeerFrameSize) {
    r.drop = PeerDrop::Oversized;
    return r;
  }
  if (std::memcmp(b.data(), kMagic, 4) != 0) {
    r.drop = PeerDrop::BadMagic;
    return r;
  }
  if (b[4] != kPeerProtocolVersion) {
    r.drop = PeerDrop::BadVersion;
    return r;
  }
  std::uint8_t expected[32];
  mac(b.data(), key, expected);
  if (CRYPTO_memcmp(expected, b.data() + kSignedSize, 32) != 0) {
    r.drop = PeerDrop::BadAuth;
    return r;
  }
  PeerMessage m;
  HaState state{};
  if (b[5] == 0 || b[5] > kMaxPeerMsgKind || (b[6] != 1 && b[6] != 2) ||
      !haStateFromByte(b[7], state) || b[11] != 0) {
    r.drop = PeerDrop::BadField;
    return r;
  }
  m.kind = static_cast<PeerMsgKind>(b[5]);
  m.member = b[6];
  m.state = state;
  m.priority = b[8];
  m.flags = b[9];
  m.unfitCode = b[10];
  m.handoverId = static_cast<std::uint32_t>(get(&b[12], 4));
  m.epoch = get(&b[16], 8);
  m.seq = get(&b[24], 8);
  m.sessions = get(&b[32], 8);
  r.message = m;
  return r;
}

bool ReplayGuard::accept(std::uint64_t epoch, std::uint64_t seq, core::MonotonicTime now,
                         PeerDrop& why) {
  if (!started_ || epoch > epoch_ ||
      (epoch < epoch_ && now - lastAccepted_ >= restartGrace_)) {
    started_ = true;
    epoch_ = epoch;
    highest_ = seq;
    window_ = 1;
    lastAccepted_ = now;
    return true;
  }
  if (epoch < epoch_) {
    why = PeerDrop::Stale;
    return false;
  }
  if (seq > highest_) {
    const auto shift = seq - highest_;
    window_ = shift >= 64 ? 1 : (window_ << shift) | 1;
    highest_ = seq;
    lastAccepted_ = now;
    return true;
  }
  const auto age = highest_ - seq;
  if (age >= 64) {
    why = PeerDrop::Stale;
    return false;
  }
  const auto bit = std::uint64_t{1} << age;
  if (window_ & bit) {
    why = PeerDrop::Replayed;
    return false;
  }
  window_ |= bit;
  lastAccepted_ = now;
  return true;
}

ChannelKey channelKey(std::string_view key, const PeerFrame& helloOf1, const PeerFrame& helloOf2) {
  constexpr std::string_view kLabel = "rmha-channel";
  std::array<std::uint8_t, kLabel.size() + 2 * kPeerFrameSize> input{};
  std::memcpy(input.data(), kLabel.data(), kLabel.size());
  std::memcpy(input.data() + kLabel.size(), helloOf1.data(), kPeerFrameSize);
  std::memcpy(input.data() + kLabel.size() + kPeerFrameSize, helloOf2.data(), kPeerFrameSize);
  ChannelKey out{};
  unsigned int len = 32;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), input.data(), input.size(),
       out.data(), &len);
  return out;
}

struct KeyedMac::Ctx {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* ctx = nullptr;
};

KeyedMac::KeyedMac(std::span<const std::uint8_t> key) : ctx_(new Ctx) {
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  ctx_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  ctx_->ctx = ctx_->mac ? EVP_MAC_CTX_new(ctx_->mac) : nullptr;
  if (ctx_->ctx && EVP_MAC_init(ctx_->ctx, key.data(), key.size(), params) != 1) {
    EVP_MAC_CTX_free(ctx_->ctx);
    ctx_->ctx = nullptr; // sign() then yields a MAC that never matches
  }
}

KeyedMac::~KeyedMac() {
  EVP_MAC_CTX_free(ctx_->ctx);
  EVP_MAC_free(ctx_->mac);
  delete ctx_;
}

void KeyedMac::sign(std::span<const std::uint8_t> data, std::uint8_t* out) {
  // Re-initialising without a key restarts the MAC under the key already set.
  std::size_t len = 0;
  if (ctx_->ctx == nullptr || EVP_MAC_init(ctx_->ctx, nullptr, 0, nullptr) != 1 ||
      EVP_MAC_update(ctx_->ctx, data.data(), data.size()) != 1 ||
      EVP_MAC_final(ctx_->ctx, out, &len, 32) != 1 || len != 32) {
    std::memset(out, 0, 32); // never matches a real MAC: the frame is refused
  }
}

void encodeChannelFrame(std::uint64_t seq, std::span<const std::uint8_t> payload, KeyedMac& mac,
                        std::vector<std::uint8_t>& f) {
  f.resize(kChannelHeaderSize + payload.size() + kChannelMacSize);
  std::fill_n(f.begin(), kChannelHeaderSize, std::uint8_t{0});
  std::memcpy(f.data(), "RMHC", 4);
  f[4] = kChannelFrameVersion;
  f[5] = kChannelPayload;
  put(&f[8], payload.size(), 4);
  put(&f[12], seq, 8);
  if (!payload.empty()) {
    std::memcpy(f.data() + kChannelHeaderSize, payload.data(), payload.size());
  }
  const auto signedSize = kChannelHeaderSize + payload.size();
  mac.sign(std::span(f.data(), signedSize), f.data() + signedSize);
}

std::optional<ChannelHeader> decodeChannelHeader(std::span<const std::uint8_t> h, PeerDrop& why) {
  if (h.size() < kChannelHeaderSize) {
    why = PeerDrop::Truncated;
    return std::nullopt;
  }
  if (std::memcmp(h.data(), "RMHC", 4) != 0) {
    why = PeerDrop::BadMagic;
    return std::nullopt;
  }
  if (h[4] != kChannelFrameVersion) {
    why = PeerDrop::BadVersion;
    return std::nullopt;
  }
  if (h[5] != kChannelPayload || h[6] != 0 || h[7] != 0) {
    why = PeerDrop::BadField;
    return std::nullopt;
  }
  ChannelHeader out;
  out.length = static_cast<std::uint32_t>(get(&h[8], 4));
  out.seq = get(&h[12], 8);
  if (out.length > kMaxChannelPayload) {
    why = PeerDrop::Oversized;
    return std::nullopt;
  }
  return out;
}

bool verifyChannelFrame(std::span<const std::uint8_t> frame, KeyedMac& mac) {
  if (frame.size() < kChannelHeaderSize + kChannelMacSize) {
    return false;
  }
  const auto signedSize = frame.size() - kChannelMacSize;
  std::uint8_t expected[32];
  mac.sign(frame.first(signedSize), expected);
  return CRYPTO_memcmp(expected, frame.data() + signedSize, 32) == 0;
}

} // namespace rmha::failover
