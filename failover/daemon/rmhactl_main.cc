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
#include <ctime>
#include <iostream>

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
  if (::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::cerr << "rmhactl: cannot reach rmhad at " << path << ": " << std::strerror(errno)
              << " (is the daemon running? is -s right?)\n";
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

std::string clock(std::int64_t us) {
  const std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char b[16];
  std::strftime(b, sizeof b, "%H:%M:%S", &tm);
  return fmt::format("{}.{:03}", b, (us / 1000) % 1000);
}

void printStatus(const json& j) {
  fmt::print("role         {}{}\n", j.value("role", "?"), j.value("serving", false) ? " (serving)" : "");
  const auto& n = j["node"];
  fmt::print("node         member {}, priority {}, {}{}\n", n.value("member", 0),
             n.value("priority", 0), n.value("mode", "?"), n.value("preempt", false) ? ", preempt" : "");
  fmt::print("fit          {}{}\n", j.value("fit", false) ? "yes" : "NO",
             j.value("fit_reason", "").empty() ? "" : " (" + j.value("fit_reason", "") + ")");
  if (const auto& t = j["last_transition"]; t.is_object()) {
    fmt::print("last change  {} -> {} at {} on {}: {}\n", t.value("from", ""), t.value("to", ""),
               clock(t.value("time_us", std::int64_t{0})), t.value("event", ""),
               t.value("reason", ""));
  }
  const auto& p = j["peer"];
  if (p.value("known", false)) {
    // A peer declared dead shows as LOST with the role it last announced.
    const auto role = p.value("alive", true) ? p.value("role", "?")
                                             : "LOST (last said " + p.value("role", "?") + ")";
    fmt::print("peer         member {} {}, priority {}, {}, heard {:.1f} ms ago, channel {}\n",
               p.value("member", 0), role, p.value("priority", 0),
               p.value("fit", false) ? "fit" : "UNFIT", p.value("last_heard_ms", 0.0),
               p.value("channel", "?"));
    if (!p.value("fit", true) && !p.value("fit_reason", "").empty()) {
      fmt::print("             {}\n", p.value("fit_reason", ""));
    }
  } else if (n.value("mode", "") != "none") {
    fmt::print("peer         not heard yet (channel {})\n", p.value("channel", "?"));
  }
  for (const auto& nic : j["nics"]) {
    fmt::print("nic          {} ({}) {}{}\n", nic.value("name", "?"), nic.value("selector", ""),
               nic.value("healthy", false) ? "up" : "DOWN",
               nic.value("bond_active_slave", "").empty()
                   ? ""
                   : ", active slave " + nic.value("bond_active_slave", ""));
  }
  fmt::print("steering     {}\n", j.value("steering", ""));
  fmt::print("sessions     {}\n", j.value("sessions", 0));
  if (const auto& r = j["replication"]; r.is_object()) {
    const auto state = r.value("state", "?");
    const auto lag = [&r](const char* q) {
      const auto& v = r["lag_ms"][q];
      return v.is_number() ? fmt::format("{:.2f}", v.get<double>()) : std::string("-");
    };
    fmt::print("replication  {}, {}", state == "behind" ? fmt::format("behind by {}", r.value("behind", 0)) : state,
               r.value("role", "") == "source"
                   ? fmt::format("streaming: seq {}, last acked {}, lag p50 {} ms p99 {} ms",
                                 r.value("seq", 0), r.value("acked_seq", 0), lag("p50"), lag("p99"))
                   : fmt::format("following: last applied {}", r.value("applied_seq", 0)));
    fmt::print(", {} session(s), refused {}\n", r.value("sessions", 0),
               r["counters"].value("records_refused", 0));
  }
  const auto& c = j["counters"];
  fmt::print("counters     transitions {}, reasserts {}", c.value("transitions", 0),
             c.value("reasserts", 0));
  if (c.contains("peer")) {
    const auto& pc = c["peer"];
    std::uint64_t dropped = 0;
    for (const auto& [k, v] : pc["dropped"].items()) {
      dropped += v.get<std::uint64_t>();
    }
    fmt::print(", peer frames sent {} received {} dropped {}", pc.value("sent", 0),
               pc.value("received", 0), dropped);
  }
  fmt::print("\n");
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"rmhactl - operate the local rmha daemon"};
  app.require_subcommand(1);
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
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
  const bool ok = resp.value("ok", false);
  if (asJson) {
    std::cout << resp.dump(2) << "\n";
  } else if (!ok) {
    std::cerr << "rmhactl: " << resp.value("error", "failed") << "\n";
  } else if (sub == status) {
    printStatus(resp);
  } else if (sub == sessions) {
    fmt::print("{} session(s)\n", resp.value("count", 0));
  } else if (resp.contains("requested_us")) {
    const auto took = resp.value("completed_us", std::int64_t{0}) - resp.value("requested_us", std::int64_t{0});
    fmt::print("{} ({:.3f} ms)\n", resp.value("message", ""), took / 1000.0);
  } else if (resp.contains("message")) {
    fmt::print("{}\n", resp.value("message", ""));
  } else {
    fmt::print("ok: {}\n", resp.value("role", ""));
  }
  return ok ? 0 : kExitFailed;
}
