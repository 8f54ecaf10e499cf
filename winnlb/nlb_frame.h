#pragma once
// NLB membership heartbeats on the wire: ethertype 0x886F (0xBF01 on old hosts), sent by every
// host once per AliveMsgPeriod (1 s). Layout as decoded by Wireshark's MS NLB dissector,
// checked against `tshark -V` (docs/windows-nlb.md):
//
//   off  size  field                      off  size  field
//     0     4  signature (LE) 0xC0DE01BF    28     4  unique host code (LE)
//     4     4  version (LE, major<<8|minor) 32     4  packets handled (LE)
//     8     4  unique host id (LE)          36     4  teaming configuration (LE)
//    12     4  cluster IP (network order)   40     4  reserved
//    16     4  dedicated IP (network order) 44   132  port rules, 33 x u32 (LE)
//    20     2  host id (LE)                176   264  current map, 33 x u64 (LE)
//    22     2  default host id (LE)        440   264  new map
//    24     2  convergence state (LE)      704   264  idle map
//    26     2  number of port rules (LE)   968   264  ready map
//                                         1232   132  load weights, 33 x u32 (LE)
//                                         1364   132  reserved, 33 x u32      = 1496 bytes
//
// Pure: decoding never reads past the buffer and reports truncated or garbled frames.
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "winnlb/nlb_address.h"
#include "winnlb/nlb_result.h"

namespace rmha::winnlb {

inline constexpr std::uint16_t kNlbEtherType = 0x886F;
inline constexpr std::uint16_t kNlbLegacyEtherType = 0xBF01;
inline constexpr std::uint32_t kNlbMembershipHeartbeat = 0xC0DE01BF;
inline constexpr std::uint32_t kNlbExtendedHeartbeat = 0xC0DE01C0;
inline constexpr std::uint32_t kNlbReliableProtocol = 0xC0DE01DE;
inline constexpr std::size_t kNlbMaxRules = 33;       ///< 32 port rules + the default rule
inline constexpr std::size_t kNlbMaxHosts = 32;
inline constexpr std::size_t kNlbHeartbeatSize = 1496;  ///< payload after the Ethernet header

/// One membership heartbeat. Reserved fields are not kept: they are sent as zero.
struct NlbHeartbeat {
  std::uint32_t signature = kNlbMembershipHeartbeat;
  std::uint32_t version = 0;  ///< major << 8 | minor
  std::uint32_t uniqueHostId = 0;
  Ipv4Address clusterIp{};
  Ipv4Address dedicatedIp{};
  std::uint16_t hostId = 0;  ///< 1..32, the host priority
  std::uint16_t defaultHostId = 0;
  std::uint16_t convergenceState = 0;
  std::uint16_t portRuleCount = 0;
  std::uint32_t uniqueHostCode = 0;
  std::uint32_t packetsHandled = 0;
  std::uint32_t teamingConfig = 0;
  std::array<std::uint32_t, kNlbMaxRules> portRules{};
  std::array<std::uint64_t, kNlbMaxRules> currentMap{};
  std::array<std::uint64_t, kNlbMaxRules> newMap{};
  std::array<std::uint64_t, kNlbMaxRules> idleMap{};
  std::array<std::uint64_t, kNlbMaxRules> readyMap{};
  std::array<std::uint32_t, kNlbMaxRules> loadWeights{};

  unsigned versionMajor() const { return (version >> 8) & 0xFF; }
  unsigned versionMinor() const { return version & 0xFF; }
  bool operator==(const NlbHeartbeat&) const = default;
};

/// A heartbeat with its Ethernet header.
struct NlbHeartbeatFrame {
  MacAddress destination{};
  MacAddress source{};
  std::uint16_t etherType = kNlbEtherType;
  NlbHeartbeat heartbeat;
  bool operator==(const NlbHeartbeatFrame&) const = default;
};

/// Decodes the payload after the ethertype. Fails on short payloads, other signatures
/// (extended heartbeats, the reliable protocol), and impossible host ids or rule counts.
/// Bytes after the 1496 of the heartbeat (padding) are ignored.
Parsed<NlbHeartbeat> decodeHeartbeat(std::span<const std::uint8_t> payload);

/// Decodes an Ethernet II frame (optionally with one 802.1Q tag) carrying a heartbeat.
Parsed<NlbHeartbeatFrame> decodeHeartbeatFrame(std::span<const std::uint8_t> frame);

/// The 1496-byte payload of `hb`.
std::vector<std::uint8_t> encodeHeartbeat(const NlbHeartbeat& hb);

/// The whole untagged Ethernet frame: 14-byte header + payload.
std::vector<std::uint8_t> encodeHeartbeatFrame(const NlbHeartbeatFrame& frame);

} // namespace rmha::winnlb
