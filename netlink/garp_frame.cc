#include "netlink/garp_frame.h"

#include <cstring>

#include <arpa/inet.h>
#include <fmt/format.h>

namespace rmha::netlink {
namespace {

constexpr std::size_t kEthHeader = 14;
constexpr std::size_t kArpBody = 28;
constexpr std::uint16_t kEthTypeArp = 0x0806;
constexpr std::uint16_t kEthTypeIpv4 = 0x0800;
constexpr MacAddress kZeroMac{};
constexpr Ipv4Address kZeroIp{};

void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v & 0xff);
}

std::uint16_t get16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

} // namespace

std::optional<MacAddress> parseMac(std::string_view text) {
  if (text.size() != 17) {
    return std::nullopt;
  }
  MacAddress mac{};
  for (std::size_t i = 0; i < 6; ++i) {
    const int hi = hexValue(text[i * 3]);
    const int lo = hexValue(text[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-')) {
      return std::nullopt;
    }
    mac[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return mac;
}

std::string toString(const MacAddress& mac) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3],
                     mac[4], mac[5]);
}

std::optional<Ipv4Address> parseIpv4(std::string_view text) {
  const std::string s(text);
  in_addr a{};
  if (::inet_pton(AF_INET, s.c_str(), &a) != 1) {
    return std::nullopt;
  }
  Ipv4Address ip{};
  std::memcpy(ip.data(), &a, 4);
  return ip;
}

std::string toString(const Ipv4Address& ip) {
  return fmt::format("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3]);
}

ArpFrame buildArp(std::uint16_t op, const MacAddress& ethDst, const MacAddress& sha,
                  const Ipv4Address& spa, const MacAddress& tha, const Ipv4Address& tpa) {
  ArpFrame f{};
  auto* p = f.data();
  std::memcpy(p, ethDst.data(), 6);
  std::memcpy(p + 6, sha.data(), 6);
  put16(p + 12, kEthTypeArp);
  p += kEthHeader;
  put16(p, 1);             // hardware type: Ethernet
  put16(p + 2, kEthTypeIpv4);
  p[4] = 6;                // hardware address length
  p[5] = 4;                // protocol address length
  put16(p + 6, op);
  std::memcpy(p + 8, sha.data(), 6);
  std::memcpy(p + 14, spa.data(), 4);
  std::memcpy(p + 18, tha.data(), 6);
  std::memcpy(p + 24, tpa.data(), 4);
  return f;
}

ArpFrame garpRequest(const MacAddress& mac, const Ipv4Address& ip) {
  return buildArp(kArpRequest, kBroadcastMac, mac, ip, kZeroMac, ip);
}

ArpFrame garpReply(const MacAddress& mac, const Ipv4Address& ip) {
  return buildArp(kArpReply, kBroadcastMac, mac, ip, mac, ip);
}

ArpFrame arpProbe(const MacAddress& mac, const Ipv4Address& ip) {
  return buildArp(kArpRequest, kBroadcastMac, mac, kZeroIp, kZeroMac, ip);
}

ArpFrame arpRequest(const MacAddress& mac, const Ipv4Address& sender, const Ipv4Address& target) {
  return buildArp(kArpRequest, kBroadcastMac, mac, sender, kZeroMac, target);
}

std::optional<ArpPacket> parseArpFrame(const std::uint8_t* data, std::size_t len) {
  if (data == nullptr || len < kEthHeader + kArpBody || get16(data + 12) != kEthTypeArp) {
    return std::nullopt;
  }
  const auto* p = data + kEthHeader;
  if (get16(p) != 1 || get16(p + 2) != kEthTypeIpv4 || p[4] != 6 || p[5] != 4) {
    return std::nullopt;
  }
  ArpPacket a;
  std::memcpy(a.ethSource.data(), data + 6, 6);
  a.op = get16(p + 6);
  std::memcpy(a.senderMac.data(), p + 8, 6);
  std::memcpy(a.senderIp.data(), p + 14, 4);
  std::memcpy(a.targetMac.data(), p + 18, 6);
  std::memcpy(a.targetIp.data(), p + 24, 4);
  return a;
}

} // namespace rmha::netlink
