#pragma once
// Configuration of the embedded resource manager: section [sip], one [resource-group.NAME]
// per pool of media servers, and [routing] rules. Every key is documented in docs/sip.md.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "core/ini.h"
#include "core/sip/message.h"
#include "core/sip/transport.h"
#include "core/time_source.h"

namespace rmha::core::sip {

/// A SIP address: transport, IP literal and port (udp:192.0.2.10:5060, tcp:[2001:db8::1]:5060).
struct SipAddress {
  TransportKind transport = TransportKind::Udp;
  boost::asio::ip::address address;
  std::uint16_t port = 5060;
  Peer peer() const { return Peer{transport, address, port, 0}; }
  /// host:port as written in SIP (IPv6 in brackets).
  std::string hostPort() const;
};

enum class BalancePolicy : std::uint8_t { RoundRobin, LeastUsed };

struct ResourceGroupConfig {
  std::string name;
  std::vector<SipAddress> servers;
  BalancePolicy policy = BalancePolicy::RoundRobin;
  std::uint32_t capacity = 100;            ///< ports (concurrent sessions) per server
  Millis probeInterval{5000};              ///< 0: no OPTIONS probes
  Millis probeTimeout{2000};
  std::uint32_t probeFailures = 2;         ///< unanswered probes before a server is taken out
};

/// One routing rule; empty fields match anything. First matching rule wins.
struct RoutingRule {
  std::string group;
  std::string user;        ///< Request-URI user part, exact (case-insensitive): msml, dialog
  std::string dnisPrefix;  ///< Request-URI user part prefix: 1800
  std::string tenant;      ///< gvp-tenant-id URI parameter
  std::string service;     ///< media-service URI parameter
  int line = 0;
};

struct TrustedNet {
  boost::asio::ip::address address;
  unsigned prefix = 32;
};

struct SipConfig {
  std::vector<SipAddress> listen;          ///< at least one
  std::string advertisedHost;              ///< put in Via and Record-Route (the VIP or own IP)
  std::uint16_t advertisedPort = 0;        ///< 0: the port of the listener used
  bool hasUpstream = false;
  SipAddress upstream;                     ///< SIP Server: where media servers' requests go
  std::vector<TrustedNet> trustedSources;  ///< empty: accept from anyone
  Millis t1{500};
  Millis t2{4000};
  Millis t4{5000};
  Millis inviteFailoverTimeout{2000};      ///< no provisional from a media server: next one
  std::chrono::seconds maxSessionAge{4 * 3600};
  std::chrono::seconds retryAfter{30};
  std::size_t maxMessageSize = 65535;
  std::chrono::seconds tcpIdleTimeout{600};
  std::size_t tcpMaxConnectionsPerPeer = 16;
  std::size_t maxSessions = 200000;
  std::vector<ResourceGroupConfig> groups;
  std::vector<RoutingRule> rules;
  std::string defaultGroup;                ///< used when no rule matches; "" = 404
};

/// Reads [sip], [resource-group.*] and [routing]; every bad value is added to `issues`.
SipConfig parseSipConfig(IniDocument& doc, ConfigIssues& issues);

/// Section names and keys accepted, for unknown-key messages ("resource-group.*" for the
/// per-group sections).
void addSipKnownKeys(std::map<std::string, std::vector<std::string>>& known);

/// Parses "udp:192.0.2.10:5060", "tcp:[::1]:5060", "192.0.2.10" (udp, 5060) or a SIP URI
/// "sip:192.0.2.21:5070;transport=tcp". False on anything else.
bool parseSipAddress(std::string_view text, SipAddress& out);

/// The next hop a SIP URI names (user part ignored): its IP literal, port (5060 when absent)
/// and transport parameter. False when the host is not an IP address (no DNS here).
bool peerFromUri(const Uri& uri, Peer& out);

} // namespace rmha::core::sip
