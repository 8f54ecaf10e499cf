// The takeover probe against the peer's leftover VIP, on a real LAN: node, peer and a third
// station on a bridge. The peer's daemon is gone but its kernel still holds the VIP (the
// lifetime has not run out) and answers the probe: with the peer's address in
// VipOptions::peerAddresses and its MAC in the node's neighbour table the node claims anyway;
// a third station answering is still a conflict.
#include "netlink/vip_steering.h"

#include "core/asio_timer.h"
#include "netns_lab.h"

namespace rmha::netlink {
namespace {

using namespace lab;

constexpr const char* kVip = "192.0.2.10";
constexpr const char* kNodeMac = "00:00:5e:00:53:41";
constexpr const char* kPeerMac = "00:00:5e:00:53:42";
constexpr const char* kThirdMac = "00:00:5e:00:53:43";
constexpr const char* kPeerIp = "192.0.2.42";

class VipPeerProbe : public ::testing::Test {
protected:
  void SetUp() override {
    if (!haveLabPrivileges()) {
      GTEST_SKIP() << "needs root (network namespaces)";
    }
    sw = std::make_unique<Netns>(runName("rmhaps"));
    node = std::make_unique<Netns>(runName("rmhapn"));
    peer = std::make_unique<Netns>(runName("rmhapp"));
    third = std::make_unique<Netns>(runName("rmhapt"));
    ASSERT_TRUE(sw->ok() && node->ok() && peer->ok() && third->ok());
    ASSERT_EQ(sw->ip("link add br0 type bridge") | sw->ip("link set br0 up"), 0);
    attach(*node, 41, kNodeMac, "192.0.2.41/24", "pn");
    attach(*peer, 43, kPeerMac, std::string(kPeerIp) + "/24", "pp");
    attach(*third, 45, kThirdMac, "192.0.2.43/24", "pt");
    nodeThread = std::make_unique<NsThread>(*node);
    ASSERT_TRUE(nodeThread->ok());
    for (const auto* ns : {node.get(), peer.get(), third.get()}) {
      ASSERT_TRUE(eventually([&] { return ns->ipOut("link show eth0").find("LOWER_UP") != std::string::npos; }));
    }
  }
  void TearDown() override {
    if (nodeThread) {
      nodeThread->call([this] {
        steering.reset();
        timers.reset();
        return 0;
      });
    }
    nodeThread.reset();
    third.reset();
    peer.reset();
    node.reset();
    sw.reset();
  }
  /// A host's eth0 on a port of the bridge (distinct ifindexes: immediate link events).
  void attach(const Netns& host, int index, const char* mac, const std::string& addr,
              const std::string& port) {
    ASSERT_EQ(host.ip(fmt::format("link add eth0 index {} address {} type veth peer name {} netns {} "
                                  "index {}",
                                  index, mac, port, sw->name(), index + 1)), 0);
    ASSERT_EQ(sw->ip("link set " + port + " master br0") | sw->ip("link set " + port + " up"), 0);
    ASSERT_EQ(host.ip("addr add " + addr + " dev eth0") | host.ip("link set eth0 up"), 0);
  }
  void make(std::vector<std::string> peers) {
    VipOptions o;
    o.address = kVip;
    o.prefixLength = 32;
    o.interfaceName = "eth0";
    o.probeWait = core::Millis(100);  // generous on a loaded CI machine; the default is 2 ms
    o.garpRepeatAfter = core::Millis(0);
    o.peerAddresses = std::move(peers);
    nodeThread->call([this, o] {
      timers = std::make_unique<core::AsioTimerFactory>(nodeThread->io().get_executor());
      steering = std::make_unique<VipSteering>(nodeThread->io(), o, *timers);
      return 0;
    });
  }
  std::error_code acquire() {
    auto result = std::make_shared<std::promise<std::error_code>>();
    auto fut = result->get_future();
    nodeThread->call([this, result] {
      steering->acquire([result](std::error_code ec) { result->set_value(ec); });
      return 0;
    });
    if (fut.wait_for(5s) != std::future_status::ready) {
      ADD_FAILURE() << "acquire did not complete";
      return std::make_error_code(std::errc::timed_out);
    }
    return fut.get();
  }
  /// What the heartbeats do in the daemon: the node talks to the peer, so the kernel has
  /// resolved the peer's MAC.
  void learnPeer() {
    ASSERT_EQ(node->exec(std::string("ping -c1 -W2 ") + kPeerIp), 0);
    ASSERT_NE(node->ipOut(std::string("neigh show ") + kPeerIp).find(kPeerMac), std::string::npos);
  }
  bool vipOn(const Netns& ns) {
    return ns.ipOut("-4 -o addr show dev eth0").find(std::string(kVip) + "/") != std::string::npos;
  }
  std::string conflictMac() { return nodeThread->call([this] { return steering->conflictMac(); }); }

  std::unique_ptr<Netns> sw, node, peer, third;
  std::unique_ptr<NsThread> nodeThread;
  std::unique_ptr<core::AsioTimerFactory> timers;
  std::unique_ptr<VipSteering> steering;
};

TEST_F(VipPeerProbe, ThePeersLeftoverVipDoesNotStopTheTakeover) {
  learnPeer();
  ASSERT_EQ(peer->ip(std::string("addr add ") + kVip + "/32 dev eth0"), 0);
  make({kPeerIp, "198.51.100.42"});
  EXPECT_EQ(acquire(), std::error_code());
  EXPECT_TRUE(vipOn(*node));
  EXPECT_TRUE(nodeThread->call([this] { return steering->owned(); }));
  EXPECT_EQ(conflictMac(), "");
}

TEST_F(VipPeerProbe, WithoutPeerAddressesThePeersAnswerIsAConflict) {
  learnPeer();
  ASSERT_EQ(peer->ip(std::string("addr add ") + kVip + "/32 dev eth0"), 0);
  make({});
  EXPECT_EQ(acquire(), make_error_code(SteeringError::AddressConflict));
  EXPECT_EQ(conflictMac(), kPeerMac);
  EXPECT_FALSE(vipOn(*node));
}

TEST_F(VipPeerProbe, AThirdStationHoldingTheVipIsAConflict) {
  learnPeer();
  ASSERT_EQ(peer->ip(std::string("addr add ") + kVip + "/32 dev eth0"), 0);
  ASSERT_EQ(third->ip(std::string("addr add ") + kVip + "/32 dev eth0"), 0);
  make({kPeerIp});
  EXPECT_EQ(acquire(), make_error_code(SteeringError::AddressConflict));
  EXPECT_EQ(conflictMac(), kThirdMac);
  EXPECT_FALSE(vipOn(*node));
}

TEST_F(VipPeerProbe, AThirdStationAloneIsAConflict) {
  learnPeer();
  ASSERT_EQ(third->ip(std::string("addr add ") + kVip + "/32 dev eth0"), 0);
  make({kPeerIp});
  EXPECT_EQ(acquire(), make_error_code(SteeringError::AddressConflict));
  EXPECT_EQ(conflictMac(), kThirdMac);
  EXPECT_FALSE(vipOn(*node));
}

} // namespace
} // namespace rmha::netlink
