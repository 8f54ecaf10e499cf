#include "core/sip/sip_config.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "core/sip/syntax.h"

namespace rmha::core::sip {

namespace {

const char* const kSip = "sip";
const char* const kRouting = "routing";

// Splits a comma-separated value into trimmed, non-empty items.
std::vector<std::string_view> splitList(std::string_view v) {
  std::vector<std::string_view> out;
  while (!v.empty()) {
    const auto comma = v.find_first_of(",\n");
    const auto item = trim(v.substr(0, comma));
    if (!item.empty()) {
      out.push_back(item);
    }
    v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
  }
  return out;
}

bool parseIp(std::string_view text, boost::asio::ip::address& out) {
  boost::system::error_code ec;
  out = boost::asio::ip::make_address(std::string(text), ec);
  return !ec;
}

// Reads an integer key within [lo, hi]; reports and keeps the default otherwise.
template <class T>
void takeNumber(IniDocument& doc, ConfigIssues& issues, const std::string& section,
                const std::string& key, T& value, long long lo, long long hi) {
  const auto* e = doc.take(section, key);
  if (!e) {
    return;
  }
  long long v = 0;
  const auto s = trim(e->value);
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size() || v < lo || v > hi) {
    issues.add(e->line, fmt::format("[{}] {} = '{}' is not valid; write a whole number from {} "
                                    "to {}", section, key, e->value, lo, hi));
    return;
  }
  value = T(v);
}

void parseListen(IniDocument& doc, ConfigIssues& issues, SipConfig& cfg) {
  const auto* e = doc.take(kSip, "listen");
  if (!e) {
    issues.add(doc.sectionLine(kSip),
               "[sip] needs 'listen', for example: listen = udp:192.0.2.10:5060, "
               "tcp:192.0.2.10:5060");
    return;
  }
  for (auto item : splitList(e->value)) {
    SipAddress a;
    if (!parseSipAddress(item, a)) {
      issues.add(e->line, fmt::format("[sip] listen: '{}' is not an address; write "
                                      "udp:IP:PORT or tcp:IP:PORT (IPv6 as tcp:[2001:db8::1]:5060)",
                                      item));
      continue;
    }
    cfg.listen.push_back(a);
  }
}

void parseAdvertised(IniDocument& doc, ConfigIssues& issues, SipConfig& cfg) {
  const auto* e = doc.take(kSip, "advertised-address");
  if (!e) {
    for (const auto& l : cfg.listen) {
      if (!l.address.is_unspecified()) {
        cfg.advertisedHost = l.address.to_string();
        return;
      }
    }
    if (!cfg.listen.empty()) {
      issues.add(doc.sectionLine(kSip),
                 "[sip] listens on a wildcard address: set advertised-address to the address "
                 "peers must use (the virtual IP in active-standby, this node's IP otherwise)");
    }
    return;
  }
  std::string_view host;
  bool v6 = false;
  boost::asio::ip::address ip;
  const auto v = trim(e->value);
  if (!parseHostPort(v, host, cfg.advertisedPort, v6).ok() || !parseIp(host, ip) ||
      ip.is_unspecified()) {
    issues.add(e->line, fmt::format("[sip] advertised-address = '{}' is not valid; write an IP "
                                    "address, optionally with a port: 192.0.2.10 or "
                                    "192.0.2.10:5060 or [2001:db8::10]:5060", e->value));
    return;
  }
  cfg.advertisedHost = ip.to_string();
}

void parseTrusted(IniDocument& doc, ConfigIssues& issues, SipConfig& cfg) {
  const auto* e = doc.take(kSip, "trusted-sources");
  if (!e) {
    return;
  }
  for (auto item : splitList(e->value)) {
    TrustedNet n;
    const auto slash = item.find('/');
    std::uint32_t prefix = 0;
    const bool ok = parseIp(item.substr(0, slash), n.address) &&
                    (slash == std::string_view::npos ||
                     (parseUint(item.substr(slash + 1), prefix, 3) &&
                      prefix <= (n.address.is_v4() ? 32U : 128U)));
    if (!ok) {
      issues.add(e->line, fmt::format("[sip] trusted-sources: '{}' is not valid; write IP "
                                      "addresses or networks: 192.0.2.1, 198.51.100.0/24", item));
      continue;
    }
    n.prefix = slash == std::string_view::npos ? (n.address.is_v4() ? 32 : 128) : prefix;
    cfg.trustedSources.push_back(n);
  }
}

void parseSipSection(IniDocument& doc, ConfigIssues& issues, SipConfig& cfg) {
  parseListen(doc, issues, cfg);
  parseAdvertised(doc, issues, cfg);
  if (const auto* e = doc.take(kSip, "upstream")) {
    cfg.hasUpstream = parseSipAddress(trim(e->value), cfg.upstream);
    if (!cfg.hasUpstream) {
      issues.add(e->line, fmt::format("[sip] upstream = '{}' is not valid; write the SIP "
                                      "Server's address: udp:192.0.2.1:5060", e->value));
    }
  }
  parseTrusted(doc, issues, cfg);
  long long t1 = cfg.t1.count(), t2 = cfg.t2.count(), t4 = cfg.t4.count();
  long long fo = cfg.inviteFailoverTimeout.count();
  takeNumber(doc, issues, kSip, "t1-ms", t1, 50, 10000);
  takeNumber(doc, issues, kSip, "t2-ms", t2, 100, 60000);
  takeNumber(doc, issues, kSip, "t4-ms", t4, 100, 60000);
  takeNumber(doc, issues, kSip, "invite-failover-ms", fo, 100, 60000);
  if (t2 < t1) {
    issues.add(doc.sectionLine(kSip), fmt::format("[sip] t2-ms ({}) is smaller than t1-ms ({}); "
                                                  "T2 must be at least T1", t2, t1));
  }
  if (fo >= 64 * t1) {
    issues.add(doc.sectionLine(kSip),
               fmt::format("[sip] invite-failover-ms ({}) must be below 64*t1-ms ({}), or the "
                           "INVITE times out before the next media server is tried", fo, 64 * t1));
  }
  cfg.t1 = Millis(t1);
  cfg.t2 = Millis(t2);
  cfg.t4 = Millis(t4);
  cfg.inviteFailoverTimeout = Millis(fo);
  long long age = cfg.maxSessionAge.count(), retry = cfg.retryAfter.count();
  long long idle = cfg.tcpIdleTimeout.count();
  takeNumber(doc, issues, kSip, "max-session-age-s", age, 60, 7 * 86400);
  takeNumber(doc, issues, kSip, "retry-after-s", retry, 1, 3600);
  takeNumber(doc, issues, kSip, "tcp-idle-timeout-s", idle, 5, 86400);
  cfg.maxSessionAge = std::chrono::seconds(age);
  cfg.retryAfter = std::chrono::seconds(retry);
  cfg.tcpIdleTimeout = std::chrono::seconds(idle);
  takeNumber(doc, issues, kSip, "max-message-size", cfg.maxMessageSize, 1500, 1 << 20);
  takeNumber(doc, issues, kSip, "tcp-max-connections-per-peer", cfg.tcpMaxConnectionsPerPeer, 1,
             1024);
  takeNumber(doc, issues, kSip, "max-sessions", cfg.maxSessions, 1, 10000000);
}

void parseGroup(IniDocument& doc, ConfigIssues& issues, std::string_view name, int line,
                SipConfig& cfg) {
  ResourceGroupConfig g;
  g.name = std::string(name);
  const auto section = "resource-group." + g.name;
  if (doc.sectionLine(section) == 0) {
    issues.add(line, fmt::format("[sip] resource-groups names '{}' but there is no [{}] "
                                 "section; add it with a 'servers' key", name, section));
    return;
  }
  if (const auto* e = doc.take(section, "servers")) {
    for (auto item : splitList(e->value)) {
      SipAddress a;
      if (!parseSipAddress(item, a)) {
        issues.add(e->line, fmt::format("[{}] servers: '{}' is not an address; write "
                                        "udp:IP:PORT or sip:IP:PORT;transport=tcp", section, item));
        continue;
      }
      g.servers.push_back(a);
    }
  } else {
    issues.add(doc.sectionLine(section),
               fmt::format("[{}] needs 'servers = udp:IP:PORT, ...' (its media servers)", section));
  }
  if (const auto* e = doc.take(section, "policy")) {
    const auto v = trim(e->value);
    if (v == "round-robin") {
      g.policy = BalancePolicy::RoundRobin;
    } else if (v == "least-used") {
      g.policy = BalancePolicy::LeastUsed;
    } else {
      issues.add(e->line, fmt::format("[{}] policy = '{}' is not known; write round-robin or "
                                      "least-used", section, e->value));
    }
  }
  takeNumber(doc, issues, section, "capacity", g.capacity, 1, 1000000);
  long long interval = g.probeInterval.count();
  takeNumber(doc, issues, section, "probe-interval-ms", interval, 0, 600000);
  if (interval > 0 && interval < 100) {
    issues.add(doc.sectionLine(section), fmt::format("[{}] probe-interval-ms must be 0 (no "
                                                     "probes) or at least 100", section));
  }
  g.probeInterval = Millis(interval);
  takeNumber(doc, issues, section, "probe-failures", g.probeFailures, 1, 100);
  cfg.groups.push_back(std::move(g));
}

bool knownGroup(const SipConfig& cfg, std::string_view name) {
  for (const auto& g : cfg.groups) {
    if (g.name == name) {
      return true;
    }
  }
  return false;
}

void parseRule(std::string_view text, int line, ConfigIssues& issues, SipConfig& cfg) {
  RoutingRule r;
  r.line = line;
  auto words = text;
  bool first = true;
  while (!(words = trim(words)).empty()) {
    const auto sp = words.find_first_of(" \t");
    const auto word = words.substr(0, sp);
    words = sp == std::string_view::npos ? std::string_view{} : words.substr(sp);
    if (first) {
      r.group = std::string(word);
      first = false;
      continue;
    }
    const auto eq = word.find('=');
    const auto k = word.substr(0, eq);
    const auto v = eq == std::string_view::npos ? std::string_view{} : word.substr(eq + 1);
    std::string* field = k == "user" ? &r.user : k == "dnis-prefix" ? &r.dnisPrefix
                       : k == "tenant" ? &r.tenant : k == "service" ? &r.service : nullptr;
    if (!field || v.empty()) {
      issues.add(line, fmt::format("[routing] rule: '{}' is not a condition; write user=NAME, "
                                   "dnis-prefix=DIGITS, tenant=ID or service=NAME", word));
      return;
    }
    *field = std::string(v);
  }
  if (!knownGroup(cfg, r.group)) {
    issues.add(line, fmt::format("[routing] rule names resource group '{}', which is not in "
                                 "[sip] resource-groups", r.group));
    return;
  }
  cfg.rules.push_back(std::move(r));
}

void parseRouting(IniDocument& doc, ConfigIssues& issues, SipConfig& cfg) {
  auto rules = doc.takePrefixed(kRouting, "rule.");
  std::sort(rules.begin(), rules.end(), [](const auto& a, const auto& b) {
    return a.second.line < b.second.line;
  });
  for (const auto& [key, entry] : rules) {
    parseRule(entry.value, entry.line, issues, cfg);
  }
  if (const auto* e = doc.take(kRouting, "default-group")) {
    cfg.defaultGroup = std::string(trim(e->value));
    if (!knownGroup(cfg, cfg.defaultGroup)) {
      issues.add(e->line, fmt::format("[routing] default-group '{}' is not in [sip] "
                                      "resource-groups", cfg.defaultGroup));
      cfg.defaultGroup.clear();
    }
  }
}

} // namespace

std::string SipAddress::hostPort() const {
  return address.is_v6() ? fmt::format("[{}]:{}", address.to_string(), port)
                         : fmt::format("{}:{}", address.to_string(), port);
}

bool parseSipAddress(std::string_view text, SipAddress& out) {
  text = trim(text);
  out = SipAddress{};
  std::string_view hostport = text;
  if (text.starts_with("sip:")) {
    Uri u;
    if (!parseUri(text, u).ok() || !u.user.empty()) {
      return false;
    }
    const auto t = u.param("transport");
    if (iequals(t, "tcp")) {
      out.transport = TransportKind::Tcp;
    } else if (!t.empty() && !iequals(t, "udp")) {
      return false;
    }
    out.port = u.port == 0 ? 5060 : u.port;
    return parseIp(u.host, out.address);
  }
  if (text.starts_with("udp:") || text.starts_with("tcp:")) {
    out.transport = text[0] == 't' ? TransportKind::Tcp : TransportKind::Udp;
    hostport = text.substr(4);
  }
  std::string_view host;
  bool v6 = false;
  if (!parseHostPort(hostport, host, out.port, v6).ok() || !parseIp(host, out.address)) {
    return false;
  }
  if (out.port == 0) {
    out.port = 5060;
  }
  return true;
}

bool peerFromUri(const Uri& uri, Peer& out) {
  out = Peer{};
  if (!parseIp(uri.host, out.address)) {
    return false;
  }
  out.port = uri.port == 0 ? 5060 : uri.port;
  const auto t = uri.param("transport");
  out.transport = iequals(t, "tcp") ? TransportKind::Tcp : TransportKind::Udp;
  return t.empty() || iequals(t, "tcp") || iequals(t, "udp");
}

SipConfig parseSipConfig(IniDocument& doc, ConfigIssues& issues) {
  SipConfig cfg;
  parseSipSection(doc, issues, cfg);
  if (const auto* e = doc.take(kSip, "resource-groups")) {
    for (auto name : splitList(e->value)) {
      parseGroup(doc, issues, name, e->line, cfg);
    }
  }
  parseRouting(doc, issues, cfg);
  return cfg;
}

void addSipKnownKeys(std::map<std::string, std::vector<std::string>>& known) {
  known["sip"] = {"listen", "advertised-address", "upstream", "trusted-sources", "t1-ms",
                  "t2-ms", "t4-ms", "invite-failover-ms", "max-session-age-s", "retry-after-s",
                  "max-message-size", "tcp-idle-timeout-s", "tcp-max-connections-per-peer",
                  "max-sessions", "resource-groups"};
  known["resource-group.*"] = {"servers", "policy", "capacity", "probe-interval-ms",
                               "probe-failures"};
  known["routing"] = {"rule.*", "default-group"};
}

} // namespace rmha::core::sip
