// VipSteering against real veth links: a node namespace owning the VIP and a client namespace
// watching ARP and keeping a neighbour table, both driven from threads inside them.
#include "netlink/vip_steering.h"

#include <net/if.h>
#include <sys/capability.h>

#include "core/asio_timer.h"
#include "netlink/pcap_channel.h"
#include "netns_lab.h"

namespace rmha::netlink {
namespace {

using namespace lab;

constexpr const char* kVip = "192.0.2.10";
constexpr const char* kNodeMac = "00:00:5e:00:53:21";
constexpr const char* kClientMac = "00:00:5e:00:53:31";

struct Conflicts final : core::SteeringEvents {
  void onTrafficConflict(const std::string& mac) override { inbox.push(mac); }
  Inbox<std::string> inbox;
};

class VipIntegration : public ::testing::Test {
protected:
  void SetUp() override {
    if (!haveLabPrivileges()) {
      GTEST_SKIP() << "needs root (network namespaces)";
    }
    node = std::make_unique<Netns>(runName("rmhavn"));
    client = std::make_unique<Netns>(runName("rmhavc"));
    ASSERT_TRUE(node->ok() && client->ok());
    ASSERT_EQ(node->ip(fmt::format("link add {} index 11 address {} type veth peer name {} netns {} "
                                   "index 21 address {}",
                                   nic, kNodeMac, lan, client->name(), kClientMac)), 0);
    ASSERT_EQ(node->ip("addr add 192.0.2.2/24 dev " + nic) | node->ip("link set " + nic + " up"), 0);
    ASSERT_EQ(client->ip("addr add 192.0.2.1/24 dev " + lan) | client->ip("link set " + lan + " up"), 0);
    nodeThread = std::make_unique<NsThread>(*node);
    clientThread = std::make_unique<NsThread>(*client);
    ASSERT_TRUE(nodeThread->ok() && clientThread->ok());
    // Wait for the carrier so frames flow.
    ASSERT_TRUE(eventually([&] { return node->ipOut("link show " + nic).find("LOWER_UP") != std::string::npos; }));
  }
  void TearDown() override {
    if (nodeThread) {
      nodeThread->call([this] {
        steering.reset();
        timers.reset();
        return 0;
      });
    }
    if (clientThread) {
      clientThread->call([this] {
        capture.reset();
        return 0;
      });
    }
    nodeThread.reset();
    clientThread.reset();
    client.reset();
    node.reset();
  }

  VipOptions options() const {
    VipOptions o;
    o.address = kVip;
    o.prefixLength = 32;
    o.interfaceName = nic;
    o.probeWait = core::Millis(100);  // generous on a loaded CI machine; the default is 2 ms
    o.garpCount = 3;
    o.garpInterval = core::Millis(5);
    o.garpRepeatAfter = core::Millis(0);
    return o;
  }
  void make(const VipOptions& o) {
    nodeThread->call([this, o] {
      timers = std::make_unique<core::AsioTimerFactory>(nodeThread->io().get_executor());
      steering = std::make_unique<VipSteering>(nodeThread->io(), o, *timers);
      steering->setEvents(conflicts);
      return 0;
    });
  }
  /// Acquires and waits for done().
  std::error_code acquire(std::optional<bool> probe = std::nullopt) {
    auto result = std::make_shared<std::promise<std::error_code>>();
    auto fut = result->get_future();
    nodeThread->call([this, result, probe] {
      auto done = [result](std::error_code ec) { result->set_value(ec); };
      probe ? steering->acquire(done, *probe) : steering->acquire(done);
      return 0;
    });
    if (fut.wait_for(5s) != std::future_status::ready) {
      ADD_FAILURE() << "acquire did not complete";
      return std::make_error_code(std::errc::timed_out);
    }
    return fut.get();
  }
  bool vipOnNode() { return node->ipOut("-4 -o addr show dev " + nic).find(std::string(kVip) + "/") != std::string::npos; }
  std::string clientNeighbour() { return client->ipOut(std::string("neigh show ") + kVip + " dev " + lan); }
  /// Captures ARP in the client namespace into `frames`.
  void startCapture() {
    ASSERT_EQ(clientThread->call([this] {
      capture = std::make_unique<PcapChannel>(clientThread->io());
      return capture->open(lan, "arp", [this](const std::uint8_t* d, std::size_t n) {
        if (auto a = parseArpFrame(d, n)) {
          frames.push(*a);
        }
      });
    }), std::error_code());
  }
  std::size_t garpsSeen(std::uint16_t op) {
    std::size_t n = 0;
    for (const auto& a : frames.snapshot()) {
      n += a.op == op && toString(a.senderMac) == kNodeMac && a.senderIp == *parseIpv4(kVip) &&
           a.targetIp == *parseIpv4(kVip);
    }
    return n;
  }

  const std::string nic = runName("n", "v");
  const std::string lan = runName("c", "v");
  std::unique_ptr<Netns> node, client;
  std::unique_ptr<NsThread> nodeThread, clientThread;
  std::unique_ptr<core::AsioTimerFactory> timers;
  std::unique_ptr<VipSteering> steering;
  std::unique_ptr<PcapChannel> capture;
  Inbox<ArpPacket> frames;
  Conflicts conflicts;
};

TEST_F(VipIntegration, AcquireAnnouncesAndClientNeighbourFollows) {
  // The client believes the VIP is elsewhere; a GARP updates an existing entry.
  ASSERT_EQ(client->ip(std::string("neigh replace ") + kVip + " lladdr 00:00:5e:00:53:99 dev " + lan +
                       " nud stale"), 0);
  startCapture();
  make(options());
  ASSERT_EQ(acquire(), std::error_code());
  EXPECT_TRUE(vipOnNode());
  EXPECT_TRUE(nodeThread->call([this] { return steering->owned(); }));
  // The probe went out first, then 3 request + 3 reply announcements.
  ASSERT_TRUE(frames.waitFor([](const ArpPacket& a) { return a.senderIp == Ipv4Address{}; }));
  ASSERT_TRUE(eventually([&] { return garpsSeen(kArpRequest) >= 3 && garpsSeen(kArpReply) >= 3; }));
  EXPECT_TRUE(eventually([&] { return clientNeighbour().find(kNodeMac) != std::string::npos; }))
      << clientNeighbour();
  // The client reaches the VIP.
  EXPECT_EQ(client->exec(std::string("ping -c1 -W2 ") + kVip), 0);
  // reassert sends another burst.
  const auto before = garpsSeen(kArpRequest);
  nodeThread->call([this] {
    steering->reassert();
    return 0;
  });
  EXPECT_TRUE(eventually([&] { return garpsSeen(kArpRequest) >= before + 3; }));
}

TEST_F(VipIntegration, ReleaseRemovesTheAddress) {
  make(options());
  ASSERT_EQ(acquire(false), std::error_code());
  ASSERT_TRUE(vipOnNode());
  nodeThread->call([this] {
    steering->release();
    return 0;
  });
  EXPECT_FALSE(vipOnNode());
  EXPECT_FALSE(nodeThread->call([this] { return steering->owned(); }));
}

TEST_F(VipIntegration, ClearStaleRemovesALeftoverVip) {
  ASSERT_EQ(node->ip(std::string("addr add ") + kVip + "/32 dev " + nic), 0);
  make(options());
  nodeThread->call([this] {
    steering->clearStale();
    return 0;
  });
  EXPECT_FALSE(vipOnNode());
}

TEST_F(VipIntegration, RenewedVipStaysAndAnAbandonedOneExpires) {
  auto o = options();
  o.lifetime = core::Millis(1000);
  o.renewInterval = core::Millis(250);
  make(o);
  ASSERT_EQ(acquire(false), std::error_code());
  const auto shown = node->ipOut("-4 -o addr show dev " + nic);
  EXPECT_NE(shown.find("valid_lft 1sec"), std::string::npos) << shown;
  // Time passing is what is under test: the address must outlive its 1 s lifetime because
  // the owner renews it.
  std::this_thread::sleep_for(2500ms);
  ASSERT_TRUE(vipOnNode());
  // The owner dies without releasing (no renewal any more): the kernel removes the VIP.
  nodeThread->call([this] {
    steering.reset();
    return 0;
  });
  ASSERT_TRUE(vipOnNode());
  EXPECT_TRUE(eventually([&] { return !vipOnNode(); }, 6000ms));
}

TEST_F(VipIntegration, ProbeFindsAnotherStationAnswering) {
  ASSERT_EQ(client->ip(std::string("addr add ") + kVip + "/32 dev " + lan), 0);
  make(options());
  const auto ec = acquire();
  EXPECT_EQ(ec, make_error_code(SteeringError::AddressConflict));
  EXPECT_EQ(nodeThread->call([this] { return steering->conflictMac(); }), kClientMac);
  EXPECT_FALSE(vipOnNode());
  EXPECT_FALSE(nodeThread->call([this] { return steering->owned(); }));
}

TEST_F(VipIntegration, ConflictWatchReportsAForeignGarpOnce) {
  make(options());
  ASSERT_EQ(acquire(false), std::error_code());
  startCapture();
  ASSERT_EQ(clientThread->call([this] {
    const auto f = garpRequest(*parseMac(kClientMac), *parseIpv4(kVip));
    auto ec = capture->sendFrame(f.data(), f.size());
    const auto g = garpReply(*parseMac(kClientMac), *parseIpv4(kVip));
    return ec ? ec : capture->sendFrame(g.data(), g.size());
  }), std::error_code());
  const auto got = conflicts.inbox.waitFor([](const std::string&) { return true; });
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, kClientMac);
  // Our own announcements are never reported, and the second frame is rate-limited.
  nodeThread->call([this] {
    steering->reassert();
    return 0;
  });
  EXPECT_FALSE(conflicts.inbox.waitFor([](const std::string& m) { return m != kClientMac; }, 200ms));
  EXPECT_EQ(conflicts.inbox.snapshot().size(), 1u);
}

TEST_F(VipIntegration, ProbeLosesToAStationProbingAtTheSameTime) {
  auto o = options();
  o.probeWait = core::Millis(2000);  // a window the client's probe surely falls into
  make(o);
  startCapture();
  auto result = std::make_shared<std::promise<std::error_code>>();
  auto fut = result->get_future();
  nodeThread->call([this, result] {
    steering->acquire([result](std::error_code ec) { result->set_value(ec); });
    return 0;
  });
  // Our probe is on the wire: the client probes for the same address.
  ASSERT_TRUE(frames.waitFor([](const ArpPacket& a) { return a.senderIp == Ipv4Address{}; }));
  ASSERT_EQ(clientThread->call([this] {
    const auto f = arpProbe(*parseMac(kClientMac), *parseIpv4(kVip));
    return capture->sendFrame(f.data(), f.size());
  }), std::error_code());
  ASSERT_EQ(fut.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(fut.get(), make_error_code(SteeringError::AddressConflict));
  EXPECT_FALSE(vipOnNode());
}

TEST_F(VipIntegration, InterfaceDownAndUpAgainThenAcquire) {
  make(options());
  nodeThread->call([this] {
    steering->clearStale();  // opens the capture
    return 0;
  });
  ASSERT_EQ(node->ip("link set " + nic + " down"), 0);
  // Let the capture see the interface down (a bounded wait for nothing in particular).
  std::this_thread::sleep_for(200ms);
  ASSERT_EQ(node->ip("link set " + nic + " up"), 0);
  ASSERT_TRUE(eventually([&] { return node->ipOut("link show " + nic).find("LOWER_UP") != std::string::npos; }));
  startCapture();
  ASSERT_EQ(acquire(false), std::error_code());
  EXPECT_TRUE(vipOnNode());
  EXPECT_TRUE(eventually([&] { return garpsSeen(kArpRequest) >= 3; }));
}

TEST_F(VipIntegration, InterfaceRecreatedThenAcquire) {
  make(options());
  nodeThread->call([this] {
    steering->clearStale();  // opens the capture on the first incarnation
    return 0;
  });
  ASSERT_EQ(node->ip("link del " + nic), 0);
  // Let the capture see the interface vanish (a bounded wait for nothing in particular).
  std::this_thread::sleep_for(200ms);
  ASSERT_EQ(node->ip(fmt::format("link add {} index 12 address {} type veth peer name {} netns {} "
                                 "index 22 address {}",
                                 nic, kNodeMac, lan, client->name(), kClientMac)), 0);
  ASSERT_EQ(node->ip("link set " + nic + " up") | client->ip("link set " + lan + " up"), 0);
  ASSERT_TRUE(eventually([&] { return node->ipOut("link show " + nic).find("LOWER_UP") != std::string::npos; }));
  startCapture();
  ASSERT_EQ(acquire(false), std::error_code());
  EXPECT_TRUE(vipOnNode());
  EXPECT_TRUE(eventually([&] { return garpsSeen(kArpRequest) >= 3; }));
}

TEST_F(VipIntegration, TakeoverLatencyFigures) {
  // Not a timing assertion: prints what acquire (address add + first gratuitous ARP) and
  // release cost here, for the documentation and the failover budget.
  make(options());
  using Clock = std::chrono::steady_clock;
  const auto measure = [&](bool probe) {
    auto result = std::make_shared<std::promise<Clock::duration>>();
    auto fut = result->get_future();
    nodeThread->call([this, result, probe] {
      const auto t0 = Clock::now();
      steering->acquire([result, t0](std::error_code) { result->set_value(Clock::now() - t0); },
                        probe);
      return 0;
    });
    EXPECT_EQ(fut.wait_for(5s), std::future_status::ready);
    const auto acquired = fut.get();
    const auto released = nodeThread->call([this] {
      const auto t0 = Clock::now();
      steering->release();
      return Clock::now() - t0;
    });
    return std::make_pair(acquired, released);
  };
  for (int i = 0; i < 3; ++i) {
    const auto [acq, rel] = measure(false);
    // The first acquire opens the capture (what clearStale() at start does otherwise).
    std::printf("acquire without probe -> done (%s): %.3f ms, release: %.3f ms\n",
                i == 0 ? "cold" : "warm", core::toMillis(acq), core::toMillis(rel));
  }
  const auto [acq, rel] = measure(true);
  std::printf("acquire with a 100 ms probe wait -> done: %.3f ms\n", core::toMillis(acq));
  SUCCEED();
}

// The self-test against the real kernel: it passes on the real interface and changes nothing;
// a missing interface and a thread without CAP_NET_ADMIN are found.
TEST_F(VipIntegration, SelfTestPassesAndChangesNothing) {
  make(options());
  const auto before = node->ipOut("-4 -o addr show");
  const auto r = nodeThread->call([this] { return steering->selfTest(); });
  EXPECT_TRUE(r.ok()) << r.problem;
  EXPECT_EQ(node->ipOut("-4 -o addr show"), before);
  EXPECT_FALSE(vipOnNode());
}

TEST_F(VipIntegration, SelfTestFindsAMissingInterface) {
  auto o = options();
  o.interfaceName = "nosuch0";
  make(o);
  const auto r = nodeThread->call([this] { return steering->selfTest(); });
  EXPECT_EQ(r.code, core::UnfitCode::NoInterface) << r.problem;
}

TEST_F(VipIntegration, AddressChangeProbeIsRefusedWithoutCapNetAdmin) {
  const auto set = [](cap_flag_value_t v) {
    cap_t caps = cap_get_proc();
    const cap_value_t admin = CAP_NET_ADMIN;
    const bool ok = caps && cap_set_flag(caps, CAP_EFFECTIVE, 1, &admin, v) == 0 &&
                    cap_set_proc(caps) == 0;
    cap_free(caps);
    return ok;
  };
  const auto [withCap, withoutCap, noDevice] = nodeThread->call([&] {
    const int index = static_cast<int>(if_nametoindex(nic.c_str()));
    AddressOps ops;
    std::error_code a, b, c;
    if (ops.open()) {
      a = std::make_error_code(std::errc::not_connected);
    } else {
      a = ops.probeAddressChange(index);
      c = ops.probeAddressChange(9999);
      // Capabilities are per thread: only this namespace thread loses CAP_NET_ADMIN, and
      // gets it back before the next test step.
      AddressOps unprivileged;
      if (set(CAP_CLEAR) && !unprivileged.open()) {
        b = unprivileged.probeAddressChange(index);
      }
      set(CAP_SET);
    }
    return std::tuple{a, b, c};
  });
  EXPECT_FALSE(withCap) << withCap.message();
  EXPECT_EQ(withoutCap, std::errc::operation_not_permitted) << withoutCap.message();
  EXPECT_EQ(noDevice, std::errc::no_such_device) << noDevice.message();
}

} // namespace
} // namespace rmha::netlink
