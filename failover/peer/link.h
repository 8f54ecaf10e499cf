#pragma once
// The peer link: authenticated UDP heartbeats on every configured path, and one TCP channel
// between the pair whose closing tells at once that the peer's process died (the replication
// stream rides on it later). Runs on the HA thread's io_context.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>

#include "core/config.h"
#include "core/result.h"
#include "core/time_source.h"
#include "failover/engine/peer_port.h"
#include "failover/peer/protocol.h"

namespace boost::asio {
class io_context;
}

namespace rmha::failover {

struct PeerLinkOptions {
  int localMember = 1;
  core::HostPort local;                 ///< UDP + TCP bind (member.N of this node)
  core::HostPort peer;                  ///< the other member
  std::optional<core::HostPort> localAlt;  ///< second heartbeat path, if configured
  std::optional<core::HostPort> peerAlt;
  std::string key;                      ///< HMAC-SHA256 shared key
  core::Duration restartGrace = core::Millis{25}; ///< see ReplayGuard
  core::Duration reconnectInterval = core::Millis{50};
  core::Duration helloTimeout = core::Millis{1000};
};

/// Receives what the TCP channel carries after the hellos (the replication stream).
class ChannelSink {
public:
  virtual ~ChannelSink() = default;
  /// The channel is up and the peer speaks channel frames.
  virtual void onChannelOpen() = 0;
  /// The channel that was open closed (the peer died, restarted, or sent a bad frame).
  virtual void onChannelClosed() = 0;
  /// One authenticated payload from the peer, in the order sent.
  virtual void onChannelPayload(std::span<const std::uint8_t> payload) = 0;
};

/// Sends payloads on the TCP channel (a fake in unit tests).
class ChannelTransport {
public:
  virtual ~ChannelTransport() = default;
  /// True while the channel is up and the peer speaks channel frames.
  virtual bool channelReady() const = 0;
  /// Sends one payload (at most kMaxChannelPayload bytes), queued behind those not yet
  /// written; false when the channel is not ready or the payload is too large. Never
  /// blocks; safe from any thread.
  virtual bool sendPayload(std::span<const std::uint8_t> payload) = 0;
  /// Bytes queued and not yet written to the socket (flow control for bulk copies).
  virtual std::size_t pendingBytes() const = 0;
};

struct PeerLinkCounters {
  std::uint64_t sent = 0;
  std::uint64_t sendErrors = 0;
  std::uint64_t received = 0;
  std::array<std::uint64_t, kPeerDropCount> dropped{};
  std::uint64_t channelUps = 0;
  std::uint64_t channelDowns = 0;
  std::uint64_t framesSent = 0;
  std::uint64_t framesReceived = 0;
  std::uint64_t frameBytesSent = 0;
  std::uint64_t frameBytesReceived = 0;
};

class PeerLink final : public PeerTransport, public ChannelTransport {
public:
  PeerLink(boost::asio::io_context& io, PeerLinkOptions options, const core::TimeSource& time);
  ~PeerLink() override;
  PeerLink(const PeerLink&) = delete;
  PeerLink& operator=(const PeerLink&) = delete;

  /// Binds the sockets and starts delivering to `events`; an error names the address that
  /// failed.
  [[nodiscard]] core::Result<> start(PeerEvents& events);
  void stop();
  void send(PeerMessage m) override;
  bool channelUp() const override;
  PeerLinkCounters counters() const;
  /// Where channel payloads go (nullptr: dropped). Set before start().
  void setChannelSink(ChannelSink* sink);
  // ChannelTransport
  bool channelReady() const override;
  bool sendPayload(std::span<const std::uint8_t> payload) override;
  std::size_t pendingBytes() const override;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace rmha::failover
