// libFuzzer: the control protocol as far as it goes without sockets: the server's framing
// (ControlFramer), the JSON parse, checkControlRequest, the daemon's command parsing
// (parseControlRequest: maintenance's "on", wait's "role" and "timeout_ms"), the answer's
// serialization, and rmhactl's status printing of whatever JSON came in.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/control_client.h"
#include "core/control_framer.h"
#include "core/control_request.h"
#include "core/control_server.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The first byte picks the chunk size the bytes arrive in, as reads from a socket would.
  const std::size_t chunk = size == 0 ? 1 : 1 + static_cast<std::size_t>(data[0] % 64);
  rmha::core::ControlFramer framer(4096);
  std::string line;
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    if (!framer.append(bytes.substr(at, chunk))) {
      break;
    }
    while (framer.next(line) == rmha::core::ControlFramer::Next::Line) {
      const auto req = nlohmann::json::parse(line, nullptr, false);
      if (req.is_discarded()) {
        continue;
      }
      rmha::core::ControlRequest r;
      const auto problem = rmha::core::parseControlRequest(req, r);
      if (problem.empty() && r.command == rmha::core::ControlCommand::Wait &&
          r.timeout > rmha::core::kMaxWaitTimeout) {
        __builtin_trap(); // the bound the daemon's timer relies on
      }
      nlohmann::json answer = {{"ok", problem.empty()}, {"error", problem}, {"echo", req}};
      (void)answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      (void)rmha::core::formatStatus(req);
    }
  }
  return 0;
}
