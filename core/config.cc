#include "core/config.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace rmha::core {

std::string_view toString(HaMode m) {
  switch (m) {
  case HaMode::None: return "none";
  case HaMode::ActiveStandby: return "active-standby";
  case HaMode::ActiveActive: return "active-active";
  }
  return "?";
}

std::string_view toString(SteeringKind k) {
  switch (k) {
  case SteeringKind::None: return "none";
  case SteeringKind::Vip: return "vip";
  case SteeringKind::Nlb: return "nlb";
  }
  return "?";
}

std::string HostPort::str() const {
  return v6 ? fmt::format("[{}]:{}", ip, port) : fmt::format("{}:{}", ip, port);
}

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == ',' || std::isspace(static_cast<unsigned char>(c))) {
      if (!cur.empty()) {
        out.push_back(cur);
        cur.clear();
      }
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) {
    out.push_back(cur);
  }
  return out;
}

bool parseBool(const IniDocument::Entry& e, const std::string& key, ConfigIssues& issues,
               bool& out) {
  std::string v = e.value;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  if (v == "true" || v == "yes" || v == "on" || v == "1") {
    out = true;
    return true;
  }
  if (v == "false" || v == "no" || v == "off" || v == "0") {
    out = false;
    return true;
  }
  issues.add(e.line, fmt::format("{} = '{}' is not a boolean; write {} = true or {} = false", key,
                                 e.value, key, key));
  return false;
}

bool parseInt(const IniDocument::Entry& e, const std::string& key, long min, long max,
              ConfigIssues& issues, long& out) {
  long v = 0;
  const auto* b = e.value.data();
  const auto* end = b + e.value.size();
  auto [p, ec] = std::from_chars(b, end, v);
  if (ec != std::errc() || p != end) {
    issues.add(e.line, fmt::format("{} = '{}' is not a whole number; write a number from {} to {}",
                                   key, e.value, min, max));
    return false;
  }
  if (v < min || v > max) {
    issues.add(e.line,
               fmt::format("{} = {} is out of range; write a number from {} to {}", key, v, min, max));
    return false;
  }
  out = v;
  return true;
}

bool parseMillis(const IniDocument::Entry& e, const std::string& key, Millis min, Millis max,
                 ConfigIssues& issues, Millis& out) {
  std::string_view s = e.value;
  long scale = 1;
  if (s.ends_with("ms")) {
    s.remove_suffix(2);
  } else if (s.ends_with("s")) {
    s.remove_suffix(1);
    scale = 1000;
  }
  long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < 0) {
    issues.add(e.line, fmt::format("{} = '{}' is not a duration; write milliseconds such as "
                                   "{} = {} (or with a unit: 250ms, 2s)",
                                   key, e.value, key, min.count()));
    return false;
  }
  if (v > max.count() / scale) {
    // Refused before the multiplication, which would overflow for a long enough number.
    issues.add(e.line, fmt::format("{} = {} is out of range; write {} to {} ms", key, e.value,
                                   min.count(), max.count()));
    return false;
  }
  const Millis d{v * scale};
  if (d < min || d > max) {
    issues.add(e.line, fmt::format("{} = {} ms is out of range; write {} to {} ms", key, d.count(),
                                   min.count(), max.count()));
    return false;
  }
  out = d;
  return true;
}

bool parseIp(const std::string& text, bool& v6) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) {
    v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) {
    v6 = true;
    return true;
  }
  return false;
}

bool parseHostPort(const std::string& text, std::uint16_t defaultPort, HostPort& out) {
  std::string host = text;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos) {
      return false;
    }
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') {
        return false;
      }
      port = text.substr(close + 2);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const auto colon = text.find(':');
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  HostPort hp;
  if (!parseIp(host, hp.v6)) {
    return false;
  }
  hp.ip = host;
  hp.port = defaultPort;
  if (!port.empty()) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc() || p != port.data() + port.size() || v == 0 || v > 65535) {
      return false;
    }
    hp.port = static_cast<std::uint16_t>(v);
  }
  out = hp;
  return true;
}

void addCoreKnownKeys(std::map<std::string, std::vector<std::string>>& known) {
  known["cluster"] = {"ha-mode", "traffic-steering", "virtual-ip", "vip-interface", "member.1",
                      "member.2", "alt-member.1", "alt-member.2", "other-active-rmnode-ip",
                      "local-member", "priority", "preempt", "timer-profile", "heartbeat-interval",
                      "dead-interval", "dead-interval-max", "handover-timeout", "auth-key-file", "monitor-nics",
                      "nic-policy", "nic-hold-down", "vip-lifetime", "arp-probe",
                      "arp-probe-wait", "garp-count", "garp-interval", "garp-repeat-after",
                      "garp-refresh", "garp-form", "gateway", "gateway-check-interval",
                      "gateway-misses", "realtime-priority", "lock-memory"};
  known["control"] = {"socket", "max-clients", "request-timeout", "idle-timeout"};
  known["log"] = {"level", "instance", "syslog-prefix"};
}

ControlConfig parseControlConfig(IniDocument& doc, ConfigIssues& issues) {
  ControlConfig c;
  if (const auto* e = doc.take("control", "socket")) {
    if (e->value.empty() || e->value.front() != '/' || e->value.size() > 100) {
      issues.add(e->line, "socket must be an absolute path of at most 100 characters; write "
                          "socket = /run/rmha/rmhad.sock");
    } else {
      c.socket = e->value;
    }
  }
  // Bounds of the control socket: it runs on the HA thread (docs/control-protocol.md#limits).
  long clients = c.maxClients;
  if (const auto* e = doc.take("control", "max-clients");
      e && parseInt(*e, "max-clients", 1, 1024, issues, clients)) {
    c.maxClients = static_cast<int>(clients);
  }
  if (const auto* e = doc.take("control", "request-timeout")) {
    parseMillis(*e, "request-timeout", Millis{100}, Millis{60000}, issues, c.requestTimeout);
  }
  if (const auto* e = doc.take("control", "idle-timeout")) {
    parseMillis(*e, "idle-timeout", Millis{1000}, Millis{3600000}, issues, c.idleTimeout);
  }
  return c;
}

LogConfig parseLogConfig(IniDocument& doc, ConfigIssues& issues) {
  LogConfig c;
  if (const auto* e = doc.take("log", "level")) {
    if (!parseLogLevel(e->value, c.level)) {
      issues.add(e->line, fmt::format("level = '{}' is not a log level; write one of trace, "
                                      "debug, info, warn, error, off",
                                      e->value));
    }
  }
  if (const auto* e = doc.take("log", "instance")) {
    c.instance = e->value;
  }
  if (const auto* e = doc.take("log", "syslog-prefix"); e && e->value != "auto") {
    ConfigIssues quiet("");
    bool on = false;
    if (parseBool(*e, "syslog-prefix", quiet, on)) {
      c.syslogPrefix = on;
    } else {
      issues.add(e->line, fmt::format("syslog-prefix = '{}' is not auto, true or false; write "
                                      "syslog-prefix = auto",
                                      e->value));
    }
  }
  return c;
}

} // namespace rmha::core
