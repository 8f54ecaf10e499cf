#include "core/sip/sip_config.h"

#include <gtest/gtest.h>

namespace rmha::core::sip {
namespace {

struct Parsed {
  SipConfig cfg;
  std::vector<ConfigIssue> issues;
};

Parsed parse(const std::string& text) {
  auto doc = IniDocument::parse(text, "rmha.conf");
  ConfigIssues issues("rmha.conf");
  Parsed p;
  p.cfg = parseSipConfig(doc, issues);
  p.issues = issues.all();
  return p;
}

const std::string kGood = R"([sip]
listen = udp:192.0.2.10:5060, tcp:192.0.2.10:5060, udp:[2001:db8::10]:5060
advertised-address = 192.0.2.100
upstream = udp:192.0.2.1:5060
trusted-sources = 192.0.2.0/24, 2001:db8::/32
t1-ms = 250
invite-failover-ms = 1500
max-session-age-s = 7200
resource-groups = msml, cpd

[resource-group.msml]
servers = udp:198.51.100.21:5070, sip:198.51.100.22:5070;transport=tcp
policy = least-used
capacity = 300
probe-interval-ms = 2000

[resource-group.cpd]
servers = 198.51.100.31

[routing]
rule.1 = cpd service=cpd
rule.2 = msml user=msml tenant=acme
rule.3 = msml dnis-prefix=1800
default-group = msml
)";

TEST(SipConfig, ReadsEveryKey) {
  const auto p = parse(kGood);
  ASSERT_TRUE(p.issues.empty()) << p.issues.front().format();
  const auto& c = p.cfg;
  ASSERT_EQ(c.listen.size(), 3u);
  EXPECT_EQ(c.listen[1].transport, TransportKind::Tcp);
  EXPECT_TRUE(c.listen[2].address.is_v6());
  EXPECT_EQ(c.advertisedHost, "192.0.2.100");
  EXPECT_EQ(c.advertisedPort, 0);
  EXPECT_TRUE(c.hasUpstream);
  EXPECT_EQ(c.upstream.port, 5060);
  ASSERT_EQ(c.trustedSources.size(), 2u);
  EXPECT_EQ(c.trustedSources[0].prefix, 24u);
  EXPECT_EQ(c.t1, Millis(250));
  EXPECT_EQ(c.inviteFailoverTimeout, Millis(1500));
  EXPECT_EQ(c.maxSessionAge, std::chrono::seconds(7200));
  ASSERT_EQ(c.groups.size(), 2u);
  EXPECT_EQ(c.groups[0].policy, BalancePolicy::LeastUsed);
  EXPECT_EQ(c.groups[0].capacity, 300u);
  EXPECT_EQ(c.groups[0].servers[1].transport, TransportKind::Tcp);
  EXPECT_EQ(c.groups[1].servers[0].port, 5060);
  ASSERT_EQ(c.rules.size(), 3u);
  EXPECT_EQ(c.rules[0].service, "cpd");
  EXPECT_EQ(c.rules[1].tenant, "acme");
  EXPECT_EQ(c.rules[2].dnisPrefix, "1800");
  EXPECT_EQ(c.defaultGroup, "msml");
}


struct Bad {
  const char* from;
  const char* to;
  const char* needle;  // a word the sentence must contain
};

class SipConfigBad : public ::testing::TestWithParam<Bad> {};

TEST_P(SipConfigBad, IsRefusedWithLineAndAdvice) {
  std::string text = kGood;
  const auto at = text.find(GetParam().from);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, std::string_view(GetParam().from).size(), GetParam().to);
  const auto p = parse(text);
  ASSERT_FALSE(p.issues.empty()) << GetParam().to;
  EXPECT_GT(p.issues.front().line, 0);
  EXPECT_NE(p.issues.front().message.find(GetParam().needle), std::string::npos)
      << p.issues.front().message;
}

INSTANTIATE_TEST_SUITE_P(
    Values, SipConfigBad,
    ::testing::Values(
        Bad{"udp:192.0.2.10:5060,", "sctp:192.0.2.10:5060,", "udp:IP:PORT"},
        Bad{"advertised-address = 192.0.2.100", "advertised-address = vip.example", "IP"},
        Bad{"upstream = udp:192.0.2.1:5060", "upstream = 192.0.2.1:99999", "SIP Server"},
        Bad{"192.0.2.0/24", "192.0.2.0/33", "networks"},
        Bad{"t1-ms = 250", "t1-ms = 5", "50 to 10000"},
        Bad{"invite-failover-ms = 1500", "invite-failover-ms = 20000", "64*t1-ms"},
        Bad{"policy = least-used", "policy = random", "round-robin"},
        Bad{"capacity = 300", "capacity = 0", "whole number"},
        Bad{"probe-interval-ms = 2000", "probe-interval-ms = 50", "at least 100"},
        Bad{"servers = 198.51.100.31", "servers = mcp.example", "udp:IP:PORT"},
        Bad{"resource-groups = msml, cpd", "resource-groups = msml, cpd, vxml", "no [resource-group.vxml]"},
        Bad{"rule.1 = cpd service=cpd", "rule.1 = cpd colour=blue", "dnis-prefix"},
        Bad{"rule.1 = cpd service=cpd", "rule.1 = nope service=cpd", "resource-groups"},
        Bad{"default-group = msml", "default-group = other", "default-group"}));

TEST(SipConfig, NeedsListenAndAnAdvertisedAddressForWildcards) {
  auto p = parse("[sip]\nt1-ms = 500\n");
  ASSERT_FALSE(p.issues.empty());
  EXPECT_NE(p.issues.front().message.find("listen"), std::string::npos);
  p = parse("[sip]\nlisten = udp:0.0.0.0:5060\n");
  ASSERT_EQ(p.issues.size(), 1u);
  EXPECT_NE(p.issues.front().message.find("advertised-address"), std::string::npos);
}

TEST(SipConfig, ParsesSipAddresses) {
  SipAddress a;
  ASSERT_TRUE(parseSipAddress("tcp:[2001:db8::1]:5080", a));
  EXPECT_EQ(a.transport, TransportKind::Tcp);
  EXPECT_EQ(a.port, 5080);
  EXPECT_EQ(a.hostPort(), "[2001:db8::1]:5080");
  EXPECT_FALSE(parseSipAddress("sip:user@192.0.2.1", a));
  EXPECT_FALSE(parseSipAddress("udp:", a));
  EXPECT_FALSE(parseSipAddress("sip:192.0.2.1;transport=sctp", a));
}

} // namespace
} // namespace rmha::core::sip
