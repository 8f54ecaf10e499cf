#include "netlink/nic_tracker.h"

#include <gtest/gtest.h>

#include "link_msg_builder.h"
#include "tests/fakes/fake_clock.h"

namespace rmha::netlink {
namespace {

using namespace std::chrono_literals;
using test::buildLink;
using test::kUpRunning;
using test::LinkSpec;

struct Recorder final : core::LinkEvents {
  void onLinkHealth(bool h, const std::string& reason) override {
    health.push_back(h);
    reasons.push_back(reason);
  }
  void onBondActiveSlaveChanged(const std::string& bond, const std::string& slave) override {
    bonds.emplace_back(bond, slave);
  }
  std::vector<bool> health;
  std::vector<std::string> reasons;
  std::vector<std::pair<std::string, std::string>> bonds;
};

class NicTrackerTest : public ::testing::Test {
protected:
  void make(std::vector<std::string> selectors, NicPolicy policy = NicPolicy::Any,
            core::Duration down = 0ms, core::Duration up = 0ms) {
    tracker = std::make_unique<NicTracker>(NicTrackerOptions{std::move(selectors), policy, down, up},
                                           clock);
  }
  void feed(const LinkSpec& spec) {
    const auto buf = buildLink(spec);
    tracker->handleDatagram(buf.data(), buf.size());
  }
  void start() {
    tracker->finishInitialLoad();
    tracker->setSink(&events);
  }
  static LinkSpec link(int index, const std::string& name, bool up, std::uint8_t macByte) {
    const unsigned flags = up ? kUpRunning : static_cast<unsigned>(IFF_UP);
    const auto oper = static_cast<std::uint8_t>(up ? IF_OPER_UP : IF_OPER_DOWN);
    return LinkSpec{.ifindex = index, .flags = flags, .name = name, .mac = test::mac(macByte),
                    .operstate = oper};
  }

  rmha::test::FakeClock clock;
  Recorder events;
  std::unique_ptr<NicTracker> tracker;
};

TEST_F(NicTrackerTest, NothingMonitoredIsAlwaysFit) {
  make({});
  start();
  feed(link(1, "eth0", false, 1));
  EXPECT_TRUE(tracker->healthy());
  EXPECT_TRUE(events.health.empty());
}

TEST_F(NicTrackerTest, InitialLoadSetsStateWithoutEvents) {
  make({"eth0"}, NicPolicy::Any, 100ms, 100ms);
  feed(link(1, "eth0", true, 1));
  start();
  EXPECT_TRUE(tracker->healthy());
  EXPECT_TRUE(events.health.empty());
  const auto nics = tracker->nics();
  ASSERT_EQ(nics.size(), 1u);
  EXPECT_EQ(nics[0].name, "eth0");
  EXPECT_EQ(nics[0].ifindex, 1);
  EXPECT_TRUE(nics[0].healthy);
}

TEST_F(NicTrackerTest, MissingNicIsUnfit) {
  make({"eth9"});
  feed(link(1, "eth0", true, 1));
  start();
  EXPECT_FALSE(tracker->healthy());
}

TEST_F(NicTrackerTest, DownWithoutHoldDownIsReportedAtOnce) {
  make({"eth0"});
  feed(link(1, "eth0", true, 1));
  start();
  feed(link(1, "eth0", false, 1));
  ASSERT_EQ(events.health, std::vector<bool>{false});
  EXPECT_NE(events.reasons[0].find("eth0"), std::string::npos);
  feed(link(1, "eth0", true, 1));
  EXPECT_EQ(events.health, (std::vector<bool>{false, true}));
}

TEST_F(NicTrackerTest, AdminDownIsDownEvenWithCarrier) {
  make({"eth0"});
  feed(link(1, "eth0", true, 1));
  start();
  feed({.ifindex = 1, .flags = IFF_RUNNING | IFF_LOWER_UP, .name = "eth0", .mac = test::mac(1)});
  EXPECT_EQ(events.health, std::vector<bool>{false});
}

TEST_F(NicTrackerTest, HoldDownSwallowsShortFlap) {
  make({"eth0"}, NicPolicy::Any, 50ms, 200ms);
  feed(link(1, "eth0", true, 1));
  start();
  feed(link(1, "eth0", false, 1));
  clock.advance(30ms);
  feed(link(1, "eth0", true, 1));
  clock.advance(100ms);
  EXPECT_TRUE(events.health.empty());
  EXPECT_TRUE(tracker->healthy());
}

TEST_F(NicTrackerTest, DownAfterHoldDownThenUpAfterUpHoldDown) {
  make({"eth0"}, NicPolicy::Any, 50ms, 200ms);
  feed(link(1, "eth0", true, 1));
  start();
  feed(link(1, "eth0", false, 1));
  clock.advance(49ms);
  EXPECT_TRUE(events.health.empty());
  clock.advance(1ms);
  ASSERT_EQ(events.health, std::vector<bool>{false});
  feed(link(1, "eth0", true, 1));
  clock.advance(199ms);
  EXPECT_EQ(events.health.size(), 1u);
  clock.advance(1ms);
  EXPECT_EQ(events.health, (std::vector<bool>{false, true}));
}

TEST_F(NicTrackerTest, PolicyAnyVersusAll) {
  for (auto policy : {NicPolicy::Any, NicPolicy::All}) {
    SCOPED_TRACE(policy == NicPolicy::Any ? "any" : "all");
    events = Recorder{};
    make({"eth0", "eth1"}, policy);
    feed(link(1, "eth0", true, 1));
    feed(link(2, "eth1", true, 2));
    start();
    feed(link(1, "eth0", false, 1));
    EXPECT_EQ(tracker->healthy(), policy == NicPolicy::All);
    feed(link(2, "eth1", false, 2));
    EXPECT_FALSE(tracker->healthy());
    EXPECT_EQ(events.health, std::vector<bool>{false});
  }
}

TEST_F(NicTrackerTest, MacSelectedNicFollowsRenameAndReAdd) {
  make({"02:00:5E:00:53:07"});
  feed(link(5, "eth0", true, 7));
  start();
  EXPECT_TRUE(tracker->healthy());
  feed(link(5, "lan0", true, 7));  // renamed: still the same NIC
  EXPECT_TRUE(tracker->healthy());
  EXPECT_EQ(tracker->nics()[0].name, "lan0");
  feed({.type = RTM_DELLINK, .ifindex = 5, .name = "lan0", .mac = test::mac(7)});
  EXPECT_FALSE(tracker->healthy());
  feed(link(9, "lan0", true, 7));  // re-added under a new index
  EXPECT_TRUE(tracker->healthy());
  EXPECT_EQ(tracker->nics()[0].ifindex, 9);
  EXPECT_EQ(events.health, (std::vector<bool>{false, true}));
}

TEST_F(NicTrackerTest, NameSelectedNicRenamedAwayAndBack) {
  make({"eth0"});
  feed(link(5, "eth0", true, 7));
  start();
  feed(link(5, "old0", true, 7));
  EXPECT_FALSE(tracker->healthy());
  EXPECT_EQ(tracker->nics()[0].ifindex, 0);
  feed(link(6, "eth0", true, 8));  // another link takes the name
  EXPECT_TRUE(tracker->healthy());
  EXPECT_EQ(tracker->nics()[0].ifindex, 6);
}

TEST_F(NicTrackerTest, MacSelectorIgnoresEnslavedLinksWithTheSameMac) {
  make({"02:00:5e:00:53:0a"});
  feed({.ifindex = 3, .flags = kUpRunning, .name = "eth1", .mac = test::mac(0x0a), .master = 10,
        .slaveKind = "bond", .slaveState = 0});
  feed({.ifindex = 10, .flags = kUpRunning, .name = "bond0", .mac = test::mac(0x0a),
        .kind = "bond", .bondActiveSlave = 3u});
  start();
  EXPECT_EQ(tracker->nics()[0].name, "bond0");
  EXPECT_EQ(tracker->nics()[0].bondActiveSlave, "eth1");
}

TEST_F(NicTrackerTest, BondActiveSlaveChangeFromMasterMessage) {
  make({"bond0"});
  feed(link(3, "eth1", true, 3));
  feed(link(4, "eth2", true, 4));
  feed({.ifindex = 10, .flags = kUpRunning, .name = "bond0", .kind = "bond", .bondActiveSlave = 3u});
  start();
  EXPECT_TRUE(events.bonds.empty());
  feed({.ifindex = 10, .flags = kUpRunning, .name = "bond0", .kind = "bond", .bondActiveSlave = 3u});
  EXPECT_TRUE(events.bonds.empty());  // unchanged
  feed({.ifindex = 10, .flags = kUpRunning, .name = "bond0", .kind = "bond", .bondActiveSlave = 4u});
  ASSERT_EQ(events.bonds.size(), 1u);
  EXPECT_EQ(events.bonds[0], (std::pair<std::string, std::string>{"bond0", "eth2"}));
  EXPECT_EQ(tracker->nics()[0].bondActiveSlave, "eth2");
  EXPECT_TRUE(events.health.empty());
}

TEST_F(NicTrackerTest, BondActiveSlaveChangeFromSlaveStateOnlyOnce) {
  make({"bond0"});
  feed(link(3, "eth1", true, 3));
  feed(link(4, "eth2", true, 4));
  feed({.ifindex = 10, .flags = kUpRunning, .name = "bond0", .kind = "bond", .bondActiveSlave = 3u});
  start();
  feed({.ifindex = 3, .flags = IFF_UP, .name = "eth1", .master = 10, .slaveKind = "bond",
        .slaveState = 1});
  feed({.ifindex = 4, .flags = kUpRunning, .name = "eth2", .master = 10, .slaveKind = "bond",
        .slaveState = 0});
  feed({.ifindex = 10, .flags = kUpRunning, .name = "bond0", .kind = "bond", .bondActiveSlave = 4u});
  ASSERT_EQ(events.bonds.size(), 1u);
  EXPECT_EQ(events.bonds[0].second, "eth2");
}

TEST_F(NicTrackerTest, ResyncTreatsUnseenLinksAsRemoved) {
  make({"eth0", "eth1"}, NicPolicy::All);
  feed(link(1, "eth0", true, 1));
  feed(link(2, "eth1", true, 2));
  start();
  tracker->beginResync();
  feed(link(1, "eth0", false, 1));  // went down while events were lost
  tracker->endResync();             // eth1 vanished while events were lost
  EXPECT_FALSE(tracker->healthy());
  EXPECT_EQ(tracker->nics()[1].ifindex, 0);
  EXPECT_EQ(events.health, std::vector<bool>{false});
}

} // namespace
} // namespace rmha::netlink
