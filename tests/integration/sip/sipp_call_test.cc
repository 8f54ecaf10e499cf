// The resource manager between real sipp peers on loopback: calls, CANCEL, failover,
// capacity, OPTIONS, in-dialog routing, over UDP, TCP and IPv6.
#include <gtest/gtest.h>

#include "tests/integration/sip/sipp_rig.h"

namespace rmha::test {
namespace {

using namespace std::chrono_literals;
using core::Millis;
using core::sip::SipAddress;
using core::sip::SipConfig;
using core::sip::TransportKind;
namespace ip = boost::asio::ip;

constexpr auto kCallTimeout = 30s;

class SippCallTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (std::system("sipp -v >/dev/null 2>&1") == -1 ||
        std::system("command -v sipp >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "sipp is not installed";
    }
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    work_ = fs::temp_directory_path() /
            ("rmha-sip-" + std::to_string(::getpid()) + "-" + info->name());
    fs::create_directories(work_);
  }
  void TearDown() override {
    peers_.clear();  // kills what still runs, by PID
    std::error_code ec;
    if (!HasFailure()) {
      fs::remove_all(work_, ec);
    }
  }

  SipConfig config(TransportKind t, const char* addr, std::vector<SipAddress> servers,
                   std::uint32_t capacity = 10) {
    SipConfig cfg;
    cfg.listen.push_back({t, ip::make_address(addr), freePort(t == TransportKind::Tcp, addr)});
    cfg.advertisedHost = addr;
    cfg.inviteFailoverTimeout = Millis(1000);
    core::sip::ResourceGroupConfig g;
    g.name = "mcp";
    g.servers = std::move(servers);
    g.capacity = capacity;
    g.probeInterval = Millis(0);  // sipp UAS scenarios do not expect OPTIONS
    cfg.groups.push_back(g);
    cfg.defaultGroup = "mcp";
    return cfg;
  }

  SipAddress server(TransportKind t, const char* addr, std::uint16_t port) {
    return {t, ip::make_address(addr), port};
  }

  Sipp& uas(const std::string& scenario, std::uint16_t port, TransportKind t,
            const char* addr = "127.0.0.1", int calls = 1) {
    return spawn({"-sf", (scenarioDir() / scenario).string(), "-i", addr, "-p",
                  std::to_string(port), "-t", t == TransportKind::Tcp ? "t1" : "u1", "-m",
                  std::to_string(calls), "-timeout", "40s", "-trace_err"},
                 "uas-" + std::to_string(port));
  }

  Sipp& uac(const std::string& scenario, std::uint16_t rmPort, TransportKind t,
            const char* addr = "127.0.0.1", int holdMs = 0, const char* service = "msml") {
    const std::string host = std::string(addr).find(':') != std::string::npos
                                 ? "[" + std::string(addr) + "]"
                                 : std::string(addr);
    return spawn({"-sf", (scenarioDir() / scenario).string(), "-i", addr, "-p",
                  std::to_string(freePort(t == TransportKind::Tcp, addr)), "-t",
                  t == TransportKind::Tcp ? "t1" : "u1", "-m", "1", "-s", service, "-d",
                  std::to_string(holdMs), "-timeout", "30s", "-timeout_error",
                  "-trace_err", host + ":" + std::to_string(rmPort)},
                 "uac-" + std::to_string(peers_.size()));
  }

  Sipp& spawn(const std::vector<std::string>& args, const std::string& name) {
    peers_.push_back(std::make_unique<Sipp>(args, work_, name));
    return *peers_.back();
  }

  void expectSuccess(Sipp& p) {
    const auto rc = p.wait(kCallTimeout);
    ASSERT_TRUE(rc.has_value()) << "sipp did not finish\n" << p.log();
    EXPECT_EQ(*rc, 0) << p.log();
  }

  void expectNoSessionsLeft(SipRig& rig) {
    EXPECT_TRUE(rig.waiter().waitFor([&] { return rig.service().sessionCount() == 0; }, 5s))
        << rig.service().sessionsJson().dump();
  }

  std::uint64_t counter(SipRig& rig, const char* name) {
    return rig.service().statusJson()["counters"][name].get<std::uint64_t>();
  }

  fs::path work_;
  std::vector<std::unique_ptr<Sipp>> peers_;
};

TEST_F(SippCallTest, BasicCallOverUdp) {
  const auto mcp = freePort(false);
  SipRig rig(config(TransportKind::Udp, "127.0.0.1", {server(TransportKind::Udp, "127.0.0.1", mcp)}));
  ASSERT_FALSE(rig.startError());
  rig.service().startServing();
  uas("uas_call.xml", mcp, TransportKind::Udp);
  expectSuccess(uac("uac_call.xml", rig.port(), TransportKind::Udp));
  expectNoSessionsLeft(rig);
  EXPECT_EQ(counter(rig, "calls_routed"), 1u);
}

TEST_F(SippCallTest, BasicCallOverTcp) {
  const auto mcp = freePort(true);
  SipRig rig(config(TransportKind::Tcp, "127.0.0.1", {server(TransportKind::Tcp, "127.0.0.1", mcp)}));
  ASSERT_FALSE(rig.startError());
  rig.service().startServing();
  uas("uas_call.xml", mcp, TransportKind::Tcp);
  expectSuccess(uac("uac_call.xml", rig.port(), TransportKind::Tcp));
  expectNoSessionsLeft(rig);
}

TEST_F(SippCallTest, BasicCallOverIpv6) {
  if (std::system("ip -6 addr show dev lo 2>/dev/null | grep -q '::1'") != 0) {
    GTEST_SKIP() << "no IPv6 loopback";
  }
  const auto mcp = freePort(false, "::1");
  SipRig rig(config(TransportKind::Udp, "::1", {server(TransportKind::Udp, "::1", mcp)}));
  ASSERT_FALSE(rig.startError());
  rig.service().startServing();
  uas("uas_call.xml", mcp, TransportKind::Udp, "::1");
  expectSuccess(uac("uac_call.xml", rig.port(), TransportKind::Udp, "::1"));
  expectNoSessionsLeft(rig);
}

TEST_F(SippCallTest, CancelBeforeAnswer) {
  const auto mcp = freePort(false);
  SipRig rig(config(TransportKind::Udp, "127.0.0.1", {server(TransportKind::Udp, "127.0.0.1", mcp)}));
  rig.service().startServing();
  auto& media = uas("uas_cancel.xml", mcp, TransportKind::Udp);
  expectSuccess(uac("uac_cancel.xml", rig.port(), TransportKind::Udp));
  expectSuccess(media);
  expectNoSessionsLeft(rig);
}

TEST_F(SippCallTest, SilentMediaServerIsSkipped) {
  // A socket that never answers: the INVITE goes to the next server after the failover time.
  boost::asio::io_context io;
  ip::udp::socket silent(io, ip::udp::endpoint(ip::make_address("127.0.0.1"), 0));
  const auto mcp = freePort(false);
  SipRig rig(config(TransportKind::Udp, "127.0.0.1",
                    {server(TransportKind::Udp, "127.0.0.1", silent.local_endpoint().port()),
                     server(TransportKind::Udp, "127.0.0.1", mcp)}));
  rig.service().startServing();
  uas("uas_call.xml", mcp, TransportKind::Udp);
  expectSuccess(uac("uac_call.xml", rig.port(), TransportKind::Udp));
  EXPECT_EQ(counter(rig, "failovers"), 1u);
}

TEST_F(SippCallTest, MediaServerAnswering503IsSkipped) {
  const auto busy = freePort(false);
  const auto mcp = freePort(false);
  SipRig rig(config(TransportKind::Udp, "127.0.0.1",
                    {server(TransportKind::Udp, "127.0.0.1", busy),
                     server(TransportKind::Udp, "127.0.0.1", mcp)}));
  rig.service().startServing();
  auto& refusing = uas("uas_503.xml", busy, TransportKind::Udp);
  uas("uas_call.xml", mcp, TransportKind::Udp);
  expectSuccess(uac("uac_call.xml", rig.port(), TransportKind::Udp));
  expectSuccess(refusing);  // it got its ACK
  EXPECT_EQ(counter(rig, "failovers"), 1u);
}

TEST_F(SippCallTest, MediaServerThatIsDownIsSkipped) {
  // Over TCP, a server that is down refuses the connection: the next one is tried at once.
  const auto down = freePort(true);
  const auto mcp = freePort(true);
  SipRig rig(config(TransportKind::Tcp, "127.0.0.1",
                    {server(TransportKind::Tcp, "127.0.0.1", down),
                     server(TransportKind::Tcp, "127.0.0.1", mcp)}));
  rig.service().startServing();
  uas("uas_call.xml", mcp, TransportKind::Tcp);
  expectSuccess(uac("uac_call.xml", rig.port(), TransportKind::Tcp));
  EXPECT_EQ(counter(rig, "failovers"), 1u);
  EXPECT_GE(counter(rig, "transport_errors"), 1u);
}

TEST_F(SippCallTest, CapacityExhaustedGets503WithRetryAfter) {
  const auto mcp = freePort(false);
  SipRig rig(config(TransportKind::Udp, "127.0.0.1", {server(TransportKind::Udp, "127.0.0.1", mcp)},
                    1));
  rig.service().startServing();
  uas("uas_call.xml", mcp, TransportKind::Udp);
  auto& holding = uac("uac_call.xml", rig.port(), TransportKind::Udp, "127.0.0.1", 4000);
  ASSERT_TRUE(rig.waiter().waitFor([&] { return rig.service().sessionCount() == 1; }, 10s));
  expectSuccess(uac("uac_expect_503.xml", rig.port(), TransportKind::Udp));
  expectSuccess(holding);
  EXPECT_GE(counter(rig, "no_capacity"), 1u);
}

TEST_F(SippCallTest, OptionsToTheResourceManagerFollowServingState) {
  SipRig rig(config(TransportKind::Udp, "127.0.0.1", {}));
  rig.service().startServing();
  expectSuccess(uac("uac_options_200.xml", rig.port(), TransportKind::Udp));
  rig.service().stopServing();
  expectSuccess(uac("uac_options_503.xml", rig.port(), TransportKind::Udp));
}

TEST_F(SippCallTest, ReInviteAndByeFollowTheRouteSet) {
  const auto mcp = freePort(false);
  SipRig rig(config(TransportKind::Udp, "127.0.0.1", {server(TransportKind::Udp, "127.0.0.1", mcp)}));
  rig.service().startServing();
  auto& media = uas("uas_reinvite.xml", mcp, TransportKind::Udp);
  expectSuccess(uac("uac_reinvite.xml", rig.port(), TransportKind::Udp));
  expectSuccess(media);
  expectNoSessionsLeft(rig);
}

TEST_F(SippCallTest, ReInviteAndByeFollowTheRouteSetOverTcp) {
  const auto mcp = freePort(true);
  SipRig rig(config(TransportKind::Tcp, "127.0.0.1", {server(TransportKind::Tcp, "127.0.0.1", mcp)}));
  rig.service().startServing();
  auto& media = uas("uas_reinvite.xml", mcp, TransportKind::Tcp);
  expectSuccess(uac("uac_reinvite.xml", rig.port(), TransportKind::Tcp));
  expectSuccess(media);
  expectNoSessionsLeft(rig);
}

} // namespace
} // namespace rmha::test
