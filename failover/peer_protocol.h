#pragma once
// The peer-link message: a fixed 72-byte frame authenticated with HMAC-SHA256, and the
// replay guard. Pure: no sockets, no clock reads.
//
//   0  magic "RMHA"          4   version (1)     5  kind        6  sender member   7  state
//   8  priority              9   flags           10 reserved(2) 12 handover id (u32)
//   16 epoch (u64)           24  sequence (u64)  32 sessions (u64)
//   40 HMAC-SHA256 over bytes 0..39 (32 bytes)
// All integers big-endian. `epoch` is the sender's start time in ns: a restarted sender has a
// higher epoch, so frames of an earlier run are stale.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/time_source.h"
#include "failover/ha_state.h"

namespace rmha::failover {

inline constexpr std::size_t kPeerFrameSize = 72;
inline constexpr std::uint8_t kPeerProtocolVersion = 1;

enum PeerFlags : std::uint8_t {
  kFlagFit = 1 << 0,
  kFlagYielding = 1 << 1,
  kFlagMaintenance = 1 << 2,
};

struct PeerMessage {
  PeerMsgKind kind = PeerMsgKind::Heartbeat;
  std::uint8_t member = 0;
  HaState state = HaState::Init;
  std::uint8_t priority = 0;
  std::uint8_t flags = 0;
  std::uint32_t handoverId = 0;
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;
  std::uint64_t sessions = 0;
};

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

} // namespace rmha::failover
