#pragma once
// The session table: one entry per call (dialog) the proxy routes. Every change goes through
// upsert() or remove(), which keep per-server usage right and notify the SessionObserver —
// the seam the replication to the standby plugs into. Sessions serialise to a compact text
// form so the standby can insert a peer's session and route its in-dialog requests.
//
// Threading: only the SIP thread writes; it reads without locking. Other threads (status,
// HA engine) read under the mutex, which writers hold while they write.
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json_fwd.hpp>

#include "core/session.h"
#include "core/time_source.h"

namespace rmha::core::sip {

using core::Session;
using core::SessionKey;
using core::SessionObserver;
using core::SessionState;

/// Compact text form (one field per line) for replication.
std::string serialiseSession(const Session& s);
/// Parses serialiseSession() output; false (and `out` unspecified) on anything malformed.
bool deserialiseSession(std::string_view text, Session& out);
nlohmann::json sessionToJson(const Session& s);

class SessionTable {
public:
  using UsageHook = std::function<void(const std::string& server, int delta)>;

  SessionTable(TimeSource& time, UsageHook usage);

  /// Sets (or clears with nullptr) the observer. Thread-safe.
  void setObserver(SessionObserver* observer);
  /// Inserts or replaces the session with the same Call-ID: THE place changes go through.
  void upsert(Session s);
  /// Removes the session of `callId`; false when there was none.
  bool remove(std::string_view callId);
  /// The session of a Call-ID (SIP thread only), or nullptr.
  const Session* find(std::string_view callId) const;
  /// Removes sessions created more than `maxAge` ago; returns how many.
  std::size_t expire(std::chrono::seconds maxAge);
  /// Thread-safe count.
  std::size_t size() const { return count_.load(std::memory_order_relaxed); }
  /// Thread-safe list for `rmhactl sessions` (at most `limit` entries).
  nlohmann::json toJson(std::size_t limit) const;
  std::int64_t nowUs() const { return toEpochMicros(time_.systemTime()); }

private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<std::string, Session, Hash, std::equal_to<>>;

  TimeSource& time_;
  UsageHook usage_;
  mutable std::mutex mutex_;
  Map sessions_;  // by Call-ID (unique per dialog; both directions look it up)
  void erase(Map::iterator it);
  std::atomic<std::size_t> count_{0};
  std::atomic<SessionObserver*> observer_{nullptr};
};

} // namespace rmha::core::sip
