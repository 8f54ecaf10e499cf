#include "core/control_client.h"

#include <cmath>
#include <ctime>

#include <fmt/format.h>

namespace rmha::core {

using nlohmann::json;

const json& jsonField(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) {
    return kNull;
  }
  const auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string jsonString(const json& j, const char* key, const std::string& fallback) {
  const auto& v = jsonField(j, key);
  return v.is_string() ? v.get<std::string>() : fallback;
}

bool jsonBool(const json& j, const char* key, bool fallback) {
  const auto& v = jsonField(j, key);
  return v.is_boolean() ? v.get<bool>() : fallback;
}

std::int64_t jsonInt(const json& j, const char* key, std::int64_t fallback) {
  const auto& v = jsonField(j, key);
  if (v.is_number_integer()) {
    return v.get<std::int64_t>();
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    // Out of range, the conversion would be undefined.
    if (std::isfinite(d) && d > -9.2e18 && d < 9.2e18) {
      return static_cast<std::int64_t>(d);
    }
  }
  return fallback;
}

double jsonDouble(const json& j, const char* key, double fallback) {
  const auto& v = jsonField(j, key);
  return v.is_number() ? v.get<double>() : fallback;
}

namespace {

std::string wallClock(std::int64_t us) {
  const std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  if (localtime_r(&secs, &tm) == nullptr) {
    return "?";
  }
  char b[16];
  std::strftime(b, sizeof b, "%H:%M:%S", &tm);
  return fmt::format("{}.{:03}", b, (us / 1000) % 1000 < 0 ? 0 : (us / 1000) % 1000);
}

void appendHeader(std::string& out, const json& j) {
  out += fmt::format("role         {}{}\n", jsonString(j, "role", "?"),
                     jsonBool(j, "serving", false) ? " (serving)" : "");
  const auto& n = jsonField(j, "node");
  out += fmt::format("node         member {}, priority {}, {}{}\n", jsonInt(n, "member"),
                     jsonInt(n, "priority"), jsonString(n, "mode", "?"),
                     jsonBool(n, "preempt", false) ? ", preempt" : "");
  const auto reason = jsonString(j, "fit_reason");
  out += fmt::format("fit          {}{}\n", jsonBool(j, "fit", false) ? "yes" : "NO",
                     reason.empty() ? "" : " (" + reason + ")");
  if (const auto& t = jsonField(j, "last_transition"); t.is_object()) {
    out += fmt::format("last change  {} -> {} at {} on {}: {}\n", jsonString(t, "from"),
                       jsonString(t, "to"), wallClock(jsonInt(t, "time_us")),
                       jsonString(t, "event"), jsonString(t, "reason"));
  }
}

void appendPeerAndNics(std::string& out, const json& j) {
  const auto& p = jsonField(j, "peer");
  if (jsonBool(p, "known", false)) {
    // A peer declared dead shows as LOST with the role it last announced.
    const auto role = jsonBool(p, "alive", true)
                          ? jsonString(p, "role", "?")
                          : "LOST (last said " + jsonString(p, "role", "?") + ")";
    out += fmt::format("peer         member {} {}, priority {}, {}, heard {:.1f} ms ago, "
                       "channel {}\n",
                       jsonInt(p, "member"), role, jsonInt(p, "priority"),
                       jsonBool(p, "fit", false) ? "fit" : "UNFIT",
                       jsonDouble(p, "last_heard_ms"), jsonString(p, "channel", "?"));
    if (const auto why = jsonString(p, "fit_reason"); !jsonBool(p, "fit", true) && !why.empty()) {
      out += fmt::format("             {}\n", why);
    }
  } else if (jsonString(jsonField(j, "node"), "mode") != "none") {
    out += fmt::format("peer         not heard yet (channel {})\n", jsonString(p, "channel", "?"));
  }
  if (const auto& nics = jsonField(j, "nics"); nics.is_array()) {
    for (const auto& nic : nics) {
      const auto slave = jsonString(nic, "bond_active_slave");
      out += fmt::format("nic          {} ({}) {}{}\n", jsonString(nic, "name", "?"),
                         jsonString(nic, "selector"),
                         jsonBool(nic, "healthy", false) ? "up" : "DOWN",
                         slave.empty() ? "" : ", active slave " + slave);
    }
  }
  out += fmt::format("steering     {}\n", jsonString(j, "steering"));
  out += fmt::format("sessions     {}\n", jsonInt(j, "sessions"));
}

void appendReplication(std::string& out, const json& r) {
  if (!r.is_object()) {
    return; // a node without [sip] or without a peer replicates nothing
  }
  const auto state = jsonString(r, "state", "?");
  const auto lag = [&r](const char* q) {
    const auto& v = jsonField(jsonField(r, "lag_ms"), q);
    return v.is_number() ? fmt::format("{:.2f}", v.get<double>()) : std::string("-");
  };
  out += fmt::format(
      "replication  {}, {}",
      state == "behind" ? fmt::format("behind by {}", jsonInt(r, "behind")) : state,
      jsonString(r, "role") == "source"
          ? fmt::format("streaming: seq {}, last acked {}, lag p50 {} ms p99 {} ms",
                        jsonInt(r, "seq"), jsonInt(r, "acked_seq"), lag("p50"), lag("p99"))
          : fmt::format("following: last applied {}", jsonInt(r, "applied_seq")));
  out += fmt::format(", {} session(s), refused {}\n", jsonInt(r, "sessions"),
                     jsonInt(jsonField(r, "counters"), "records_refused"));
}

void appendCounters(std::string& out, const json& c) {
  out += fmt::format("counters     transitions {}, reasserts {}", jsonInt(c, "transitions"),
                     jsonInt(c, "reasserts"));
  if (const auto& pc = jsonField(c, "peer"); pc.is_object()) {
    std::uint64_t dropped = 0; // unsigned: a damaged answer wraps, never overflows
    if (const auto& d = jsonField(pc, "dropped"); d.is_object()) {
      for (const auto& [k, v] : d.items()) {
        dropped += v.is_number_unsigned() ? v.get<std::uint64_t>() : 0;
      }
    }
    out += fmt::format(", peer frames sent {} received {} dropped {}", jsonInt(pc, "sent"),
                       jsonInt(pc, "received"), dropped);
  }
  out += "\n";
  if (const auto& k = jsonField(c, "control"); k.is_object()) {
    out += fmt::format("control      {} client(s); refused {} (cap) {} (out of descriptors); "
                       "closed {} idle, {} timed out\n",
                       jsonInt(k, "clients"), jsonInt(k, "refused_full"),
                       jsonInt(k, "refused_no_fds"), jsonInt(k, "evicted_idle"),
                       jsonInt(k, "request_timeouts") + jsonInt(k, "idle_timeouts"));
  }
}

} // namespace

std::string formatStatus(const json& status) {
  std::string out;
  appendHeader(out, status);
  appendPeerAndNics(out, status);
  appendReplication(out, jsonField(status, "replication"));
  appendCounters(out, jsonField(status, "counters"));
  return out;
}

} // namespace rmha::core
