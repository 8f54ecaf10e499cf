#include "netlink/garp_frame.h"

#include <vector>

#include <gtest/gtest.h>

namespace rmha::netlink {
namespace {

const MacAddress kMac{0x02, 0x00, 0x5e, 0x00, 0x53, 0x01};
const Ipv4Address kVip{192, 0, 2, 10};

std::vector<std::uint8_t> head(const ArpFrame& f) { return {f.begin(), f.begin() + 42}; }

TEST(GarpFrame, RequestGoldenBytes) {
  const std::vector<std::uint8_t> expected{
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x5e, 0x00, 0x53, 0x01, 0x08, 0x06,  // eth
      0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,                                      // op 1
      0x02, 0x00, 0x5e, 0x00, 0x53, 0x01, 192, 0, 2, 10,                                   // sender
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 192, 0, 2, 10};                                  // target
  const auto f = garpRequest(kMac, kVip);
  EXPECT_EQ(head(f), expected);
  for (std::size_t i = 42; i < f.size(); ++i) {
    EXPECT_EQ(f[i], 0) << "padding byte " << i;
  }
}

TEST(GarpFrame, ReplyGoldenBytes) {
  const std::vector<std::uint8_t> expected{
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x5e, 0x00, 0x53, 0x01, 0x08, 0x06,
      0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,                                      // op 2
      0x02, 0x00, 0x5e, 0x00, 0x53, 0x01, 192, 0, 2, 10,
      0x02, 0x00, 0x5e, 0x00, 0x53, 0x01, 192, 0, 2, 10};  // target MAC = ours (Linux GARP rule)
  EXPECT_EQ(head(garpReply(kMac, kVip)), expected);
}

TEST(GarpFrame, ProbeGoldenBytes) {
  const std::vector<std::uint8_t> expected{
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x5e, 0x00, 0x53, 0x01, 0x08, 0x06,
      0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
      0x02, 0x00, 0x5e, 0x00, 0x53, 0x01, 0, 0, 0, 0,     // sender IP 0.0.0.0 (RFC 5227)
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 192, 0, 2, 10};
  EXPECT_EQ(head(arpProbe(kMac, kVip)), expected);
  EXPECT_EQ(arpProbe(kMac, kVip).size(), 60u);
}

TEST(GarpFrame, ParseRoundTrip) {
  const auto f = arpRequest(kMac, Ipv4Address{198, 51, 100, 1}, kVip);
  const auto p = parseArpFrame(f.data(), f.size());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->op, kArpRequest);
  EXPECT_EQ(p->ethSource, kMac);
  EXPECT_EQ(p->senderMac, kMac);
  EXPECT_EQ(p->senderIp, (Ipv4Address{198, 51, 100, 1}));
  EXPECT_EQ(p->targetIp, kVip);
}

TEST(GarpFrame, ParseRejectsShortAndNonArp) {
  const auto f = garpReply(kMac, kVip);
  for (std::size_t n = 0; n < 42; ++n) {
    std::vector<std::uint8_t> cut(f.begin(), f.begin() + static_cast<long>(n));
    EXPECT_FALSE(parseArpFrame(cut.data(), cut.size())) << n;
  }
  auto ip = f;
  ip[13] = 0x00;  // ethertype 0x0800
  EXPECT_FALSE(parseArpFrame(ip.data(), ip.size()));
  EXPECT_FALSE(parseArpFrame(nullptr, 0));
}

TEST(GarpFrame, TextForms) {
  EXPECT_EQ(parseMac("02:00:5E:00:53:01"), kMac);
  EXPECT_EQ(parseMac("02-00-5e-00-53-01"), kMac);
  EXPECT_FALSE(parseMac("02:00:5e:00:53"));
  EXPECT_FALSE(parseMac("02:00:5e:00:53:0g"));
  EXPECT_EQ(toString(kMac), "02:00:5e:00:53:01");
  EXPECT_EQ(parseIpv4("192.0.2.10"), kVip);
  EXPECT_FALSE(parseIpv4("192.0.2"));
  EXPECT_FALSE(parseIpv4("2001:db8::1"));
  EXPECT_EQ(toString(kVip), "192.0.2.10");
}

} // namespace
} // namespace rmha::netlink
