#include "core/sip/resource_group.h"

#include <gtest/gtest.h>

#include "core/sip/syntax.h"

namespace rmha::core::sip {
namespace {

namespace ip = boost::asio::ip;

SipConfig config() {
  SipConfig cfg;
  for (const char* name : {"msml", "cpd", "dnis"}) {
    ResourceGroupConfig g;
    g.name = name;
    g.capacity = 2;
    for (int i = 1; i <= 3; ++i) {
      g.servers.push_back({TransportKind::Udp, ip::make_address("198.51.100." + std::to_string(i)),
                           static_cast<std::uint16_t>(5000 + (name[0] == 'm' ? 0 : name[0]))});
    }
    cfg.groups.push_back(g);
  }
  cfg.rules = {{"cpd", "", "", "", "cpd", 1},
               {"msml", "msml", "", "acme", "", 2},
               {"dnis", "", "1800", "", "", 3}};
  cfg.defaultGroup = "msml";
  return cfg;
}

std::string route(ResourceDirectory& d, std::string_view uri) {
  Uri u;
  EXPECT_TRUE(parseUri(uri, u).ok());
  auto* g = d.route(u);
  return g ? g->name() : "";
}

TEST(Routing, FirstMatchingRuleWinsElseDefault) {
  const auto cfg = config();
  ResourceDirectory d(cfg);
  EXPECT_EQ(route(d, "sip:dialog@rm;media-service=cpd"), "cpd");
  EXPECT_EQ(route(d, "sip:msml@rm;gvp-tenant-id=ACME"), "msml");
  EXPECT_EQ(route(d, "sip:18005551234@rm"), "dnis");
  EXPECT_EQ(route(d, "sip:2125551234@rm"), "msml");  // default
}

TEST(Routing, RoundRobinRotatesAndSkipsFullOrDownServers) {
  auto cfg = config();
  ResourceDirectory d(cfg);
  auto& g = *d.groups()[0];
  std::vector<MediaServer*> c;
  g.candidates(c);
  ASSERT_EQ(c.size(), 3u);
  const auto* first = c[0];
  g.candidates(c);
  EXPECT_NE(c[0], first);
  g.servers()[0]->up = false;
  g.servers()[1]->active = 2;  // full
  g.candidates(c);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0], g.servers()[2].get());
}

TEST(Routing, LeastUsedPrefersTheIdlestServer) {
  auto cfg = config();
  cfg.groups[0].policy = BalancePolicy::LeastUsed;
  ResourceDirectory d(cfg);
  auto& g = *d.groups()[0];
  g.servers()[0]->active = 1;
  g.servers()[1]->active = 0;
  g.servers()[2]->active = 1;
  std::vector<MediaServer*> c;
  for (int i = 0; i < 3; ++i) {
    g.candidates(c);
    EXPECT_EQ(c[0], g.servers()[1].get());
  }
}

} // namespace
} // namespace rmha::core::sip
