#include "failover/daemon/daemon_config.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <fmt/format.h>

#include "netlink/host_check.h"

namespace rmha::daemon {

std::vector<std::string> localAddresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    return out;
  }
  for (auto* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) {
      continue;
    }
    char buf[INET6_ADDRSTRLEN] = {};
    if (i->ifa_addr->sa_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr, buf,
                sizeof buf);
    } else {
      continue;
    }
    out.emplace_back(buf);
  }
  ::freeifaddrs(list);
  return out;
}

namespace {

// In every HA shape the address peers must use for mid-call requests is cluster.virtual-ip
// (the VIP, the load balancer's address, or with SIP Server balancing this RM's own address),
// so that is what the resource manager must put in Via and Record-Route.
void checkSipAgainstCluster(core::IniDocument& doc, const DaemonConfig& c,
                            core::ConfigIssues& issues) {
  if (!c.cluster.ha() || c.cluster.virtualIp.empty() || !c.sip || c.sip->advertisedHost.empty()) {
    return;
  }
  bool v6 = false;
  if (core::parseIp(c.sip->advertisedHost, v6) && c.sip->advertisedHost != c.cluster.virtualIp) {
    const auto* e = doc.take("sip", "advertised-address");
    issues.add(e ? e->line : doc.sectionLine("sip"),
               fmt::format("[sip] advertised-address {} differs from cluster virtual-ip {}: "
                           "mid-call requests must reach whichever node serves; write "
                           "advertised-address = {}",
                           c.sip->advertisedHost, c.cluster.virtualIp, c.cluster.virtualIp));
  }
}

DaemonConfig parseDocument(core::IniDocument doc, const std::vector<std::string>& localAddrs) {
  core::ConfigIssues issues(doc.file());
  if (!doc.hasKeys()) {
    // Every key has a default, so an empty file would start a stand-alone node with no
    // resource manager: almost surely the wrong file, not a wish.
    issues.add(0, "holds no setting (the file is empty, or only comments and section "
                  "headers); a minimal configuration is '[cluster]' with 'ha-mode = none' "
                  "(stand-alone) and a [sip] section for the resource manager: see the "
                  "examples of the configuration reference");
    issues.throwIfAny();
  }
  DaemonConfig c;
  c.file = doc.file();
  c.cluster = core::parseClusterConfig(doc, issues, localAddrs);
  c.control = core::parseControlConfig(doc, issues);
  c.log = core::parseLogConfig(doc, issues);
  if (doc.sectionLine("sip") > 0) {
    c.sip = core::sip::parseSipConfig(doc, issues);
    checkSipAgainstCluster(doc, c, issues);
  }
  std::map<std::string, std::vector<std::string>> known;
  core::addCoreKnownKeys(known);
  core::sip::addSipKnownKeys(known);
  issues.append(doc.unknownKeys(known));
  issues.throwIfAny();
  c.sipFingerprint = doc.fingerprint({"cluster", "control", "log"});
  for (const char* key : {"vip-interface", "monitor-nics"}) {
    if (const auto* e = doc.take("cluster", key)) {
      c.interfaceKeyLines[key] = e->line;
    }
  }
  if (c.log.instance.empty() && c.cluster.ha()) {
    c.log.instance = fmt::format("[member {}]", c.cluster.localMember);
  }
  return c;
}

} // namespace

DaemonConfig loadDaemonConfig(const std::string& path) {
  return parseDocument(core::IniDocument::load(path), localAddresses());
}

DaemonConfig parseDaemonConfig(std::string_view text, const std::string& name,
                               const std::vector<std::string>& localAddrs) {
  return parseDocument(core::IniDocument::parse(text, name), localAddrs);
}

std::vector<std::string> hostWarnings(const DaemonConfig& c) {
  std::vector<std::string> out;
  const auto links = netlink::hostLinks();
  if (!links) {
    out.push_back(fmt::format("{}: warning: {}; the interface names were not checked", c.file,
                              links.error()));
    return out;
  }
  for (const auto& w : netlink::checkInterfaces(c.cluster, *links)) {
    const auto line = c.interfaceKeyLines.find(w.key);
    out.push_back(line == c.interfaceKeyLines.end()
                      ? fmt::format("{}: warning: {}", c.file, w.message)
                      : fmt::format("{}:{}: warning: {}", c.file, line->second, w.message));
  }
  return out;
}

std::string describe(const DaemonConfig& c) {
  const auto& k = c.cluster;
  std::string out = fmt::format("ha-mode = {}", toString(k.haMode));
  if (!k.ha()) {
    return out;
  }
  out += fmt::format("; member {} of 2 ({} <-> {}); priority {}{}; traffic-steering = {}",
                     k.localMember, k.member[static_cast<std::size_t>(k.localMember - 1)]->str(),
                     k.member[static_cast<std::size_t>(k.peerMember() - 1)]->str(), k.priority,
                     k.preempt ? " (preempt)" : "", toString(k.steering));
  if (!k.virtualIp.empty()) {
    out += fmt::format("; virtual-ip {}/{}{}", k.virtualIp, k.virtualIpPrefix,
                       k.vipInterface.empty() ? "" : " on " + k.vipInterface);
  }
  out += fmt::format("; timer-profile {}: heartbeat {} ms, dead after {} ms", k.timerProfile,
                     k.heartbeatInterval.count(), k.deadInterval.count());
  if (k.altMember[0]) {
    out += "; second heartbeat path";
  }
  return out;
}

nlohmann::json reloadOutcome(const DaemonConfig& running, const DaemonConfig& fresh) {
  nlohmann::json applied = nlohmann::json::array();
  nlohmann::json refused = nlohmann::json::array();
  if (fresh.log.level != running.log.level) {
    applied.push_back("log.level");
  }
  // Everything else shapes sockets, threads, the election or the SIP routing.
  const std::pair<bool, const char*> changes[] = {
      {!(fresh.cluster == running.cluster), "[cluster]"},
      {!(fresh.control == running.control), "[control]"},
      {fresh.log.instance != running.log.instance, "[log] instance"},
      {fresh.log.syslogPrefix != running.log.syslogPrefix, "[log] syslog-prefix"},
      {fresh.sipFingerprint != running.sipFingerprint, "[sip], [resource-group.*], [routing]"},
  };
  std::string refusedText;
  for (const auto& [changed, what] : changes) {
    if (changed) {
      refused.push_back(what);
      refusedText += (refusedText.empty() ? "" : "; ") + std::string(what);
    }
  }
  nlohmann::json r = {{"ok", refused.empty()}, {"applied", applied}, {"refused", refused}};
  if (refused.empty()) {
    r["message"] = applied.empty() ? "nothing changed" : "applied: log level";
  } else {
    r["error"] = fmt::format("changes to {} need a restart (run 'rmhactl failover' first if this "
                             "node is active); {}",
                             refusedText, applied.empty() ? "nothing applied"
                                                             : "the log level was applied");
  }
  return r;
}

} // namespace rmha::daemon
