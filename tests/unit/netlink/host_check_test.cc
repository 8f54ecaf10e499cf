// The host check matches interface names and MACs the way the NIC watchdog does.
#include <gtest/gtest.h>

#include "netlink/host_check.h"

namespace rmha::netlink {
namespace {

const std::vector<HostLink> kHost = {
    {"lo", "00:00:00:00:00:00", false},
    {"eth0", "02:00:00:00:01:11", false},
    {"eth1", "02:00:00:00:02:11", true}, // a bond slave
    {"bond0", "02:00:00:00:03:11", false},
    {"eth2", "02:00:00:00:03:11", true}, // the bond's MAC, on a slave
};

core::ClusterConfig config(std::string vipInterface, std::vector<std::string> nics) {
  core::ClusterConfig c;
  c.vipInterface = std::move(vipInterface);
  c.monitorNics = std::move(nics);
  return c;
}

TEST(HostCheck, PresentNamesAndMacsGiveNoWarning) {
  EXPECT_TRUE(checkInterfaces(config("eth0", {"eth0", "eth1", "02:00:00:00:01:11",
                                              "02:00:00:00:03:11", "02:00:00:00:01:11"}),
                              kHost)
                  .empty());
  EXPECT_TRUE(checkInterfaces(config("", {}), kHost).empty());
}

TEST(HostCheck, MacsMatchInAnyCase) {
  EXPECT_TRUE(checkInterfaces(config("", {"02:00:00:00:01:11"}), kHost).empty());
  EXPECT_TRUE(checkInterfaces(config("", {"02:00:00:00:01:1A"}),
                              {{"eth0", "02:00:00:00:01:1a", false}})
                  .empty());
}

TEST(HostCheck, AMissingVipInterfaceIsNamedWithWhatTheHostHas) {
  const auto w = checkInterfaces(config("eth9", {}), kHost);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].key, "vip-interface");
  EXPECT_EQ(w[0].message, "vip-interface = eth9: no interface of that name on this host (it has "
                          "lo, eth0, eth1, bond0, eth2); here the node could not claim the VIP");
}

TEST(HostCheck, EachMissingNicIsOneWarning) {
  const auto w = checkInterfaces(config("eth0", {"eth7", "02:00:00:00:09:99"}), kHost);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].key, "monitor-nics");
  EXPECT_NE(w[0].message.find("monitor-nics entry 'eth7': no interface of that name"),
            std::string::npos);
  EXPECT_NE(w[1].message.find("'02:00:00:00:09:99': no interface with that MAC"),
            std::string::npos);
}

TEST(HostCheck, AMacOnlyAnEnslavedLinkCarriesSaysToNameIt) {
  const auto w = checkInterfaces(config("", {"02:00:00:00:02:11"}), kHost);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].message.find("is the MAC of eth1, which is enslaved"), std::string::npos);
  EXPECT_NE(w[0].message.find("monitor-nics = eth1"), std::string::npos);
}

TEST(HostCheck, ALongListOfLinksIsShortened) {
  std::vector<HostLink> many;
  for (int i = 0; i < 20; ++i) {
    many.push_back({"veth" + std::to_string(i), "", false});
  }
  const auto w = checkInterfaces(config("eth0", {}), many);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].message.find("veth7 and 12 more"), std::string::npos) << w[0].message;
}

TEST(HostCheck, TheRealHostHasLoopback) {
  const auto links = hostLinks();
  ASSERT_TRUE(links) << links.error();
  EXPECT_TRUE(checkInterfaces(config("lo", {"lo"}), *links).empty());
}

} // namespace
} // namespace rmha::netlink
