#include "netlink/link_message.h"

#include <gtest/gtest.h>

#include "link_msg_builder.h"

namespace rmha::netlink {
namespace {

using test::buildLink;
using test::LinkSpec;

TEST(LinkMessage, ParsesNameMacFlagsOperstate) {
  const auto buf = buildLink({.ifindex = 7, .flags = test::kUpRunning, .name = "eth0",
                              .mac = test::mac(0x11), .operstate = IF_OPER_UP});
  const auto batch = parseNetlinkDatagram(buf.data(), buf.size());
  ASSERT_EQ(batch.links.size(), 1u);
  const auto& m = batch.links[0];
  EXPECT_FALSE(m.removed);
  EXPECT_EQ(m.ifindex, 7);
  EXPECT_EQ(m.name, "eth0");
  EXPECT_EQ(m.mac, "02:00:5e:00:53:11");
  EXPECT_TRUE(m.adminUp());
  EXPECT_TRUE(m.lowerUp());
}

TEST(LinkMessage, LowerLayerDownWhenNotRunningOrOperstateDown) {
  const auto notRunning = buildLink({.ifindex = 1, .flags = IFF_UP, .name = "a"});
  auto a = parseNetlinkDatagram(notRunning.data(), notRunning.size()).links.at(0);
  EXPECT_TRUE(a.adminUp());
  EXPECT_FALSE(a.lowerUp());
  const auto operDown = buildLink({.ifindex = 1, .flags = test::kUpRunning, .name = "a",
                                   .operstate = IF_OPER_LOWERLAYERDOWN});
  auto b = parseNetlinkDatagram(operDown.data(), operDown.size()).links.at(0);
  EXPECT_FALSE(b.lowerUp());
}

TEST(LinkMessage, ParsesBondMasterAndSlave) {
  const auto master = buildLink({.ifindex = 10, .flags = test::kUpRunning, .name = "bond0",
                                 .kind = "bond", .bondActiveSlave = 11u});
  const auto m = parseNetlinkDatagram(master.data(), master.size()).links.at(0);
  EXPECT_EQ(m.kind, "bond");
  ASSERT_TRUE(m.bondActiveSlave);
  EXPECT_EQ(*m.bondActiveSlave, 11);
  const auto slave = buildLink({.ifindex = 11, .flags = test::kUpRunning, .name = "eth1",
                                .master = 10, .slaveKind = "bond", .slaveState = 0});
  const auto s = parseNetlinkDatagram(slave.data(), slave.size()).links.at(0);
  EXPECT_EQ(s.master, 10);
  EXPECT_EQ(s.slaveKind, "bond");
  ASSERT_TRUE(s.bondSlaveState);
  EXPECT_EQ(*s.bondSlaveState, 0);
}

TEST(LinkMessage, SeveralMessagesInOneDatagramAndDone) {
  auto buf = buildLink({.ifindex = 1, .name = "a"});
  const auto second = buildLink({.type = RTM_DELLINK, .ifindex = 2, .name = "b"});
  buf.insert(buf.end(), second.begin(), second.end());
  nlmsghdr done{};
  done.nlmsg_len = NLMSG_LENGTH(sizeof(int));
  done.nlmsg_type = NLMSG_DONE;
  done.nlmsg_seq = 42;
  const auto* d = reinterpret_cast<const std::uint8_t*>(&done);
  buf.insert(buf.end(), d, d + sizeof done);
  buf.insert(buf.end(), 4, 0);
  const auto batch = parseNetlinkDatagram(buf.data(), buf.size());
  ASSERT_EQ(batch.links.size(), 2u);
  EXPECT_TRUE(batch.links[1].removed);
  ASSERT_EQ(batch.doneSeqs.size(), 1u);
  EXPECT_EQ(batch.doneSeqs[0], 42u);
}

TEST(LinkMessage, BridgePortMessagesAreNotLinkChanges) {
  // A port leaving a bridge: AF_BRIDGE RTM_DELLINK while the link itself stays.
  const auto buf = buildLink({.type = RTM_DELLINK, .family = AF_BRIDGE, .ifindex = 4, .name = "eth0"});
  const auto batch = parseNetlinkDatagram(buf.data(), buf.size());
  EXPECT_TRUE(batch.links.empty());
  EXPECT_EQ(batch.malformed, 0u);
}

TEST(LinkMessage, TruncatedAndCorruptInputNeverReadsPastTheEnd) {
  const auto good = buildLink({.ifindex = 3, .flags = test::kUpRunning, .name = "eth3",
                               .mac = test::mac(3), .kind = "bond", .bondActiveSlave = 4u});
  for (std::size_t n = 0; n < good.size(); ++n) {
    // A copy of exactly n bytes, so ASan flags any read beyond it.
    std::vector<std::uint8_t> cut(good.begin(), good.begin() + static_cast<long>(n));
    (void)parseNetlinkDatagram(cut.data(), cut.size());
  }
  for (std::size_t i = 0; i < good.size(); ++i) {
    auto bad = good;
    bad[i] ^= 0xff;
    (void)parseNetlinkDatagram(bad.data(), bad.size());
  }
  SUCCEED();
}

} // namespace
} // namespace rmha::netlink
