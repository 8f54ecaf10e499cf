#pragma once
// ARP frames as bytes: gratuitous ARP (request and reply forms), RFC 5227 probes, plain
// requests, and the parse of received ARP frames. Pure code, golden-byte tested.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/config.h"

namespace rmha::netlink {

using MacAddress = std::array<std::uint8_t, 6>;
using Ipv4Address = std::array<std::uint8_t, 4>;  ///< network byte order
/// An Ethernet + ARP frame, padded with zeros to the 60-byte Ethernet minimum.
using ArpFrame = std::array<std::uint8_t, 60>;

inline constexpr MacAddress kBroadcastMac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
inline constexpr std::uint16_t kArpRequest = 1;
inline constexpr std::uint16_t kArpReply = 2;

/// Which gratuitous ARP form to send (the configuration's enum, passed through unchanged):
/// Request: ARP request, sender = target = VIP, target MAC zero (RFC 5227 announcement);
/// Reply: ARP reply, sender = target = VIP, target MAC = our MAC (what Linux needs to count a
/// reply as gratuitous); Both: a request then a reply.
using GarpForm = core::GarpForm;

std::optional<MacAddress> parseMac(std::string_view text);
std::string toString(const MacAddress& mac);
std::optional<Ipv4Address> parseIpv4(std::string_view text);
std::string toString(const Ipv4Address& ip);

/// Any ARP frame over Ethernet (htype 1, ptype IPv4).
ArpFrame buildArp(std::uint16_t op, const MacAddress& ethDst, const MacAddress& sha,
                  const Ipv4Address& spa, const MacAddress& tha, const Ipv4Address& tpa);
/// Gratuitous ARP request: broadcast, sender = target = `ip`, target MAC zero.
ArpFrame garpRequest(const MacAddress& mac, const Ipv4Address& ip);
/// Gratuitous ARP reply: broadcast, sender = target = `ip`, target MAC = `mac`.
ArpFrame garpReply(const MacAddress& mac, const Ipv4Address& ip);
/// RFC 5227 probe: broadcast request, sender IP 0.0.0.0, target MAC zero, target = `ip`.
ArpFrame arpProbe(const MacAddress& mac, const Ipv4Address& ip);
/// Ordinary request "who has `target`, tell `sender`".
ArpFrame arpRequest(const MacAddress& mac, const Ipv4Address& sender, const Ipv4Address& target);

/// A received ARP frame, as far as rmha cares.
struct ArpPacket {
  MacAddress ethSource{};
  std::uint16_t op = 0;
  MacAddress senderMac{};
  Ipv4Address senderIp{};
  MacAddress targetMac{};
  Ipv4Address targetIp{};
};

/// Parses an Ethernet frame carrying IPv4-over-Ethernet ARP; nullopt for anything else.
std::optional<ArpPacket> parseArpFrame(const std::uint8_t* data, std::size_t len);

} // namespace rmha::netlink
