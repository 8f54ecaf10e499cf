#include "core/control_request.h"

#include <array>
#include <utility>

#include <fmt/format.h>

#include "core/control_server.h"

namespace rmha::core {

namespace {

constexpr std::array<std::pair<std::string_view, ControlCommand>, 7> kCommands{{
    {"status", ControlCommand::Status},
    {"failover", ControlCommand::Failover},
    {"takeover", ControlCommand::Takeover},
    {"maintenance", ControlCommand::Maintenance},
    {"sessions", ControlCommand::Sessions},
    {"reload", ControlCommand::Reload},
    {"wait", ControlCommand::Wait},
}};

std::string parseWait(const nlohmann::json& req, ControlRequest& out) {
  const auto role = req.find("role");
  const auto timeout = req.find("timeout_ms");
  // A non-negative integer (parsed JSON text gives unsigned; a built value may be signed).
  const bool wholeMs = timeout != req.end() && timeout->is_number_integer() &&
                       (timeout->is_number_unsigned() || timeout->get<std::int64_t>() >= 0);
  if (role == req.end() || !role->is_string() || (timeout != req.end() && !wholeMs)) {
    return "wait needs \"role\" (a state name) and optionally \"timeout_ms\" (an unsigned "
           "integer)";
  }
  out.role = role->get<std::string>();
  if (timeout != req.end()) {
    // Compared as unsigned before any conversion: 2^63-1 ms must be refused, not overflow.
    const auto ms = timeout->get<std::uint64_t>();
    if (ms > static_cast<std::uint64_t>(kMaxWaitTimeout.count())) {
      return fmt::format("wait's timeout_ms = {} is too long; write at most {} (one hour)", ms,
                         kMaxWaitTimeout.count());
    }
    out.timeout = Millis{static_cast<Millis::rep>(ms)};
  }
  return "";
}

} // namespace

std::string_view controlCommandList() {
  return "status, failover, takeover, maintenance, sessions, reload, wait";
}

std::string parseControlRequest(const nlohmann::json& request, ControlRequest& out) {
  if (auto problem = checkControlRequest(request); !problem.empty()) {
    return problem;
  }
  const auto& cmd = request.at("cmd").get_ref<const std::string&>();
  out = ControlRequest{};
  bool known = false;
  for (const auto& [name, command] : kCommands) {
    if (cmd == name) {
      out.command = command;
      known = true;
    }
  }
  if (!known) {
    return fmt::format("unknown command '{}'; the commands are {}", cmd, controlCommandList());
  }
  if (out.command == ControlCommand::Maintenance) {
    const auto on = request.find("on");
    if (on == request.end() || !on->is_boolean()) {
      return "maintenance needs \"on\": true or false";
    }
    out.on = on->get<bool>();
  }
  if (out.command == ControlCommand::Wait) {
    return parseWait(request, out);
  }
  return "";
}

} // namespace rmha::core
