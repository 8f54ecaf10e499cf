#pragma once
// What the HA engine needs from a peer link, declared by the engine: the decoded message, the
// events a link delivers and the sending side. failover/peer implements it (the wire format,
// authentication, sockets); unit tests use fakes.
#include <cstdint>

#include "failover/engine/state.h"

namespace rmha::failover {

enum PeerFlags : std::uint8_t {
  kFlagFit = 1 << 0,
  kFlagYielding = 1 << 1,
  kFlagMaintenance = 1 << 2,
  /// In a channel hello: the sender speaks channel frames (below) after the hello. A peer
  /// without it gets no replication, so a pair can be upgraded one node at a time.
  kFlagChannelFrames = 1 << 3,
  /// The sender's last claim failed (none succeeded since): it does not win an election
  /// against a fit peer whose last claim did not fail.
  kFlagClaimFailed = 1 << 4,
};

struct PeerMessage {
  PeerMsgKind kind = PeerMsgKind::Heartbeat;
  std::uint8_t member = 0;
  HaState state = HaState::Init;
  std::uint8_t priority = 0;
  std::uint8_t flags = 0;
  std::uint8_t unfitCode = 0;   ///< core::UnfitCode when !(flags & kFlagFit); any value decodes
  std::uint32_t handoverId = 0;
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;
  std::uint64_t sessions = 0;
};

class PeerEvents {
public:
  virtual ~PeerEvents() = default;
  /// An authenticated, fresh message from the peer; `path` 0 = member link, 1 = alt link,
  /// 2 = TCP channel.
  virtual void onPeerMessage(const PeerMessage& m, int path) = 0;
  /// The TCP channel came up (authenticated both ways) or went down.
  virtual void onPeerChannel(bool up) = 0;
};

/// What the HA shell needs from a peer link (a fake in unit tests).
class PeerTransport {
public:
  virtual ~PeerTransport() = default;
  /// Sends on every path; fills in member, epoch and sequence number.
  virtual void send(PeerMessage m) = 0;
  virtual bool channelUp() const = 0;
};

} // namespace rmha::failover
