// A bond's active slave changes under the active node: the switch learns the VIP's MAC on a
// new port only when a frame leaves through it, so the node re-announces the VIP. The whole
// chain on built rtnetlink messages (this kernel has no bonding driver): NicTracker ->
// HaService (the LinkEvents sink) -> TrafficSteering::reassert (VipSteering's burst is
// tested in unit_netlink).
#include <gtest/gtest.h>

#include "failover/engine/service.h"
#include "netlink/nic_tracker.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_ha_ports.h"
#include "tests/unit/netlink/link_msg_builder.h"

namespace rmha::failover {
namespace {

using namespace std::chrono_literals;
using netlink::test::buildLink;
using netlink::test::kUpRunning;
using netlink::test::LinkSpec;

class NoPeer final : public PeerTransport {
public:
  void send(PeerMessage) override {}
  bool channelUp() const override { return false; }
};

class BondReannounce : public ::testing::Test {
protected:
  void SetUp() override {
    tracker = std::make_unique<netlink::NicTracker>(
        netlink::NicTrackerOptions{{"bond0"}, core::NicPolicy::Any, 0ms, 0ms}, clock);
    feed({.ifindex = 3, .flags = kUpRunning, .name = "eth1", .master = 10, .slaveKind = "bond",
          .slaveState = 0});
    feed({.ifindex = 4, .flags = kUpRunning, .name = "eth2", .master = 10, .slaveKind = "bond",
          .slaveState = 1});
    feed({.ifindex = 10, .flags = kUpRunning, .name = "bond0", .kind = "bond",
          .bondActiveSlave = 3u});
    tracker->finishInitialLoad();
  }
  void startEngine(EngineSettings::Mode mode) {
    HaServiceOptions o;
    o.engine.mode = mode;
    o.engine.localMember = 1;
    o.engine.deadInterval = 25ms;
    o.engine.electionWait = 25ms;
    ha = std::make_unique<HaService>(o, clock, clock, &peer, steering, links, service, service);
    ha->start();
    tracker->setSink(ha.get());
  }
  void feed(const LinkSpec& spec) {
    const auto buf = buildLink(spec);
    tracker->handleDatagram(buf.data(), buf.size());
  }
  void failOverTheBondTo(int slave) {
    // What the kernel sends: the old slave goes backup, the new one active, the master
    // reports its new active slave.
    feed({.ifindex = 3, .flags = kUpRunning, .name = "eth1", .master = 10, .slaveKind = "bond",
          .slaveState = static_cast<std::uint8_t>(slave == 3 ? 0 : 1)});
    feed({.ifindex = 4, .flags = kUpRunning, .name = "eth2", .master = 10, .slaveKind = "bond",
          .slaveState = static_cast<std::uint8_t>(slave == 4 ? 0 : 1)});
    feed({.ifindex = 10, .flags = kUpRunning, .name = "bond0", .kind = "bond",
          .bondActiveSlave = static_cast<std::uint32_t>(slave)});
  }

  test::FakeClock clock;
  NoPeer peer;
  test::FakeSteering steering;
  test::FakeLinks links;
  test::FakeService service;
  std::unique_ptr<netlink::NicTracker> tracker;
  std::unique_ptr<HaService> ha;
};

TEST_F(BondReannounce, ActiveNodeReannouncesOnEveryActiveSlaveChange) {
  startEngine(EngineSettings::Mode::ActiveStandby);
  clock.advance(30ms); // nobody heard within the election wait: this node takes over
  ASSERT_EQ(ha->state(), HaState::Active);
  failOverTheBondTo(4);
  EXPECT_EQ(steering.reasserts, 1);
  failOverTheBondTo(4); // the same active slave again: nothing to announce
  EXPECT_EQ(steering.reasserts, 1);
  failOverTheBondTo(3);
  EXPECT_EQ(steering.reasserts, 2);
  EXPECT_TRUE(tracker->healthy()); // a slave change is not a NIC failure
}

TEST_F(BondReannounce, NodeThatDoesNotOwnTheTrafficStaysQuiet) {
  startEngine(EngineSettings::Mode::ActiveStandby);
  ASSERT_NE(ha->state(), HaState::Active); // still waiting for its peer
  failOverTheBondTo(4);
  EXPECT_EQ(steering.reasserts, 0);
}

} // namespace
} // namespace rmha::failover
