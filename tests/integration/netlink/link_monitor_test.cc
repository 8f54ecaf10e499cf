// NetlinkLinkMonitor against real veth links in a per-run namespace. The monitor lives on a
// thread inside the namespace (NsThread); the test drives links with `ip -n`.
#include "netlink/link_monitor.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "core/asio_timer.h"
#include "netns_lab.h"

namespace rmha::netlink {
namespace {

using namespace lab;

struct Event {
  enum Kind { Health, Bond } kind;
  bool healthy = false;
  std::string text;
  std::chrono::steady_clock::time_point at{};
};

struct Sink final : core::LinkEvents {
  void onLinkHealth(bool h, const std::string& reason) override {
    inbox.push({Event::Health, h, reason, std::chrono::steady_clock::now()});
  }
  void onBondActiveSlaveChanged(const std::string& bond, const std::string& slave) override {
    inbox.push({Event::Bond, false, bond + ":" + slave, std::chrono::steady_clock::now()});
  }
  Inbox<Event> inbox;
};

class LinkMonitorIntegration : public ::testing::Test {
protected:
  void SetUp() override {
    if (!haveLabPrivileges()) {
      GTEST_SKIP() << "needs root (network namespaces)";
    }
    node = std::make_unique<Netns>(runName("rmhaln"));
    peer = std::make_unique<Netns>(runName("rmhalp"));
    ASSERT_TRUE(node->ok() && peer->ok());
    // Distinct ifindexes on the two ends: link events then arrive at once (see ENVIRONMENT).
    ASSERT_EQ(addPair(nic, 11, "00:00:5e:00:53:11", lan, 21), 0);
    thread = std::make_unique<NsThread>(*node);
    ASSERT_TRUE(thread->ok());
  }
  void TearDown() override {
    if (thread) {
      thread->call([this] {
        monitor.reset();
        timers.reset();
        return 0;
      });
    }
    thread.reset();
    peer.reset();
    node.reset();
  }
  int addPair(const std::string& a, int ia, const std::string& mac, const std::string& b, int ib) {
    return node->ip(fmt::format("link add {} index {} address {} type veth peer name {} netns {} index {}",
                                a, ia, mac, b, peer->name(), ib)) |
           node->ip("link set " + a + " up") | peer->ip("link set " + b + " up");
  }
  /// "" when started, otherwise what failed.
  std::string start(LinkMonitorOptions options) {
    return thread->call([this, options] {
      timers = std::make_unique<core::AsioTimerFactory>(thread->io().get_executor());
      monitor = std::make_unique<NetlinkLinkMonitor>(thread->io(), options, *timers);
      auto r = monitor->start(sink);
      return r ? std::string() : r.error().message();
    });
  }
  bool healthy() { return thread->call([this] { return monitor->healthy(); }); }
  std::vector<core::NicState> nics() { return thread->call([this] { return monitor->nics(); }); }
  std::optional<Event> waitHealth(bool h) {
    return sink.inbox.waitFor([h](const Event& e) { return e.kind == Event::Health && e.healthy == h; });
  }

  const std::string nic = runName("n", "a");
  const std::string lan = runName("p", "a");
  std::unique_ptr<Netns> node, peer;
  std::unique_ptr<NsThread> thread;
  std::unique_ptr<core::AsioTimerFactory> timers;
  std::unique_ptr<NetlinkLinkMonitor> monitor;
  Sink sink;
};

LinkMonitorOptions byName(const std::string& name) {
  LinkMonitorOptions o;
  o.nics = {name};
  o.upHoldDown = core::Millis(0);
  return o;
}

TEST_F(LinkMonitorIntegration, InitialStateAndCarrierLossReported) {
  // The carrier of a fresh veth may come up a moment after `ip link set up`.
  ASSERT_EQ(start(byName(nic)), "");
  if (!healthy()) {
    ASSERT_TRUE(waitHealth(true));
  }
  sink.inbox.clear();
  ASSERT_EQ(peer->ip("link set " + lan + " down"), 0);  // our side loses its lower layer
  const auto down = waitHealth(false);
  ASSERT_TRUE(down);
  EXPECT_NE(down->text.find(nic), std::string::npos);
  EXPECT_FALSE(healthy());
  const auto state = nics().at(0);
  EXPECT_TRUE(state.adminUp);
  EXPECT_FALSE(state.lowerUp);
  ASSERT_EQ(peer->ip("link set " + lan + " up"), 0);
  ASSERT_TRUE(waitHealth(true));
  EXPECT_TRUE(healthy());
}

TEST_F(LinkMonitorIntegration, AdminDownReported) {
  ASSERT_EQ(start(byName(nic)), "");
  if (!healthy()) {
    ASSERT_TRUE(waitHealth(true));
  }
  ASSERT_EQ(node->ip("link set " + nic + " down"), 0);
  ASSERT_TRUE(waitHealth(false));
  EXPECT_FALSE(nics().at(0).adminUp);
}

TEST_F(LinkMonitorIntegration, NicSelectedByMacSurvivesRenameAndReAdd) {
  auto o = byName("00:00:5E:00:53:11");
  ASSERT_EQ(start(o), "");
  if (!healthy()) {
    ASSERT_TRUE(waitHealth(true));
  }
  EXPECT_EQ(nics().at(0).name, nic);
  // Rename (a link must be down to be renamed): down, then back up under the new name.
  const std::string renamed = runName("r", "a");
  ASSERT_EQ(node->ip("link set " + nic + " down"), 0);
  ASSERT_TRUE(waitHealth(false));
  sink.inbox.clear();
  ASSERT_EQ(node->ip("link set " + nic + " name " + renamed), 0);
  ASSERT_EQ(node->ip("link set " + renamed + " up"), 0);
  ASSERT_TRUE(waitHealth(true));
  EXPECT_EQ(nics().at(0).name, renamed);
  EXPECT_EQ(nics().at(0).ifindex, 11);
  // Removed: unhealthy. Re-added with the same MAC under another index: picked up again.
  sink.inbox.clear();
  ASSERT_EQ(node->ip("link del " + renamed), 0);
  ASSERT_TRUE(waitHealth(false));
  EXPECT_EQ(nics().at(0).ifindex, 0);
  sink.inbox.clear();
  ASSERT_EQ(addPair(nic, 12, "00:00:5e:00:53:11", lan, 22), 0);
  ASSERT_TRUE(waitHealth(true));
  EXPECT_EQ(nics().at(0).ifindex, 12);
  EXPECT_EQ(nics().at(0).name, nic);
}

TEST_F(LinkMonitorIntegration, NicSelectedByNameRemovedAndReAdded) {
  ASSERT_EQ(start(byName(nic)), "");
  if (!healthy()) {
    ASSERT_TRUE(waitHealth(true));
  }
  ASSERT_EQ(node->ip("link del " + nic), 0);
  ASSERT_TRUE(waitHealth(false));
  sink.inbox.clear();
  ASSERT_EQ(addPair(nic, 13, "00:00:5e:00:53:13", lan, 23), 0);
  ASSERT_TRUE(waitHealth(true));
  EXPECT_EQ(nics().at(0).ifindex, 13);
}

TEST_F(LinkMonitorIntegration, LostEventsForceFullReRead) {
  auto o = byName(nic);
  o.receiveBufferBytes = 1;  // the kernel rounds up to its minimum: a few messages fit
  ASSERT_EQ(start(o), "");
  if (!healthy()) {
    ASSERT_TRUE(waitHealth(true));
  }
  // Hold the monitor's thread while links change many times: the socket overflows.
  std::promise<void> release;
  auto held = release.get_future().share();
  std::promise<void> holding;
  boost::asio::post(thread->io(), [held, &holding] {
    holding.set_value();
    held.wait();
  });
  holding.get_future().wait();
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(peer->ip(fmt::format("link add {} index {} type veth peer name {}", runName("f", std::to_string(i)),
                                   100 + i, runName("g", std::to_string(i)))), 0);
  }
  ASSERT_EQ(node->ip("link set " + nic + " down"), 0);
  for (int i = 0; i < 30; ++i) {  // more noise after the change that matters
    ASSERT_EQ(node->ip(fmt::format("link add {} type veth peer name {}", runName("h", std::to_string(i)),
                                   runName("k", std::to_string(i)))), 0);
  }
  release.set_value();
  ASSERT_TRUE(waitHealth(false));
  EXPECT_GE(thread->call([this] { return monitor->resyncCount(); }), 1u);
  EXPECT_FALSE(nics().at(0).adminUp);
}

TEST_F(LinkMonitorIntegration, LeavingABridgeIsNotRemoval) {
  // The bridge announces a port leaving it with an AF_BRIDGE RTM_DELLINK; the NIC stays.
  const std::string bridge = runName("b", "r");
  ASSERT_EQ(node->ip("link add " + bridge + " type bridge") | node->ip("link set " + bridge + " up"), 0);
  ASSERT_EQ(start(byName(nic)), "");
  if (!healthy()) {
    ASSERT_TRUE(waitHealth(true));
  }
  sink.inbox.clear();
  ASSERT_EQ(node->ip("link set " + nic + " master " + bridge), 0);
  ASSERT_EQ(node->ip("link set " + nic + " nomaster"), 0);
  // A short bounded wait for an event that must not come.
  EXPECT_FALSE(sink.inbox.waitFor([](const Event& e) { return e.kind == Event::Health; }, 300ms));
  EXPECT_TRUE(healthy());
  EXPECT_EQ(nics().at(0).ifindex, 11);
}

TEST_F(LinkMonitorIntegration, StopSilencesEvents) {
  ASSERT_EQ(start(byName(nic)), "");
  thread->call([this] {
    monitor->stop();
    return 0;
  });
  sink.inbox.clear();
  ASSERT_EQ(node->ip("link set " + nic + " down"), 0);
  // Nothing can arrive after stop(): a short bounded wait shows it.
  EXPECT_FALSE(sink.inbox.waitFor([](const Event&) { return true; }, 200ms));
}

TEST_F(LinkMonitorIntegration, GatewayReachabilityIsAFitnessCriterion) {
  ASSERT_EQ(node->ip("addr add 192.0.2.2/24 dev " + nic), 0);
  ASSERT_EQ(peer->ip("addr add 192.0.2.1/24 dev " + lan), 0);
  auto o = byName(nic);
  o.gatewayCheck = GatewayCheckOptions{"192.0.2.1", nic, core::Millis(20), 3};
  ASSERT_EQ(start(o), "");
  ASSERT_TRUE(waitHealth(true));  // first ARP reply from the gateway
  sink.inbox.clear();
  ASSERT_EQ(peer->ip("addr del 192.0.2.1/24 dev " + lan), 0);  // the gateway stops answering
  const auto lost = waitHealth(false);
  ASSERT_TRUE(lost);
  EXPECT_NE(lost->text.find("gateway"), std::string::npos);
  sink.inbox.clear();
  ASSERT_EQ(peer->ip("addr add 192.0.2.1/24 dev " + lan), 0);
  ASSERT_TRUE(waitHealth(true));
}

// Sets or clears IFF_UP with an ioctl from the calling thread (inside the namespace).
bool setAdminUp(const std::string& name, bool up) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq req{};
  std::snprintf(req.ifr_name, IFNAMSIZ, "%s", name.c_str());
  bool ok = fd >= 0 && ::ioctl(fd, SIOCGIFFLAGS, &req) == 0;
  if (ok) {
    req.ifr_flags = static_cast<short>(up ? (req.ifr_flags | IFF_UP) : (req.ifr_flags & ~IFF_UP));
    ok = ::ioctl(fd, SIOCSIFFLAGS, &req) == 0;
  }
  if (fd >= 0) {
    ::close(fd);
  }
  return ok;
}

TEST_F(LinkMonitorIntegration, LinkDownDetectionFigures) {
  // Not a timing assertion: prints the time from the kernel taking a NIC down to the sink's
  // onLinkHealth(false), with the default down hold-down of 0.
  ASSERT_EQ(start(byName(nic)), "");
  if (!healthy()) {
    ASSERT_TRUE(waitHealth(true));
  }
  for (int i = 0; i < 5; ++i) {
    sink.inbox.clear();
    const auto t0 = thread->call([this] {
      const auto t = std::chrono::steady_clock::now();
      EXPECT_TRUE(setAdminUp(nic, false));
      return t;
    });
    const auto down = waitHealth(false);
    ASSERT_TRUE(down);
    std::printf("nic down -> onLinkHealth(false): %.3f ms\n", core::toMillis(down->at - t0));
    sink.inbox.clear();
    thread->call([this] { return setAdminUp(nic, true); });
    ASSERT_TRUE(waitHealth(true));
  }
}

} // namespace
} // namespace rmha::netlink
