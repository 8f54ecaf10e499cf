#include "winnlb/nlb_frame.h"

#include <algorithm>

#include <fmt/format.h>

namespace rmha::winnlb {
namespace {

constexpr std::size_t kEthHeader = 14;
constexpr std::uint16_t kVlanTpid = 0x8100;
constexpr std::size_t kRulesOffset = 44;

// Little-endian reads from a buffer whose size the caller has checked.
class Reader {
public:
  explicit Reader(std::span<const std::uint8_t> b) : b_(b) {}
  std::uint64_t le(std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      v |= static_cast<std::uint64_t>(b_[pos_ + i]) << (8 * i);
    }
    pos_ += n;
    return v;
  }
  std::uint16_t u16() { return static_cast<std::uint16_t>(le(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(le(4)); }
  Ipv4Address ip() {
    Ipv4Address a{b_[pos_], b_[pos_ + 1], b_[pos_ + 2], b_[pos_ + 3]};
    pos_ += 4;
    return a;
  }
  template <class T, std::size_t N>
  void array(std::array<T, N>& out) {
    for (auto& v : out) {
      v = static_cast<T>(le(sizeof(T)));
    }
  }
  void skip(std::size_t n) { pos_ += n; }

private:
  std::span<const std::uint8_t> b_;
  std::size_t pos_ = 0;
};

class Writer {
public:
  explicit Writer(std::vector<std::uint8_t>& out) : out_(out) {}
  void le(std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
  }
  void be16(std::uint16_t v) {
    out_.push_back(static_cast<std::uint8_t>(v >> 8));
    out_.push_back(static_cast<std::uint8_t>(v));
  }
  template <std::size_t N>
  void bytes(const std::array<std::uint8_t, N>& a) { out_.insert(out_.end(), a.begin(), a.end()); }
  template <class T, std::size_t N>
  void array(const std::array<T, N>& a) {
    for (auto v : a) {
      le(v, sizeof(T));
    }
  }

private:
  std::vector<std::uint8_t>& out_;
};

std::string signatureName(std::uint32_t sig) {
  switch (sig) {
    case kNlbExtendedHeartbeat: return "an extended heartbeat (0xC0DE01C0)";
    case kNlbReliableProtocol: return "a reliable-protocol message (0xC0DE01DE)";
    default: return fmt::format("signature 0x{:08X}", sig);
  }
}

std::uint16_t be16At(std::span<const std::uint8_t> f, std::size_t off) {
  return static_cast<std::uint16_t>(f[off] << 8 | f[off + 1]);
}

} // namespace

Parsed<NlbHeartbeat> decodeHeartbeat(std::span<const std::uint8_t> payload) {
  if (payload.size() < 4) {
    return Parsed<NlbHeartbeat>::fail(
        fmt::format("NLB frame truncated: {} bytes, no signature", payload.size()));
  }
  Reader r(payload);
  NlbHeartbeat hb;
  hb.signature = r.u32();
  if (hb.signature != kNlbMembershipHeartbeat) {
    return Parsed<NlbHeartbeat>::fail(
        fmt::format("not an NLB membership heartbeat: {}", signatureName(hb.signature)));
  }
  if (payload.size() < kNlbHeartbeatSize) {
    return Parsed<NlbHeartbeat>::fail(fmt::format(
        "NLB heartbeat truncated: {} bytes of {}", payload.size(), kNlbHeartbeatSize));
  }
  hb.version = r.u32();
  hb.uniqueHostId = r.u32();
  hb.clusterIp = r.ip();
  hb.dedicatedIp = r.ip();
  hb.hostId = r.u16();
  hb.defaultHostId = r.u16();
  hb.convergenceState = r.u16();
  hb.portRuleCount = r.u16();
  hb.uniqueHostCode = r.u32();
  hb.packetsHandled = r.u32();
  hb.teamingConfig = r.u32();
  r.skip(4);  // reserved
  r.array(hb.portRules);
  r.array(hb.currentMap);
  r.array(hb.newMap);
  r.array(hb.idleMap);
  r.array(hb.readyMap);
  r.array(hb.loadWeights);
  if (hb.hostId < 1 || hb.hostId > kNlbMaxHosts || hb.defaultHostId > kNlbMaxHosts) {
    return Parsed<NlbHeartbeat>::fail(fmt::format(
        "NLB heartbeat garbled: host id {}, default host id {} (valid 1..32)", hb.hostId,
        hb.defaultHostId));
  }
  if (hb.portRuleCount > kNlbMaxRules) {
    return Parsed<NlbHeartbeat>::fail(fmt::format(
        "NLB heartbeat garbled: {} port rules (at most {})", hb.portRuleCount, kNlbMaxRules));
  }
  return Parsed<NlbHeartbeat>::ok(hb);
}

Parsed<NlbHeartbeatFrame> decodeHeartbeatFrame(std::span<const std::uint8_t> frame) {
  if (frame.size() < kEthHeader) {
    return Parsed<NlbHeartbeatFrame>::fail(
        fmt::format("Ethernet frame truncated: {} bytes", frame.size()));
  }
  NlbHeartbeatFrame out;
  std::copy_n(frame.begin(), 6, out.destination.begin());
  std::copy_n(frame.begin() + 6, 6, out.source.begin());
  std::size_t off = 12;
  out.etherType = be16At(frame, off);
  if (out.etherType == kVlanTpid) {
    if (frame.size() < kEthHeader + 4) {
      return Parsed<NlbHeartbeatFrame>::fail("802.1Q frame truncated in its tag");
    }
    off += 4;
    out.etherType = be16At(frame, off);
  }
  if (out.etherType != kNlbEtherType && out.etherType != kNlbLegacyEtherType) {
    return Parsed<NlbHeartbeatFrame>::fail(
        fmt::format("not an NLB frame: ethertype 0x{:04X}", out.etherType));
  }
  auto hb = decodeHeartbeat(frame.subspan(off + 2));
  if (!hb) {
    return Parsed<NlbHeartbeatFrame>::fail(hb.error());
  }
  out.heartbeat = hb.value();
  return Parsed<NlbHeartbeatFrame>::ok(out);
}

std::vector<std::uint8_t> encodeHeartbeat(const NlbHeartbeat& hb) {
  std::vector<std::uint8_t> out;
  out.reserve(kNlbHeartbeatSize);
  Writer w(out);
  w.le(hb.signature, 4);
  w.le(hb.version, 4);
  w.le(hb.uniqueHostId, 4);
  w.bytes(hb.clusterIp);
  w.bytes(hb.dedicatedIp);
  w.le(hb.hostId, 2);
  w.le(hb.defaultHostId, 2);
  w.le(hb.convergenceState, 2);
  w.le(hb.portRuleCount, 2);
  w.le(hb.uniqueHostCode, 4);
  w.le(hb.packetsHandled, 4);
  w.le(hb.teamingConfig, 4);
  w.le(0, 4);  // reserved
  static_assert(kRulesOffset == 11 * 4);
  w.array(hb.portRules);
  w.array(hb.currentMap);
  w.array(hb.newMap);
  w.array(hb.idleMap);
  w.array(hb.readyMap);
  w.array(hb.loadWeights);
  w.array(std::array<std::uint32_t, kNlbMaxRules>{});  // reserved
  return out;
}

std::vector<std::uint8_t> encodeHeartbeatFrame(const NlbHeartbeatFrame& frame) {
  std::vector<std::uint8_t> out;
  out.reserve(kEthHeader + kNlbHeartbeatSize);
  Writer w(out);
  w.bytes(frame.destination);
  w.bytes(frame.source);
  w.be16(frame.etherType);
  const auto payload = encodeHeartbeat(frame.heartbeat);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

} // namespace rmha::winnlb
