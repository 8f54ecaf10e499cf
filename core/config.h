#pragma once
// The daemon's configuration: [cluster] (GVP option names: ha-mode, virtual-ip, member.1|2,
// other-active-rmnode-ip, plus what the engine needs), [control] and [log]. The SIP resource
// manager's sections are parsed by core/sip/sip_config.h. Every refusal names file:line and
// says what to write instead.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/ini.h"
#include "core/log.h"
#include "core/time_source.h"

namespace rmha::core {

enum class HaMode { None, ActiveStandby, ActiveActive };
enum class SteeringKind { None, Vip, Nlb };
enum class NicPolicy { Any, All };
enum class GarpForm { Request, Reply, Both };

std::string_view toString(HaMode m);
std::string_view toString(SteeringKind k);

inline constexpr std::uint16_t kDefaultMemberPort = 9801;

/// An IP address (v4 or v6) with a port, as written in the configuration.
struct HostPort {
  std::string ip;
  std::uint16_t port = 0;
  bool v6 = false;
  std::string str() const; ///< "192.0.2.1:9801" or "[2001:db8::1]:9801"
  bool operator==(const HostPort&) const = default;
};

struct ClusterConfig {
  HaMode haMode = HaMode::None;
  SteeringKind steering = SteeringKind::None;
  std::string virtualIp;          ///< address only
  int virtualIpPrefix = 32;       ///< prefix length for the VIP on the interface
  std::string vipInterface;
  std::array<std::optional<HostPort>, 2> member;    ///< member.1, member.2
  std::array<std::optional<HostPort>, 2> altMember; ///< second heartbeat path (alt-member.N)
  std::string otherActiveRmnodeIp;
  int localMember = 0;            ///< 1 or 2; 0 = find it among the local addresses
  int priority = 100;             ///< 1..255, higher wins
  bool preempt = false;
  /// `timer-profile`: default (10 / 50 ms) or fast (3 / 15 ms); explicit keys override it.
  std::string timerProfile = "default";
  Millis heartbeatInterval{10};
  Millis deadInterval{50};
  /// `dead-interval-max`: the ceiling of the adaptive dead interval (4 x dead-interval unless
  /// set; equal to dead-interval: no adaptation).
  Millis deadIntervalMax{200};
  Millis handoverTimeout{500};
  std::string authKeyFile;
  std::string authKey;            ///< read from authKeyFile at load
  std::vector<std::string> monitorNics; ///< names or MACs
  NicPolicy nicPolicy = NicPolicy::Any;
  Millis nicHoldDown{0};
  // VIP steering (Linux).
  Millis vipLifetime{3000};
  bool arpProbe = true;
  Millis arpProbeWait{2};
  int garpCount = 3;
  Millis garpInterval{1};
  Millis garpRepeatAfter{1000};
  Millis garpRefresh{0};
  GarpForm garpForm = GarpForm::Both;
  std::string gateway;
  Millis gatewayCheckInterval{1000};
  int gatewayMisses = 3;
  // Process.
  int realtimePriority = 20;      ///< SCHED_FIFO priority of the HA thread; 0 = off
  bool lockMemory = true;

  bool ha() const { return haMode != HaMode::None; }
  bool operator==(const ClusterConfig&) const = default;
  int peerMember() const { return localMember == 1 ? 2 : 1; }
};

struct ControlConfig {
  std::string socket = "/run/rmha/rmhad.sock";
  int maxClients = 64;              ///< clients connected at once (max-clients)
  Millis requestTimeout{2000};      ///< a request line, and taking its answer (request-timeout)
  Millis idleTimeout{60000};        ///< a connection with no request under way (idle-timeout)
  bool operator==(const ControlConfig&) const = default;
};

struct LogConfig {
  LogLevel level = LogLevel::Info;
  std::string instance; ///< printed on every line, default "node N"
  /// "<N>" syslog priority before every line; unset = auto (when stderr is the journal).
  std::optional<bool> syslogPrefix;
};

/// Parses [cluster]; `localAddresses` are this host's IPs, used when local-member is auto.
ClusterConfig parseClusterConfig(IniDocument& doc, ConfigIssues& issues,
                                 const std::vector<std::string>& localAddresses);
ControlConfig parseControlConfig(IniDocument& doc, ConfigIssues& issues);
LogConfig parseLogConfig(IniDocument& doc, ConfigIssues& issues);

/// The keys of [cluster], [control] and [log], for "unknown key" messages.
void addCoreKnownKeys(std::map<std::string, std::vector<std::string>>& known);

// Value parsers shared by every section's parser. Each returns false and adds an issue.
bool parseBool(const IniDocument::Entry& e, const std::string& key, ConfigIssues& issues,
               bool& out);
bool parseInt(const IniDocument::Entry& e, const std::string& key, long min, long max,
              ConfigIssues& issues, long& out);
/// "250", "250ms", "2s" -> milliseconds.
bool parseMillis(const IniDocument::Entry& e, const std::string& key, Millis min, Millis max,
                 ConfigIssues& issues, Millis& out);
bool parseIp(const std::string& text, bool& v6);
/// "ip", "ip:port", "[v6]:port"; `defaultPort` when no port is written.
bool parseHostPort(const std::string& text, std::uint16_t defaultPort, HostPort& out);
/// Comma or whitespace separated list.
std::vector<std::string> splitList(const std::string& text);

} // namespace rmha::core
