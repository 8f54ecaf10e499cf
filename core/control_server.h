#pragma once
// The operator's control socket: a Unix stream socket (mode 0660), one JSON request per line,
// one JSON response per line. Requests: {"cmd": "status"}, {"cmd": "failover"}, ... (see
// docs/control-protocol.md). Responses carry "ok": true|false and, when false, "error".
//
// rmhad runs it on its own thread (the control thread, at normal priority), and the handler
// posts to the HA thread only what needs it. Whatever thread runs it, a client costs little
// and nothing unbounded: clients are capped, every read and write is bounded in time and size,
// one request per client is under way at a time, and a process out of file descriptors pauses
// accepting instead of spinning.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include <nlohmann/json.hpp>

#include "core/control_framer.h"
#include "core/result.h"

namespace boost::asio {
class io_context;
}

namespace rmha::core {

using ControlReply = std::function<void(nlohmann::json)>;
/// Handles one request; calls `reply` exactly once, now or later, on the same thread.
using ControlHandler = std::function<void(const nlohmann::json& request, ControlReply reply)>;

/// The bounds of the control socket ([control] keys; defaults documented in
/// docs/configuration.md).
struct ControlLimits {
  /// Connected clients at once. Over the cap, the longest-idle client is closed to make room;
  /// when none is idle the newcomer gets one error line naming the cap and is closed.
  std::size_t maxClients = 64;
  /// A request line must be complete within this time of its first byte, and an answer must
  /// be taken by the client within this time of being written.
  std::chrono::milliseconds requestTimeout{2000};
  /// A connection with no request under way is closed after this long.
  std::chrono::milliseconds idleTimeout{60000};
  /// Bytes of one request line (and of requests queued on one connection).
  std::size_t maxRequest = kMaxControlRequest;
  /// The last N descriptors under RLIMIT_NOFILE are never taken by a control client: they stay
  /// free for the peer link, the claim (netlink, packet sockets) and the resource manager.
  int fdHeadroom = 32;
  /// The first pause of the accept loop when the process is out of descriptors; it doubles on
  /// each failure up to `maxAcceptBackoff` and resets on the first successful accept.
  std::chrono::milliseconds acceptBackoff{100};
  std::chrono::milliseconds maxAcceptBackoff{1000};
};

/// What the control socket did since start (a snapshot; `clients` is the current count).
struct ControlCounters {
  std::uint64_t accepted = 0;        ///< connections taken as clients
  std::uint64_t refusedFull = 0;     ///< newcomers refused: cap reached, nobody idle
  std::uint64_t evictedIdle = 0;     ///< idle clients closed to make room for a newcomer
  std::uint64_t refusedNoFds = 0;    ///< newcomers refused: the process is short of descriptors
  std::uint64_t acceptFailures = 0;  ///< accept() calls that failed (EMFILE, ENFILE, ...)
  std::uint64_t acceptBackoffs = 0;  ///< pauses of the accept loop after such a failure
  std::uint64_t requestTimeouts = 0; ///< clients closed: request or answer not done in time
  std::uint64_t idleTimeouts = 0;    ///< clients closed: idle too long
  std::uint64_t oversized = 0;       ///< clients closed: request too long
  std::uint64_t clients = 0;         ///< connected now
};

class ControlServer {
public:
  ControlServer(boost::asio::io_context& io, std::string path, ControlHandler handler,
                ControlLimits limits = {});
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  /// Creates the socket (replacing a stale one), sets mode 0660, starts accepting.
  [[nodiscard]] Result<> start();
  /// Stops accepting and closes every client. On the io_context's thread, or after it stopped.
  void stop();
  /// A snapshot of the counters; any thread.
  ControlCounters counters() const;

private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// Validates a request's shape; returns "" or a sentence saying what is wrong.
std::string checkControlRequest(const nlohmann::json& request);

} // namespace rmha::core
