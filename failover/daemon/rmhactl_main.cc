// rmhactl: the operator's command line, against the local daemon's control socket.
// Exit codes: 0 done, 1 the daemon refused or the command failed, 2 bad usage, 3 no daemon.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <iostream>

#include "core/control_client.h"
#include "rmha_version.h"

using nlohmann::json;

namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitNoDaemon = 3;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

// One request, one response line, within `timeoutMs`.
int exchange(const std::string& path, const json& req, int timeoutMs, json& out) {
  Fd s{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (s.fd < 0 || path.size() >= sizeof addr.sun_path) {
    std::cerr << "rmhactl: bad control socket path " << path << "\n";
    return kExitUsage;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  // A Unix connect() waits while the daemon's backlog is full (a flooded control socket, a
  // stuck daemon); SO_SNDTIMEO bounds that wait.
  const timeval tv{timeoutMs / 1000, (timeoutMs % 1000) * 1000};
  (void)::setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      std::cerr << "rmhactl: rmhad at " << path << " did not accept the connection within "
                << timeoutMs << " ms (its control socket is flooded or the daemon is stuck)\n";
    } else {
      std::cerr << "rmhactl: cannot reach rmhad at " << path << ": " << std::strerror(errno)
                << " (is the daemon running? is -s right?)\n";
    }
    return kExitNoDaemon;
  }
  const auto line = req.dump() + "\n";
  if (::send(s.fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    std::cerr << "rmhactl: cannot send the request: " << std::strerror(errno) << "\n";
    return kExitNoDaemon;
  }
  std::string buf;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (buf.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    pollfd p{s.fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
      std::cerr << "rmhactl: no answer from rmhad within " << timeoutMs << " ms\n";
      return kExitFailed;
    }
    char chunk[4096];
    const auto n = ::read(s.fd, chunk, sizeof chunk);
    if (n <= 0) {
      std::cerr << "rmhactl: rmhad closed the connection without an answer\n";
      return kExitFailed;
    }
    buf.append(chunk, static_cast<std::size_t>(n));
  }
  out = json::parse(buf.substr(0, buf.find('\n')), nullptr, false);
  if (out.is_discarded() || !out.is_object()) {
    std::cerr << "rmhactl: rmhad answered something that is not JSON\n";
    return kExitFailed;
  }
  return 0;
}

constexpr const char* kCommands =
    "status, failover, takeover, maintenance on|off, sessions, reload, wait ROLE";

// CLI11 would say "A subcommand is required" for a mistyped command: name it instead.
int usageError(const CLI::App& app) {
  const auto extra = app.remaining();
  if (extra.empty()) {
    std::cerr << "rmhactl: a command is required; the commands are " << kCommands
              << " (see rmhactl --help)\n";
  } else if (extra.front().rfind('-', 0) == 0) {
    std::cerr << "rmhactl: unknown option '" << extra.front()
              << "' (see rmhactl --help)\n";
  } else if (app.get_subcommands().empty()) {
    std::cerr << "rmhactl: unknown command '" << extra.front() << "'; the commands are "
              << kCommands << " (see rmhactl --help)\n";
  } else {
    std::cerr << "rmhactl: unexpected argument '" << extra.front()
              << "' (options such as -s and -t go before the command; see rmhactl --help)\n";
  }
  return kExitUsage;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"rmhactl - operate the local rmha daemon"};
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", "rmhactl " RMHA_VERSION);
  std::string socket = "/run/rmha/rmhad.sock";
  int timeoutMs = 5000;
  bool asJson = false;
  app.add_option("-s,--socket", socket, "the daemon's control socket")->capture_default_str();
  app.add_option("-t,--timeout", timeoutMs, "how long to wait for an answer (ms)")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600000));
  auto* status = app.add_subcommand("status", "role, peer, last transition, NICs, counters");
  status->add_flag("--json", asJson, "print the daemon's JSON");
  app.add_subcommand("failover", "hand the active role to the standby (make-before-break)")
      ->add_flag("--json", asJson, "print the daemon's JSON");
  app.add_subcommand("takeover", "make this node active (asks the active peer to hand over)")
      ->add_flag("--json", asJson, "print the daemon's JSON");
  auto* maint = app.add_subcommand("maintenance", "maintenance on|off: never become active");
  maint->add_flag("--json", asJson, "print the daemon's JSON");
  std::string onOff;
  maint->add_option("state", onOff, "on or off")->required()->check(CLI::IsMember({"on", "off"}));
  auto* sessions = app.add_subcommand("sessions", "the calls this node holds");
  sessions->add_flag("--json", asJson, "print the daemon's JSON");
  app.add_subcommand("reload", "re-read the configuration; apply what can change live");
  auto* wait = app.add_subcommand("wait", "wait until the node's role is ROLE");
  std::string role;
  wait->add_option("role", role, "active, standby, maintenance, fault, ...")->required();
  // Set after the subcommands exist, so that they still refuse arguments they do not know.
  app.allow_extras();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }
  if (app.get_subcommands().empty() || !app.remaining().empty()) {
    return usageError(app);
  }
  const auto* sub = app.get_subcommands().front();
  json req = {{"cmd", sub->get_name()}};
  if (sub == maint) {
    req["on"] = onOff == "on";
  }
  if (sub == wait) {
    req["role"] = role;
    req["timeout_ms"] = timeoutMs;
    timeoutMs += 1000;
  }
  json resp;
  if (const int rc = exchange(socket, req, timeoutMs, resp); rc != 0) {
    return rc;
  }
  using rmha::core::jsonInt;
  using rmha::core::jsonString;
  // Exit 0 only on an explicit "ok": true (a refused reload answers ok: false).
  const bool ok = rmha::core::jsonBool(resp, "ok", false);
  if (asJson) {
    std::cout << resp.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else if (!ok) {
    std::cerr << "rmhactl: " << jsonString(resp, "error", "failed (no reason given)") << "\n";
  } else if (sub == status) {
    fmt::print("{}", rmha::core::formatStatus(resp));
  } else if (sub == sessions) {
    fmt::print("{} session(s)\n", jsonInt(resp, "count"));
  } else if (resp.contains("requested_us")) {
    const auto took = jsonInt(resp, "completed_us") - jsonInt(resp, "requested_us");
    fmt::print("{} ({:.3f} ms)\n", jsonString(resp, "message"), static_cast<double>(took) / 1000.0);
  } else if (resp.contains("message")) {
    fmt::print("{}\n", jsonString(resp, "message"));
  } else {
    fmt::print("ok: {}\n", jsonString(resp, "role"));
  }
  return ok ? 0 : kExitFailed;
}
