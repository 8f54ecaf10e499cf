// VipSteering's sequencing on simulated time, over a fake backend: probe, claim, announce,
// renew, conflicts, release. The real backend is exercised by the integration tests.
#include "netlink/vip_steering.h"

#include <algorithm>
#include <map>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "tests/fakes/fake_clock.h"

namespace rmha::netlink {
namespace {

using namespace std::chrono_literals;

const MacAddress kOurMac{0x00, 0x00, 0x5e, 0x00, 0x53, 0x01};
const MacAddress kOtherMac{0x00, 0x00, 0x5e, 0x00, 0x53, 0x02};
const MacAddress kThirdMac{0x00, 0x00, 0x5e, 0x00, 0x53, 0x03};
const Ipv4Address kVip{192, 0, 2, 10};

struct FakeBackend final : VipBackend {
  Privileges privileges() override { return privs; }
  std::error_code probeAddressChange(int) override {
    ++addressProbes;
    return addressProbeError;
  }
  std::error_code open(const std::string&, const std::string& f, FrameHandler onFrame,
                       MacAddress& mac, int& ifindex) override {
    ++opens;
    filter = f;
    if (openError) {
      return openError;
    }
    handler = std::move(onFrame);
    mac = ourMac;
    ifindex = 7;
    return {};
  }
  std::error_code addOrRenew(int, const Ipv4Address&, unsigned prefix, unsigned lifetime) override {
    ++adds;
    present_ = true;
    lastPrefix = prefix;
    lastLifetime = lifetime;
    return addError;
  }
  std::error_code remove(int, const Ipv4Address&, unsigned) override {
    ++removes;
    present_ = false;
    return {};
  }
  bool present(int, const Ipv4Address&) override { return present_; }
  std::vector<NeighbourEntry> neighbours(const std::vector<Ipv4Address>& ips) override {
    ++neighbourReads;
    std::vector<NeighbourEntry> found;
    for (const auto& e : neighbourTable) {
      if (std::find(ips.begin(), ips.end(), e.ip) != ips.end()) {
        found.push_back(e);
      }
    }
    return found;
  }
  std::error_code sendFrame(const std::uint8_t* data, std::size_t len) override {
    sent.push_back(*parseArpFrame(data, len));
    return {};
  }
  void deliver(const ArpFrame& f) { handler(f.data(), f.size()); }
  std::size_t count(std::uint16_t op, const Ipv4Address& sender) const {
    std::size_t n = 0;
    for (const auto& a : sent) {
      n += a.op == op && a.senderIp == sender;
    }
    return n;
  }

  int opens = 0, adds = 0, removes = 0, neighbourReads = 0, addressProbes = 0;
  Privileges privs;
  std::error_code addressProbeError;
  MacAddress ourMac = kOurMac;
  std::vector<NeighbourEntry> neighbourTable;
  unsigned lastPrefix = 0, lastLifetime = 0;
  bool present_ = false;
  std::error_code openError, addError;
  std::string filter;
  FrameHandler handler;
  std::vector<ArpPacket> sent;
};

struct Conflicts final : core::SteeringEvents {
  void onTrafficConflict(const std::string& mac) override { macs.push_back(mac); }
  std::vector<std::string> macs;
};

class VipSteeringTest : public ::testing::Test {
protected:
  void make(VipOptions o) {
    auto b = std::make_unique<FakeBackend>();
    backend = b.get();
    steering = std::make_unique<VipSteering>(io, std::move(o), clock, std::move(b));
    steering->setEvents(conflicts);
  }
public:
  static VipOptions options() {
    VipOptions o;
    o.address = "192.0.2.10";
    o.prefixLength = 24;
    o.interfaceName = "eth0";
    return o;  // defaults: probe 2 ms, 3 x both forms 1 ms apart, repeat after 1 s, 3 s life
  }

protected:
  void acquire(std::optional<bool> probe = std::nullopt) {
    auto cb = [this](std::error_code ec) { results.push_back(ec); };
    probe ? steering->acquire(cb, *probe) : steering->acquire(cb);
  }
  void drain() {
    io.restart();
    io.poll();
  }
  std::size_t garps() const { return backend->count(kArpRequest, kVip); }

  boost::asio::io_context io;
  rmha::test::FakeClock clock;
  FakeBackend* backend = nullptr;
  std::unique_ptr<VipSteering> steering;
  Conflicts conflicts;
  std::vector<std::error_code> results;
};

TEST_F(VipSteeringTest, ProbeThenClaimThenBurst) {
  make(options());
  acquire();
  ASSERT_EQ(backend->sent.size(), 1u);
  EXPECT_EQ(backend->sent[0].senderIp, Ipv4Address{});  // the probe
  EXPECT_EQ(backend->sent[0].targetIp, kVip);
  EXPECT_EQ(backend->adds, 0);
  EXPECT_NE(backend->filter.find("0xc000020a"), std::string::npos);
  clock.advance(1ms);
  EXPECT_EQ(backend->adds, 0);
  clock.advance(1ms);  // probe wait over: claim
  EXPECT_EQ(backend->adds, 1);
  EXPECT_EQ(backend->lastPrefix, 24u);
  EXPECT_EQ(backend->lastLifetime, 3u);
  EXPECT_EQ(garps(), 1u);
  EXPECT_EQ(backend->count(kArpReply, kVip), 1u);
  EXPECT_TRUE(results.empty());  // done is posted, not called from inside
  drain();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0]);
  EXPECT_TRUE(steering->owned());
  clock.advance(2ms);
  EXPECT_EQ(garps(), 3u);
  clock.advance(500ms);
  EXPECT_EQ(garps(), 3u);  // the burst is over
  clock.advance(497ms);
  EXPECT_EQ(garps(), 3u);
  clock.advance(1ms);  // the second burst, 1 s after the claim
  EXPECT_EQ(garps(), 4u);
  clock.advance(2ms);
  EXPECT_EQ(garps(), 6u);
}

TEST_F(VipSteeringTest, WithoutProbeTheAddressAndFirstGarpGoOutInsideAcquire) {
  auto o = options();
  o.garpForm = GarpForm::Request;
  make(o);
  acquire(false);
  EXPECT_EQ(backend->adds, 1);
  ASSERT_EQ(backend->sent.size(), 1u);
  EXPECT_EQ(backend->sent[0].op, kArpRequest);
  EXPECT_EQ(backend->sent[0].senderIp, kVip);
  drain();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0]);
}

TEST_F(VipSteeringTest, LifetimeIsRenewedWhileOwnedAndNotAfterRelease) {
  make(options());
  acquire(false);
  EXPECT_EQ(backend->adds, 1);
  clock.advance(1000ms);  // lifetime / 3
  EXPECT_EQ(backend->adds, 2);
  clock.advance(1000ms);
  EXPECT_EQ(backend->adds, 3);
  steering->release();
  EXPECT_EQ(backend->removes, 1);
  EXPECT_FALSE(steering->owned());
  const auto sent = backend->sent.size();
  clock.advance(10s);
  EXPECT_EQ(backend->adds, 3);
  EXPECT_EQ(backend->sent.size(), sent);  // no more announcements either
}

TEST_F(VipSteeringTest, ProbeAnsweredIsAConflictNamingTheMac) {
  make(options());
  acquire();
  // The holder's kernel answers the probe: reply, sender = VIP.
  backend->deliver(buildArp(kArpReply, kOurMac, kOtherMac, kVip, kOurMac, Ipv4Address{}));
  drain();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], make_error_code(SteeringError::AddressConflict));
  EXPECT_EQ(steering->conflictMac(), "00:00:5e:00:53:02");
  clock.advance(10ms);
  EXPECT_EQ(backend->adds, 0);
  EXPECT_FALSE(steering->owned());
}

TEST_F(VipSteeringTest, AnotherProbeForTheVipIsAConflictButUnrelatedArpIsNot) {
  make(options());
  acquire();
  backend->deliver(arpRequest(kOtherMac, Ipv4Address{192, 0, 2, 1}, kVip));  // a client asking
  drain();
  EXPECT_TRUE(results.empty());
  backend->deliver(arpProbe(kOtherMac, kVip));
  drain();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], make_error_code(SteeringError::AddressConflict));
}

TEST_F(VipSteeringTest, ConflictsWhileOwnedAreReportedOncePerMacPerHoldOff) {
  make(options());
  acquire(false);
  backend->deliver(garpRequest(kOurMac, kVip));  // our own frame looped back: ignored
  EXPECT_TRUE(conflicts.macs.empty());
  backend->deliver(garpRequest(kOtherMac, kVip));
  backend->deliver(garpReply(kOtherMac, kVip));
  EXPECT_EQ(conflicts.macs, std::vector<std::string>{"00:00:5e:00:53:02"});
  backend->deliver(garpReply(kThirdMac, kVip));
  EXPECT_EQ(conflicts.macs.size(), 2u);
  clock.advance(1000ms);
  backend->deliver(garpReply(kThirdMac, kVip));
  EXPECT_EQ(conflicts.macs.size(), 3u);
}

TEST_F(VipSteeringTest, NoConflictReportsWhenNotOwned) {
  make(options());
  EXPECT_EQ(backend->opens, 0);
  steering->clearStale();  // opens the backend
  backend->deliver(garpRequest(kOtherMac, kVip));
  EXPECT_TRUE(conflicts.macs.empty());
}

TEST_F(VipSteeringTest, ReleaseDuringProbeCancelsTheAcquire) {
  make(options());
  acquire();
  steering->release();
  drain();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], make_error_code(SteeringError::Canceled));
  clock.advance(10ms);
  EXPECT_EQ(backend->adds, 0);
}

TEST_F(VipSteeringTest, SecondAcquireWhileProbingIsBusyAndWhileOwnedSucceeds) {
  make(options());
  acquire();
  acquire();
  drain();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], make_error_code(SteeringError::Busy));
  clock.advance(2ms);
  drain();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_FALSE(results[1]);
  acquire();
  drain();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_FALSE(results[2]);
  EXPECT_EQ(backend->adds, 1);
}

TEST_F(VipSteeringTest, ReassertSendsABurstOnlyWhenOwned) {
  auto o = options();
  o.garpRepeatAfter = 0ms;
  make(o);
  steering->reassert();
  EXPECT_TRUE(backend->sent.empty());
  acquire(false);
  clock.advance(10ms);
  EXPECT_EQ(garps(), 3u);
  steering->reassert();
  clock.advance(10ms);
  EXPECT_EQ(garps(), 6u);
}

TEST_F(VipSteeringTest, ReassertsDuringABurstExtendItInsteadOfFlooding) {
  auto o = options();
  o.garpRepeatAfter = 0ms;
  make(o);
  acquire(false);
  EXPECT_EQ(garps(), 1u);  // the first of the burst; two more 1 ms apart
  for (int i = 0; i < 200; ++i) {
    steering->reassert();  // a split brain healing: one reassert per peer heartbeat
  }
  EXPECT_EQ(garps(), 1u);
  clock.advance(10ms);
  EXPECT_EQ(garps(), 4u);  // the burst, extended to 3 frames after the last reassert
  steering->reassert();    // no burst in progress: a new burst at once
  EXPECT_EQ(garps(), 5u);
}

TEST_F(VipSteeringTest, ReassertRepeatsTheBurstLaterLikeAClaim) {
  make(options());  // second burst 1 s after
  acquire(false);
  clock.advance(1500ms);
  ASSERT_EQ(garps(), 6u);  // the claim's two bursts
  steering->reassert();
  clock.advance(10ms);
  EXPECT_EQ(garps(), 9u);
  clock.advance(989ms);
  EXPECT_EQ(garps(), 9u);
  clock.advance(10ms);  // 1 s after the reassert: its second burst
  EXPECT_EQ(garps(), 12u);
}

TEST_F(VipSteeringTest, PeriodicRefresh) {
  auto o = options();
  o.garpRepeatAfter = 0ms;
  o.garpRefresh = 200ms;
  o.garpCount = 1;
  make(o);
  acquire(false);
  EXPECT_EQ(garps(), 1u);
  clock.advance(200ms);
  EXPECT_EQ(garps(), 2u);
  clock.advance(400ms);
  EXPECT_EQ(garps(), 4u);
}

TEST_F(VipSteeringTest, BackendFailuresFailTheAcquire) {
  make(options());
  backend->openError = std::make_error_code(std::errc::no_such_device);
  acquire();
  drain();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], std::errc::no_such_device);
  backend->openError = {};
  backend->addError = std::make_error_code(std::errc::operation_not_permitted);
  acquire(false);
  drain();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1], std::errc::operation_not_permitted);
  EXPECT_FALSE(steering->owned());
}

TEST_F(VipSteeringTest, ClearStaleRemovesAPresentVip) {
  make(options());
  backend->present_ = true;
  steering->clearStale();
  EXPECT_EQ(backend->removes, 1);
  steering->clearStale();
  EXPECT_EQ(backend->removes, 1);
}

TEST_F(VipSteeringTest, GarpCountZeroAnnouncesNothing) {
  auto o = options();
  o.garpCount = 0;
  make(o);
  acquire(false);
  clock.advance(5s);
  EXPECT_EQ(garps(), 0u);
  EXPECT_TRUE(steering->owned());
}

// The peer's kernel still answers for the VIP after its daemon died (the address has not
// expired yet): that answer must not stop the takeover; a third station's must.
const Ipv4Address kPeerIp{192, 0, 2, 12};
const Ipv4Address kPeerAltIp{198, 51, 100, 12};

VipOptions withPeer() {
  auto o = VipSteeringTest::options();
  o.peerAddresses = {"192.0.2.12", "198.51.100.12"};
  return o;
}

TEST_F(VipSteeringTest, ProbeAnsweredByThePeersMacClaimsAnyway) {
  make(withPeer());
  backend->neighbourTable = {{Ipv4Address{192, 0, 2, 1}, kThirdMac}, {kPeerIp, kOtherMac}};
  acquire();
  EXPECT_EQ(backend->neighbourReads, 0);  // nobody answered yet: the table is not read
  backend->deliver(buildArp(kArpReply, kOurMac, kOtherMac, kVip, kOurMac, Ipv4Address{}));
  backend->deliver(garpRequest(kOtherMac, kVip));  // its announcement too
  drain();
  EXPECT_TRUE(results.empty());
  EXPECT_EQ(backend->neighbourReads, 1);  // once per acquire
  clock.advance(2ms);  // the probe wait runs to its end, then the claim
  drain();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0]);
  EXPECT_TRUE(steering->owned());
  EXPECT_EQ(backend->adds, 1);
  EXPECT_EQ(steering->conflictMac(), "");
}

TEST_F(VipSteeringTest, PeersAltAddressCountsToo) {
  make(withPeer());
  backend->neighbourTable = {{kPeerAltIp, kOtherMac}};
  acquire();
  backend->deliver(buildArp(kArpReply, kOurMac, kOtherMac, kVip, kOurMac, Ipv4Address{}));
  clock.advance(2ms);
  drain();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0]);
}

TEST_F(VipSteeringTest, AThirdStationIsAConflictEvenWhenThePeerAnsweredFirst) {
  make(withPeer());
  backend->neighbourTable = {{kPeerIp, kOtherMac}, {Ipv4Address{192, 0, 2, 1}, kThirdMac}};
  acquire();
  backend->deliver(buildArp(kArpReply, kOurMac, kOtherMac, kVip, kOurMac, Ipv4Address{}));
  backend->deliver(buildArp(kArpReply, kOurMac, kThirdMac, kVip, kOurMac, Ipv4Address{}));
  drain();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], make_error_code(SteeringError::AddressConflict));
  EXPECT_EQ(steering->conflictMac(), "00:00:5e:00:53:03");
  EXPECT_EQ(backend->adds, 0);
}

TEST_F(VipSteeringTest, PeerWithoutNeighbourEntryIsTreatedAsAnyStation) {
  make(withPeer());
  acquire();  // the neighbour table knows neither peer address
  backend->deliver(buildArp(kArpReply, kOurMac, kOtherMac, kVip, kOurMac, Ipv4Address{}));
  drain();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], make_error_code(SteeringError::AddressConflict));
}

TEST_F(VipSteeringTest, WithoutPeerAddressesTheNeighbourTableIsNeverRead) {
  make(options());
  backend->neighbourTable = {{kPeerIp, kOtherMac}};
  acquire();
  backend->deliver(buildArp(kArpReply, kOurMac, kOtherMac, kVip, kOurMac, Ipv4Address{}));
  drain();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], make_error_code(SteeringError::AddressConflict));
  EXPECT_EQ(backend->neighbourReads, 0);
}

TEST_F(VipSteeringTest, PeersMacIsRememberedAcrossAcquires) {
  make(withPeer());
  backend->neighbourTable = {{kPeerIp, kOtherMac}};
  acquire();
  backend->deliver(buildArp(kArpReply, kOurMac, kOtherMac, kVip, kOurMac, Ipv4Address{}));
  clock.advance(2ms);
  steering->release();
  backend->neighbourTable.clear();  // the entry went FAILED meanwhile
  acquire();
  backend->deliver(buildArp(kArpReply, kOurMac, kOtherMac, kVip, kOurMac, Ipv4Address{}));
  clock.advance(2ms);
  drain();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_FALSE(results[1]);
  EXPECT_TRUE(steering->owned());
}

TEST_F(VipSteeringTest, StrictAcquireCountsEvenThePeersAnswerAsAConflict) {
  // A peer never heard (broken peer link): its answer may be a live owner, not a leftover.
  make(withPeer());
  backend->neighbourTable = {{kPeerIp, kOtherMac}};
  steering->acquireStrict([this](std::error_code ec) { results.push_back(ec); });
  backend->deliver(buildArp(kArpReply, kOurMac, kOtherMac, kVip, kOurMac, Ipv4Address{}));
  drain();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], make_error_code(SteeringError::AddressConflict));
  // The next ordinary acquire is lenient again.
  acquire();
  backend->deliver(buildArp(kArpReply, kOurMac, kOtherMac, kVip, kOurMac, Ipv4Address{}));
  clock.advance(2ms);
  drain();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_FALSE(results[1]);
}

TEST_F(VipSteeringTest, ThePeersSimultaneousProbeIsStillAConflict) {
  // Not a leftover: the peer is alive and claiming too. Both back off; the engine decides.
  make(withPeer());
  backend->neighbourTable = {{kPeerIp, kOtherMac}};
  acquire();
  backend->deliver(arpProbe(kOtherMac, kVip));
  drain();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], make_error_code(SteeringError::AddressConflict));
}

// The self-test: everything a claim needs, checked without claiming (nothing added, nothing
// sent), each problem with its code and a sentence that says what to fix.
TEST_F(VipSteeringTest, SelfTestPassesWithoutClaimingOrSending) {
  make(options());
  const auto r = steering->selfTest();
  EXPECT_TRUE(r.ok()) << r.problem;
  EXPECT_EQ(backend->addressProbes, 1);
  EXPECT_EQ(backend->adds, 0);
  EXPECT_EQ(backend->removes, 0);
  EXPECT_TRUE(backend->sent.empty());
  EXPECT_FALSE(steering->owned());
}

TEST_F(VipSteeringTest, SelfTestFindsAMissingInterface) {
  make(options());
  backend->openError = std::make_error_code(std::errc::no_such_device);
  const auto r = steering->selfTest();
  EXPECT_EQ(r.code, core::UnfitCode::NoInterface);
  EXPECT_NE(r.problem.find("'eth0' does not exist"), std::string::npos) << r.problem;
  EXPECT_NE(r.problem.find("vip-interface"), std::string::npos) << r.problem;
}

TEST_F(VipSteeringTest, SelfTestFindsAMissingCapability) {
  make(options());
  backend->privs.netAdmin = false;
  auto r = steering->selfTest();
  EXPECT_EQ(r.code, core::UnfitCode::NoCapNetAdmin);
  EXPECT_NE(r.problem.find("CAP_NET_ADMIN"), std::string::npos) << r.problem;
  backend->privs = {true, false};
  r = steering->selfTest();
  EXPECT_EQ(r.code, core::UnfitCode::NoCapNetRaw);
  EXPECT_NE(r.problem.find("lacks CAP_NET_RAW"), std::string::npos) << r.problem;
  EXPECT_EQ(backend->opens, 0);  // said before anything is opened
}

TEST_F(VipSteeringTest, SelfTestFindsAPacketSocketThatDoesNotOpen) {
  make(options());
  backend->openError = std::make_error_code(std::errc::operation_not_permitted);
  EXPECT_EQ(steering->selfTest().code, core::UnfitCode::NoCapNetRaw);
  backend->openError = std::make_error_code(std::errc::io_error);
  const auto r = steering->selfTest();
  EXPECT_EQ(r.code, core::UnfitCode::PacketSocket);
  EXPECT_NE(r.problem.find("packet socket"), std::string::npos) << r.problem;
}

TEST_F(VipSteeringTest, SelfTestFindsAddressChangesRefused) {
  make(options());
  backend->addressProbeError = std::make_error_code(std::errc::operation_not_permitted);
  EXPECT_EQ(steering->selfTest().code, core::UnfitCode::NoCapNetAdmin);
  backend->addressProbeError = std::make_error_code(std::errc::invalid_argument);
  EXPECT_EQ(steering->selfTest().code, core::UnfitCode::AddressDenied);
  backend->addressProbeError = {};
  backend->ourMac = MacAddress{};  // not an Ethernet interface
  EXPECT_EQ(steering->selfTest().code, core::UnfitCode::NoInterface);
}

TEST_F(VipSteeringTest, AskPeerAcquireStopsOnThePeersAnswerAndClaimsNothing) {
  // The peer was heard and went silent, and its kernel still answers: maybe only its process
  // (or its VM) is stalled. The engine waits one more heartbeat window, then acquires anyway.
  make(withPeer());
  backend->neighbourTable = {{kPeerIp, kOtherMac}};
  steering->acquireAskPeer([this](std::error_code ec) { results.push_back(ec); });
  backend->deliver(buildArp(kArpReply, kOurMac, kOtherMac, kVip, kOurMac, Ipv4Address{}));
  drain();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], core::peerAnsweredError());
  EXPECT_FALSE(steering->owned());
  EXPECT_EQ(backend->adds, 0);
  acquire();  // after the window: its answer is its leftover VIP
  backend->deliver(buildArp(kArpReply, kOurMac, kOtherMac, kVip, kOurMac, Ipv4Address{}));
  clock.advance(2ms);
  drain();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_FALSE(results[1]);
  EXPECT_TRUE(steering->owned());
}

TEST_F(VipSteeringTest, AskPeerAcquireWithNobodyAnsweringClaims) {
  make(withPeer());
  steering->acquireAskPeer([this](std::error_code ec) { results.push_back(ec); });
  clock.advance(2ms);
  drain();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0]);
  EXPECT_TRUE(steering->owned());
}

} // namespace
} // namespace rmha::netlink
