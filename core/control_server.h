#pragma once
// The operator's control socket: a Unix stream socket (mode 0660), one JSON request per line,
// one JSON response per line. Requests: {"cmd": "status"}, {"cmd": "failover"}, ... (see
// docs/control-protocol.md). Responses carry "ok": true|false and, when false, "error".
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include <nlohmann/json.hpp>

namespace boost::asio {
class io_context;
}

namespace rmha::core {

using ControlReply = std::function<void(nlohmann::json)>;
/// Handles one request; calls `reply` exactly once, now or later, on the same thread.
using ControlHandler = std::function<void(const nlohmann::json& request, ControlReply reply)>;

inline constexpr std::size_t kMaxControlRequest = 64 * 1024;

class ControlServer {
public:
  ControlServer(boost::asio::io_context& io, std::string path, ControlHandler handler);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  /// Creates the socket (replacing a stale one), sets mode 0660, starts accepting.
  std::error_code start(std::string& what);
  void stop();

private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// Validates a request's shape; returns "" or a sentence saying what is wrong.
std::string checkControlRequest(const nlohmann::json& request);

} // namespace rmha::core
