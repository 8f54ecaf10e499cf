#pragma once
// The control protocol's commands and their arguments, parsed without sockets or a daemon:
// the daemon dispatches on the result, the control fuzz target drives the same code.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/time_source.h"

namespace rmha::core {

enum class ControlCommand { Status, Failover, Takeover, Maintenance, Sessions, Reload, Wait };

/// `wait` without `timeout_ms`, and the longest `timeout_ms` accepted (a longer one is refused:
/// an hour is more than any script means, and it keeps the deadline arithmetic far from
/// overflow).
inline constexpr Millis kDefaultWaitTimeout{10000};
inline constexpr Millis kMaxWaitTimeout{3600000};

struct ControlRequest {
  ControlCommand command = ControlCommand::Status;
  bool on = false;                  ///< maintenance
  std::string role;                 ///< wait: a state name
  Millis timeout = kDefaultWaitTimeout; ///< wait
};

/// "status, failover, takeover, maintenance, sessions, reload, wait".
std::string_view controlCommandList();

/// Parses a request (any JSON value). Returns "" and fills `out`, or a sentence saying what
/// is wrong (the `error` of the answer). Never throws.
std::string parseControlRequest(const nlohmann::json& request, ControlRequest& out);

} // namespace rmha::core
