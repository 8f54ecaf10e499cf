#include "winnlb/nlb_address.h"

#include <charconv>

#include <fmt/format.h>

namespace rmha::winnlb {

std::string_view toString(NlbClusterMode mode) {
  switch (mode) {
    case NlbClusterMode::Unicast: return "unicast";
    case NlbClusterMode::Multicast: return "multicast";
    case NlbClusterMode::IgmpMulticast: return "igmp-multicast";
  }
  return "unicast";
}

std::optional<NlbClusterMode> parseNlbClusterMode(std::string_view text) {
  for (auto m : {NlbClusterMode::Unicast, NlbClusterMode::Multicast,
                 NlbClusterMode::IgmpMulticast}) {
    if (text == toString(m)) {
      return m;
    }
  }
  return std::nullopt;
}

Parsed<Ipv4Address> parseIpv4(std::string_view text) {
  Ipv4Address ip{};
  std::string_view rest = text;
  for (std::size_t i = 0; i < ip.size(); ++i) {
    const auto dot = rest.find('.');
    const auto part = rest.substr(0, dot);
    const bool last = i + 1 == ip.size();
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    const bool bad = part.empty() || part.size() > 3 || ec != std::errc() ||
                     end != part.data() + part.size() || value > 255 ||
                     (part.size() > 1 && part.front() == '0') ||
                     (last ? dot != std::string_view::npos : dot == std::string_view::npos);
    if (bad) {
      return Parsed<Ipv4Address>::fail(
          fmt::format("\"{}\" is not an IPv4 address: write four numbers 0-255 like 192.0.2.10",
                      std::string(text.substr(0, 64))));
    }
    ip[i] = static_cast<std::uint8_t>(value);
    rest = last ? std::string_view{} : rest.substr(dot + 1);
  }
  return Parsed<Ipv4Address>::ok(ip);
}

std::string formatIpv4(const Ipv4Address& ip) {
  return fmt::format("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3]);
}

std::string formatMac(const MacAddress& mac, char separator) {
  return fmt::format("{:02X}{}{:02X}{}{:02X}{}{:02X}{}{:02X}{}{:02X}", mac[0], separator, mac[1],
                     separator, mac[2], separator, mac[3], separator, mac[4], separator, mac[5]);
}

MacAddress clusterMac(const Ipv4Address& ip, NlbClusterMode mode) {
  switch (mode) {
    case NlbClusterMode::Unicast: return {0x02, 0xBF, ip[0], ip[1], ip[2], ip[3]};
    case NlbClusterMode::Multicast: return {0x03, 0xBF, ip[0], ip[1], ip[2], ip[3]};
    case NlbClusterMode::IgmpMulticast: return {0x01, 0x00, 0x5E, 0x7F, ip[2], ip[3]};
  }
  return {};
}

} // namespace rmha::winnlb
