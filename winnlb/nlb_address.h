#pragma once
// IPv4 and MAC addresses as NLB uses them, and the cluster MAC NLB derives from the cluster IP.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "winnlb/nlb_result.h"

namespace rmha::winnlb {

using Ipv4Address = std::array<std::uint8_t, 4>;  ///< network order: {192, 0, 2, 10}
using MacAddress = std::array<std::uint8_t, 6>;

/// NLB cluster operation mode (how the cluster MAC is formed).
enum class NlbClusterMode { Unicast, Multicast, IgmpMulticast };

std::string_view toString(NlbClusterMode mode);
/// Parses "unicast", "multicast", "igmp-multicast"; nullopt on anything else.
std::optional<NlbClusterMode> parseNlbClusterMode(std::string_view text);

/// Dotted quad, strictly: four decimal parts 0..255, no leading zeros, nothing else.
Parsed<Ipv4Address> parseIpv4(std::string_view text);
std::string formatIpv4(const Ipv4Address& ip);

/// "02-BF-C0-00-02-0A" (NLB's own notation) or with another separator.
std::string formatMac(const MacAddress& mac, char separator = '-');

/// The cluster MAC for cluster IP W.X.Y.Z: unicast 02-BF-W-X-Y-Z, multicast 03-BF-W-X-Y-Z,
/// IGMP multicast 01-00-5E-7F-Y-Z.
MacAddress clusterMac(const Ipv4Address& clusterIp, NlbClusterMode mode);

} // namespace rmha::winnlb
