#pragma once
// The session port: one call (dialog) as the rest of rmha sees it, and the observer through
// which its changes leave the SIP thread. Declared here, below both the SIP resource manager
// (core/sip, which owns the table) and replication (failover/replication, which copies it to
// the peer), so that neither depends on the other.
#include <cstdint>
#include <string>
#include <string_view>

namespace rmha::core {

enum class SessionState : std::uint8_t { Trying, Early, Confirmed, Terminating };
std::string_view toString(SessionState s);

struct SessionKey {
  std::string callId;
  std::string fromTag;  ///< tag of the caller (the From of the initial INVITE)
  bool operator==(const SessionKey&) const = default;
};

struct Session {
  std::string callId;
  std::string fromTag;
  std::string toTag;          ///< "" until the callee answered
  std::string server;         ///< media server id ("udp:192.0.2.21:5070") or "upstream"
  std::string routeSet;       ///< Record-Route values of the dialog, as a Route header value
  std::uint32_t cseq = 0;     ///< highest CSeq seen from the caller
  SessionState state = SessionState::Trying;
  std::int64_t createdUs = 0; ///< wall clock, epoch microseconds (replicated as is)
  std::int64_t updatedUs = 0;

  SessionKey key() const { return {callId, fromTag}; }
};

class SessionObserver {
public:
  virtual ~SessionObserver() = default;
  /// A session was created or changed. Called on the SIP thread; do not block.
  virtual void onSessionUpserted(const Session& s) = 0;
  /// A session ended. Called on the SIP thread; do not block.
  virtual void onSessionRemoved(const SessionKey& key) = 0;
};

} // namespace rmha::core
