#pragma once
// The peer-link message: a fixed 72-byte frame authenticated with HMAC-SHA256, and the
// replay guard. Pure: no sockets, no clock reads.
//
//   0  magic "RMHA"          4   version (1)     5  kind        6  sender member   7  state
//   8  priority              9   flags           10 unfit code    11 reserved
//   12 handover id (u32)
//   16 epoch (u64)           24  sequence (u64)  32 sessions (u64)
//   40 HMAC-SHA256 over bytes 0..39 (32 bytes)
// All integers big-endian. `epoch` is the sender's start time in ns: a restarted sender has a
// higher epoch, so frames of an earlier run are stale. Byte 10 (reserved, 0, before the
// unfit code was added) says why a sender without kFlagFit is unfit (core::UnfitCode); a fit
// sender sends 0, so a fit node's frames are what they always were, and frames of earlier
// versions decode with code 0. (An earlier version refuses a frame whose byte 10 is not 0 as
// bad-field: it hears an unfit node of this version as silent, and takes over — the right
// outcome.) Byte 11 stays reserved: 0.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/time_source.h"
#include "failover/engine/peer_port.h"

namespace rmha::failover {

inline constexpr std::size_t kPeerFrameSize = 72;
inline constexpr std::uint8_t kPeerProtocolVersion = 1;

using PeerFrame = std::array<std::uint8_t, kPeerFrameSize>;

/// Why a frame was dropped; each has its own counter.
enum class PeerDrop : std::uint8_t {
  Truncated,
  Oversized,
  BadMagic,
  BadVersion,
  BadField,
  BadAuth,
  Replayed,
  Stale,
  WrongSender,
};
inline constexpr int kPeerDropCount = 9;
std::string_view toString(PeerDrop d);

/// Encodes and signs. `key` is the shared secret.
PeerFrame encodePeerMessage(const PeerMessage& m, std::string_view key);

struct DecodeResult {
  std::optional<PeerMessage> message;
  PeerDrop drop = PeerDrop::Truncated; ///< meaningful when !message
};

/// Checks size, magic, version, MAC (constant time) and fields. Does not check replay.
DecodeResult decodePeerMessage(std::span<const std::uint8_t> bytes, std::string_view key);

/// Anti-replay per sender: a 64-frame sliding window over sequence numbers within an epoch.
/// A higher epoch (a restarted sender) is accepted at once; a lower one only once the
/// current epoch has been silent for `restartGrace` (a sender whose clock went backwards).
class ReplayGuard {
public:
  explicit ReplayGuard(core::Duration restartGrace) : restartGrace_(restartGrace) {}
  /// True when (epoch, seq) is new; records it. Call only for authenticated frames.
  bool accept(std::uint64_t epoch, std::uint64_t seq, core::MonotonicTime now, PeerDrop& why);

private:
  core::Duration restartGrace_;
  bool started_ = false;
  std::uint64_t epoch_ = 0;
  std::uint64_t highest_ = 0;
  std::uint64_t window_ = 0; ///< bit i set: highest_ - i seen
  core::MonotonicTime lastAccepted_{};
};

// --- Channel frames: what the TCP channel carries after the two hellos ---------------------
//
//   0  magic "RMHC"   4 version (1)   5 type (1 = payload)   6 reserved(2)
//   8  payload length (u32)            12 sequence (u64: 1, 2, 3... per direction)
//   20 payload, then HMAC-SHA256 over bytes 0..20+length (32 bytes)
// The MAC key is derived per channel from the shared key and both hellos (channelKey()), so
// a frame recorded on one channel is refused on any other; the strict +1 sequence refuses a
// replayed or dropped frame within a channel.

inline constexpr std::size_t kChannelHeaderSize = 20;
inline constexpr std::size_t kChannelMacSize = 32;
inline constexpr std::uint8_t kChannelFrameVersion = 1;
inline constexpr std::uint8_t kChannelPayload = 1;
inline constexpr std::size_t kMaxChannelPayload = std::size_t{1} << 20;

using ChannelKey = std::array<std::uint8_t, 32>;

/// HMAC-SHA256 under one key, set once: each MAC then costs neither an algorithm lookup nor
/// a key schedule (a one-shot HMAC() pays both, several microseconds on a busy thread). One
/// per thread that signs or checks: not safe to share.
class KeyedMac {
public:
  explicit KeyedMac(std::span<const std::uint8_t> key);
  ~KeyedMac();
  KeyedMac(const KeyedMac&) = delete;
  KeyedMac& operator=(const KeyedMac&) = delete;
  /// HMAC-SHA256(key, data) into `out` (32 bytes).
  void sign(std::span<const std::uint8_t> data, std::uint8_t* out);

private:
  struct Ctx;
  Ctx* ctx_;
};

/// The per-channel MAC key: HMAC-SHA256(key, "rmha-channel" | hello of member 1 | hello of
/// member 2).
ChannelKey channelKey(std::string_view key, const PeerFrame& helloOf1, const PeerFrame& helloOf2);

/// A whole frame (header, payload, MAC under the channel key held by `mac`) into `out`
/// (replacing what it held; its capacity is reused).
void encodeChannelFrame(std::uint64_t seq, std::span<const std::uint8_t> payload, KeyedMac& mac,
                        std::vector<std::uint8_t>& out);
inline std::vector<std::uint8_t> encodeChannelFrame(std::uint64_t seq,
                                                    std::span<const std::uint8_t> payload,
                                                    KeyedMac& mac) {
  std::vector<std::uint8_t> out;
  encodeChannelFrame(seq, payload, mac, out);
  return out;
}

struct ChannelHeader {
  std::uint32_t length = 0;
  std::uint64_t seq = 0;
};

/// Checks magic, version, type and the length bound of a header; `why` says what failed.
std::optional<ChannelHeader> decodeChannelHeader(std::span<const std::uint8_t> header,
                                                 PeerDrop& why);

/// Checks the MAC of a whole frame (header + payload + MAC), in constant time.
bool verifyChannelFrame(std::span<const std::uint8_t> frame, KeyedMac& mac);

} // namespace rmha::failover
