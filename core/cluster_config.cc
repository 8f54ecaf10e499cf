// Parsing and validation of [cluster]: option names and meanings follow the GVP Resource
// Manager guide (cluster.ha-mode, cluster.virtual-ip, cluster.member.1|2,
// cluster.other-active-rmnode-ip); the rest is what the failover engine needs.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "core/config.h"
#include "core/small_file.h"

namespace rmha::core {
namespace {

constexpr const char* kSection = "cluster";
// A key is a few dozen bytes; the bound keeps a wrong path (a log, an image) from being read
// into memory whole.
constexpr std::size_t kMaxAuthKeyBytes = 4096;
constexpr std::size_t kMinAuthKeyBytes = 16;

struct Parser {
  IniDocument& doc;
  ConfigIssues& issues;
  ClusterConfig c;

  const IniDocument::Entry* take(const char* key) { return doc.take(kSection, key); }

  void millis(const char* key, Millis min, Millis max, Millis& out) {
    if (const auto* e = take(key)) {
      parseMillis(*e, key, min, max, issues, out);
    }
  }
  void integer(const char* key, long min, long max, int& out) {
    if (const auto* e = take(key)) {
      long v = 0;
      if (parseInt(*e, key, min, max, issues, v)) {
        out = static_cast<int>(v);
      }
    }
  }
  void boolean(const char* key, bool& out) {
    if (const auto* e = take(key)) {
      parseBool(*e, key, issues, out);
    }
  }

  void mode() {
    if (const auto* e = take("ha-mode")) {
      // The guide writes the values with a space ("active standby") as often as with a dash.
      std::string v = e->value;
      std::replace(v.begin(), v.end(), ' ', '-');
      std::transform(v.begin(), v.end(), v.begin(), [](unsigned char ch) { return std::tolower(ch); });
      if (v == "none" || v.empty()) {
        c.haMode = HaMode::None;
      } else if (v == "active-standby") {
        c.haMode = HaMode::ActiveStandby;
      } else if (v == "active-active") {
        c.haMode = HaMode::ActiveActive;
      } else {
        issues.add(e->line, fmt::format("ha-mode = '{}' is not a mode; write ha-mode = none, "
                                        "active-standby or active-active",
                                        e->value));
      }
    }
    c.steering = c.haMode == HaMode::ActiveStandby ? SteeringKind::Vip : SteeringKind::None;
    if (const auto* e = take("traffic-steering")) {
      if (e->value == "vip") {
        c.steering = SteeringKind::Vip;
      } else if (e->value == "nlb") {
        c.steering = SteeringKind::Nlb;
        refuseNlbWithoutSteering(e->line);
      } else if (e->value == "none") {
        c.steering = SteeringKind::None;
      } else {
        issues.add(e->line, fmt::format("traffic-steering = '{}' is unknown; write vip (Linux "
                                        "virtual IP), nlb (Windows NLB) or none",
                                        e->value));
      }
    }
  }

  void refuseNlbWithoutSteering(int line) {
#ifndef _WIN32
    // No build drives an NLB host yet (winnlb/ holds the tested portable parts only), and a
    // Linux host has no NLB at all: a node that accepted nlb would run with no steering and
    // never take the traffic.
    issues.add(line, "traffic-steering = nlb: this Linux build has no Windows NLB steering; "
                     "write traffic-steering = vip with virtual-ip and vip-interface, or use "
                     "ha-mode = active-active behind a load balancer");
#else
    (void)line;
#endif
  }

  void virtualIp() {
    if (const auto* e = take("virtual-ip")) {
      std::string addr = e->value;
      const auto slash = addr.find('/');
      bool v6 = false;
      if (slash != std::string::npos) {
        const auto prefix = addr.substr(slash + 1);
        addr.resize(slash);
        IniDocument::Entry pe{prefix, e->line};
        long p = 0;
        if (parseIp(addr, v6) && parseInt(pe, "virtual-ip prefix", 1, v6 ? 128 : 32, issues, p)) {
          c.virtualIpPrefix = static_cast<int>(p);
        }
      } else if (parseIp(addr, v6)) {
        c.virtualIpPrefix = v6 ? 128 : 32;
      }
      if (!parseIp(addr, v6)) {
        issues.add(e->line, fmt::format("virtual-ip = '{}' is not an IP address; write "
                                        "virtual-ip = 192.0.2.10 or 192.0.2.10/24",
                                        e->value));
      } else {
        c.virtualIp = addr;
      }
    }
    if (const auto* e = take("vip-interface")) {
      if (e->value.empty() || e->value.size() > 15 || e->value.find('/') != std::string::npos) {
        issues.add(e->line, "vip-interface must be an interface name (1 to 15 characters, no "
                            "'/'); write vip-interface = eth0");
      } else {
        c.vipInterface = e->value;
      }
    }
  }

  void members() {
    for (int i = 0; i < 2; ++i) {
      for (const bool alt : {false, true}) {
        const auto key = fmt::format("{}member.{}", alt ? "alt-" : "", i + 1);
        const auto* e = doc.take(kSection, key);
        if (!e) {
          continue;
        }
        HostPort hp;
        if (!parseHostPort(e->value, kDefaultMemberPort, hp)) {
          issues.add(e->line, fmt::format("{} = '{}' is not an address; write {} = 192.0.2.1 "
                                          "or 192.0.2.1:{} (the port defaults to {})",
                                          key, e->value, key, kDefaultMemberPort,
                                          kDefaultMemberPort));
          continue;
        }
        (alt ? c.altMember : c.member)[static_cast<std::size_t>(i)] = hp;
      }
    }
    if (const auto* e = take("other-active-rmnode-ip")) {
      bool v6 = false;
      if (!e->value.empty() && !parseIp(e->value, v6)) {
        issues.add(e->line, fmt::format("other-active-rmnode-ip = '{}' is not an IP address; "
                                        "write the other RM's SIP address, e.g. 192.0.2.2",
                                        e->value));
      } else {
        c.otherActiveRmnodeIp = e->value;
      }
    }
    if (const auto* e = take("local-member")) {
      if (e->value == "1" || e->value == "2") {
        c.localMember = e->value[0] - '0';
      } else if (e->value != "auto") {
        issues.add(e->line, "local-member must be 1, 2 or auto; write local-member = 1 on the "
                            "node whose address is member.1");
      }
    }
  }

  void timers() {
    // A profile sets both timers; an explicit heartbeat-interval or dead-interval overrides it.
    if (const auto* e = take("timer-profile")) {
      if (e->value == "default") {
        c.timerProfile = e->value;
        c.heartbeatInterval = Millis{10};
        c.deadInterval = Millis{50};
      } else if (e->value == "fast") {
        c.timerProfile = e->value;
        c.heartbeatInterval = Millis{3};
        c.deadInterval = Millis{15};
      } else {
        issues.add(e->line, fmt::format("timer-profile = '{}' is not a profile; write "
                                        "timer-profile = default (heartbeat 10 ms, dead after "
                                        "50 ms) or fast (3 ms, 15 ms)",
                                        e->value));
      }
    }
    millis("heartbeat-interval", Millis{1}, Millis{10000}, c.heartbeatInterval);
    millis("dead-interval", Millis{3}, Millis{60000}, c.deadInterval);
    // The adaptive dead interval's ceiling: 4 x dead-interval unless set; = dead-interval
    // turns the adaptation off.
    c.deadIntervalMax = 4 * c.deadInterval;
    if (const auto* e = take("dead-interval-max")) {
      if (parseMillis(*e, "dead-interval-max", Millis{3}, Millis{60000}, issues,
                      c.deadIntervalMax) &&
          c.deadIntervalMax < c.deadInterval) {
        issues.add(e->line, fmt::format("dead-interval-max = {} ms is below dead-interval = {} "
                                        "ms; write dead-interval-max = {} (no adaptation) or "
                                        "more",
                                        c.deadIntervalMax.count(), c.deadInterval.count(),
                                        c.deadInterval.count()));
      }
    }
    millis("handover-timeout", Millis{10}, Millis{60000}, c.handoverTimeout);
    millis("nic-hold-down", Millis{0}, Millis{60000}, c.nicHoldDown);
    integer("priority", 1, 255, c.priority);
    boolean("preempt", c.preempt);
    integer("realtime-priority", 0, 99, c.realtimePriority);
    boolean("lock-memory", c.lockMemory);
  }

  void steering() {
    millis("vip-lifetime", Millis{0}, Millis{3600000}, c.vipLifetime);
    boolean("arp-probe", c.arpProbe);
    millis("arp-probe-wait", Millis{0}, Millis{2000}, c.arpProbeWait);
    integer("garp-count", 0, 100, c.garpCount);
    millis("garp-interval", Millis{0}, Millis{10000}, c.garpInterval);
    millis("garp-repeat-after", Millis{0}, Millis{600000}, c.garpRepeatAfter);
    millis("garp-refresh", Millis{0}, Millis{3600000}, c.garpRefresh);
    if (const auto* e = take("garp-form")) {
      if (e->value == "request") {
        c.garpForm = GarpForm::Request;
      } else if (e->value == "reply") {
        c.garpForm = GarpForm::Reply;
      } else if (e->value == "both") {
        c.garpForm = GarpForm::Both;
      } else {
        issues.add(e->line, "garp-form must be request, reply or both; write garp-form = both");
      }
    }
    if (const auto* e = take("gateway")) {
      bool v6 = false;
      if (!e->value.empty() && (!parseIp(e->value, v6) || v6)) {
        issues.add(e->line, fmt::format("gateway = '{}' is not an IPv4 address; write gateway = "
                                        "192.0.2.254, or remove the key to skip the check",
                                        e->value));
      } else {
        c.gateway = e->value;
      }
    }
    millis("gateway-check-interval", Millis{10}, Millis{60000}, c.gatewayCheckInterval);
    integer("gateway-misses", 1, 100, c.gatewayMisses);
  }

  void nics() {
    if (const auto* e = take("monitor-nics")) {
      for (const auto& n : splitList(e->value)) {
        const bool looksMac = n.size() == 17 && std::count(n.begin(), n.end(), ':') == 5;
        const bool macOk =
            looksMac && std::all_of(n.begin(), n.end(), [](unsigned char ch) {
              return ch == ':' || std::isxdigit(ch);
            });
        if ((looksMac && !macOk) || (!looksMac && (n.size() > 15 || n.find('/') != n.npos))) {
          issues.add(e->line, fmt::format("monitor-nics entry '{}' is neither an interface name "
                                          "nor a MAC; write names (eth0) or MACs "
                                          "(02:00:00:00:00:01), separated by commas",
                                          n));
        } else {
          c.monitorNics.push_back(n);
        }
      }
    }
    if (const auto* e = take("nic-policy")) {
      if (e->value == "any") {
        c.nicPolicy = NicPolicy::Any;
      } else if (e->value == "all") {
        c.nicPolicy = NicPolicy::All;
      } else {
        issues.add(e->line, "nic-policy must be any (any monitored NIC down = network down) or "
                            "all (down only when every monitored NIC is down)");
      }
    }
  }

  void authKey() {
    const auto* e = take("auth-key-file");
    if (!e) {
      return;
    }
    c.authKeyFile = e->value;
    std::string why;
    const auto file = readSmallFile(e->value, kMaxAuthKeyBytes, why);
    if (!file) {
      // The example names no path of the operator's: that one may be a FIFO or a device.
      issues.add(e->line, fmt::format("auth-key-file '{}' {}; write the key into a regular file "
                                      "of 16 to {} bytes, mode 0600 (e.g. head -c 32 "
                                      "/dev/urandom | base64 > /etc/rmha/peer.key)",
                                      e->value, why, kMaxAuthKeyBytes));
      return;
    }
    // DESIGN "Security": the key is readable only by the daemon's user. Checked on the opened
    // file, so a symlink to it is judged by its target.
    if ((file->mode & 077) != 0) {
      issues.add(e->line, fmt::format("auth-key-file '{}' is readable by others (mode {:o}); "
                                      "run chmod 600 on it",
                                      e->value, file->mode & 0777));
      return;
    }
    std::string key = file->content;
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) {
      key.pop_back();
    }
    if (key.size() < kMinAuthKeyBytes) {
      issues.add(e->line, fmt::format("auth-key-file '{}' {}; write at least {} random bytes "
                                      "(e.g. head -c 32 /dev/urandom | base64)",
                                      e->value,
                                      key.empty() ? std::string("is empty")
                                                  : fmt::format("holds {} bytes", key.size()),
                                      kMinAuthKeyBytes));
      return;
    }
    c.authKey = key;
  }
};

void resolveLocalMember(ClusterConfig& c, ConfigIssues& issues, int line,
                        const std::vector<std::string>& localAddresses) {
  if (c.localMember != 0 || !c.member[0] || !c.member[1]) {
    return;
  }
  for (int i = 0; i < 2; ++i) {
    const auto& ip = c.member[static_cast<std::size_t>(i)]->ip;
    if (std::find(localAddresses.begin(), localAddresses.end(), ip) != localAddresses.end()) {
      c.localMember = i + 1;
      return;
    }
  }
  issues.add(line, fmt::format("neither member.1 ({}) nor member.2 ({}) is an address of this "
                               "host; write local-member = 1 or 2, or fix the member addresses",
                               c.member[0]->ip, c.member[1]->ip));
}

} // namespace

namespace {

int lineOf(IniDocument& doc, const char* key) {
  const auto* e = doc.take(kSection, key);
  return e ? e->line : doc.sectionLine(kSection);
}

void checkHaMode(IniDocument& doc, const ClusterConfig& c, ConfigIssues& issues) {
  const auto mode = toString(c.haMode);
  for (int i = 0; i < 2; ++i) {
    if (!c.member[static_cast<std::size_t>(i)] &&
        !doc.take(kSection, fmt::format("member.{}", i + 1))) {
      issues.add(lineOf(doc, "ha-mode"),
                 fmt::format("ha-mode = {} needs member.{}; write member.{} = <ip>[:port] (the "
                             "port defaults to {})",
                             mode, i + 1, i + 1, kDefaultMemberPort));
    }
  }
  if (c.member[0] && c.member[1] && *c.member[0] == *c.member[1]) {
    issues.add(lineOf(doc, "member.2"), "member.1 and member.2 are the same address; give each "
                                        "node its own address");
  }
  if (c.virtualIp.empty()) {
    issues.add(lineOf(doc, "ha-mode"),
               fmt::format("ha-mode = {} needs virtual-ip; write virtual-ip = {}", mode,
                           c.haMode == HaMode::ActiveStandby
                               ? "<the shared address>, e.g. 192.0.2.10/24"
                               : "<the load balancer's address, or this RM's own address>"));
  }
  if (c.authKey.empty() && c.authKeyFile.empty()) {
    issues.add(lineOf(doc, "ha-mode"),
               fmt::format("ha-mode = {} needs auth-key-file (the peer link is authenticated); "
                           "write auth-key-file = /etc/rmha/peer.key",
                           mode));
  }
  if (c.altMember[0].has_value() != c.altMember[1].has_value()) {
    issues.add(lineOf(doc, c.altMember[0] ? "alt-member.1" : "alt-member.2"),
               "a second heartbeat path needs both alt-member.1 and alt-member.2; write both or "
               "neither");
  }
}

void checkModeConflicts(IniDocument& doc, const ClusterConfig& c, ConfigIssues& issues) {
  if (c.haMode == HaMode::ActiveStandby) {
    if (!c.otherActiveRmnodeIp.empty()) {
      issues.add(lineOf(doc, "other-active-rmnode-ip"),
                 "other-active-rmnode-ip is only for ha-mode = active-active with SIP Server as "
                 "the load balancer; remove it, or set ha-mode = active-active");
    }
    if (c.steering == SteeringKind::None) {
      issues.add(lineOf(doc, "traffic-steering"),
                 "active-standby needs traffic steering; write traffic-steering = vip (Linux) or "
                 "nlb (Windows)");
    }
    if (c.steering == SteeringKind::Vip && c.vipInterface.empty()) {
      issues.add(lineOf(doc, "ha-mode"), "traffic-steering = vip needs the interface that "
                                         "carries the VIP; write vip-interface = eth0");
    }
  }
  if (c.haMode == HaMode::ActiveActive && c.steering != SteeringKind::None) {
    issues.add(lineOf(doc, "traffic-steering"),
               "in active-active the load balancer owns the traffic; write traffic-steering = "
               "none or remove the key");
  }
  if (c.haMode == HaMode::None && !c.otherActiveRmnodeIp.empty()) {
    issues.add(lineOf(doc, "other-active-rmnode-ip"),
               "other-active-rmnode-ip must be empty in stand-alone mode; remove it, or set "
               "ha-mode = active-active");
  }
}

void checkTimers(IniDocument& doc, const ClusterConfig& c, ConfigIssues& issues) {
  // Three missed heartbeats before a peer is declared dead: fewer turns one late packet into
  // a false failover.
  if (c.deadInterval < 3 * c.heartbeatInterval) {
    issues.add(lineOf(doc, "dead-interval"),
               fmt::format("dead-interval = {} ms is not comfortably above heartbeat-interval = "
                           "{} ms; write dead-interval = {} or more (3 heartbeats)",
                           c.deadInterval.count(), c.heartbeatInterval.count(),
                           3 * c.heartbeatInterval.count()));
  }
  if (c.nicHoldDown >= c.deadInterval) {
    issues.add(lineOf(doc, "nic-hold-down"),
               fmt::format("nic-hold-down = {} ms must stay below dead-interval = {} ms, or a "
                           "NIC failure is noticed later than a dead peer; write "
                           "nic-hold-down = {} or less",
                           c.nicHoldDown.count(), c.deadInterval.count(),
                           c.deadInterval.count() / 2));
  }
  if (c.handoverTimeout < c.deadInterval) {
    issues.add(lineOf(doc, "handover-timeout"),
               fmt::format("handover-timeout = {} ms is shorter than dead-interval = {} ms; write "
                           "handover-timeout = {} or more",
                           c.handoverTimeout.count(), c.deadInterval.count(),
                           c.deadInterval.count()));
  }
  if (c.garpRefresh.count() != 0 && c.garpRefresh < Millis{100}) {
    issues.add(lineOf(doc, "garp-refresh"),
               "garp-refresh below 100 ms would flood the LAN; write garp-refresh = 0 (off) or "
               "100 or more (ms)");
  }
  if (c.steering == SteeringKind::Vip && c.virtualIp.find(':') != std::string::npos) {
    issues.add(lineOf(doc, "virtual-ip"),
               "the Linux VIP steering announces IPv4 addresses (gratuitous ARP); write an IPv4 "
               "virtual-ip, or use an external load balancer (ha-mode = active-active)");
  }
  if (c.steering == SteeringKind::Vip && c.vipLifetime.count() != 0 &&
      c.vipLifetime < Millis{1000}) {
    issues.add(lineOf(doc, "vip-lifetime"),
               "vip-lifetime is counted by the kernel in whole seconds; write vip-lifetime = "
               "1000 or more (ms), or 0 to keep the VIP until it is removed");
  }
}

} // namespace

ClusterConfig parseClusterConfig(IniDocument& doc, ConfigIssues& issues,
                                 const std::vector<std::string>& localAddresses) {
  Parser p{doc, issues, {}};
  p.mode();
  p.virtualIp();
  p.members();
  p.timers();
  p.steering();
  p.nics();
  p.authKey();
  if (p.c.ha()) {
    checkHaMode(doc, p.c, issues);
    resolveLocalMember(p.c, issues, lineOf(doc, "local-member"), localAddresses);
  }
  checkModeConflicts(doc, p.c, issues);
  checkTimers(doc, p.c, issues);
  return p.c;
}

} // namespace rmha::core
