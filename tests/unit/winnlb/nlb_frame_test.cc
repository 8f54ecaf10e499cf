#include "winnlb/nlb_frame.h"

#include <pcap/pcap.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace rmha::winnlb {
namespace {

NlbHeartbeatFrame sampleFrame() {
  NlbHeartbeatFrame f;
  f.destination = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  f.source = {0x02, 0x02, 0xc0, 0x00, 0x02, 0x0a};
  auto& h = f.heartbeat;
  h.version = 0x0206;
  h.uniqueHostId = 123456;
  h.clusterIp = {192, 0, 2, 10};
  h.dedicatedIp = {192, 0, 2, 12};
  h.hostId = 2;
  h.defaultHostId = 1;
  h.convergenceState = 3;
  h.portRuleCount = 2;
  h.uniqueHostCode = 0xdeadbeef;
  h.packetsHandled = 4242;
  h.teamingConfig = 0x00abcd0b;
  h.portRules[0] = 0x11223344;
  h.currentMap[0] = 0x0102030405060708ULL;
  h.newMap[32] = 0xfffffffffULL;
  h.idleMap[1] = 5;
  h.readyMap[2] = 6;
  h.loadWeights[32] = 77;
  return f;
}

TEST(NlbFrame, GoldenHeaderBytes) {
  const auto bytes = encodeHeartbeatFrame(sampleFrame());
  ASSERT_EQ(bytes.size(), 14 + kNlbHeartbeatSize);
  const std::vector<std::uint8_t> head(bytes.begin(), bytes.begin() + 14 + 44);
  const std::vector<std::uint8_t> expected = {
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x02, 0xc0, 0x00, 0x02, 0x0a, 0x88, 0x6f,
      0xbf, 0x01, 0xde, 0xc0,  // signature, little-endian
      0x06, 0x02, 0x00, 0x00,  // version 2.6
      0x40, 0xe2, 0x01, 0x00,  // unique host id 123456
      192, 0, 2, 10, 192, 0, 2, 12,
      0x02, 0x00, 0x01, 0x00, 0x03, 0x00, 0x02, 0x00,  // host, default host, state, rules
      0xef, 0xbe, 0xad, 0xde, 0x92, 0x10, 0x00, 0x00,  // unique host code, packets handled
      0x0b, 0xcd, 0xab, 0x00, 0x00, 0x00, 0x00, 0x00};  // teaming, reserved
  EXPECT_EQ(head, expected);
  EXPECT_EQ(bytes[14 + 44], 0x44);                        // first port rule, LE
  EXPECT_EQ(bytes[14 + 176], 0x08);                       // current map[0], LE
  EXPECT_EQ(bytes[14 + 1232 + 32 * 4], 77);               // load weights[32]
}

TEST(NlbFrame, RoundTrip) {
  const auto f = sampleFrame();
  auto decoded = decodeHeartbeatFrame(encodeHeartbeatFrame(f));
  ASSERT_TRUE(decoded) << decoded.error();
  EXPECT_EQ(decoded.value(), f);
  EXPECT_EQ(decoded->heartbeat.versionMajor(), 2u);
  EXPECT_EQ(decoded->heartbeat.versionMinor(), 6u);
}

TEST(NlbFrame, LegacyEtherTypeVlanTagAndPadding) {
  auto f = sampleFrame();
  f.etherType = kNlbLegacyEtherType;
  auto bytes = encodeHeartbeatFrame(f);
  bytes.resize(bytes.size() + 10, 0);  // trailing padding is ignored
  auto legacy = decodeHeartbeatFrame(bytes);
  ASSERT_TRUE(legacy) << legacy.error();
  EXPECT_EQ(legacy->etherType, kNlbLegacyEtherType);

  f.etherType = kNlbEtherType;
  bytes = encodeHeartbeatFrame(f);
  const std::vector<std::uint8_t> tag = {0x81, 0x00, 0x00, 0x0a};
  bytes.insert(bytes.begin() + 12, tag.begin(), tag.end());
  auto tagged = decodeHeartbeatFrame(bytes);
  ASSERT_TRUE(tagged) << tagged.error();
  EXPECT_EQ(tagged->heartbeat, f.heartbeat);
}

TEST(NlbFrame, EveryTruncationIsAnError) {
  const auto bytes = encodeHeartbeatFrame(sampleFrame());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    // A copy of exactly n bytes, so ASan catches any read past the end.
    const std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(n));
    auto d = decodeHeartbeatFrame(cut);
    ASSERT_FALSE(d) << n;
    ASSERT_NE(d.error().find("truncated"), std::string::npos) << n << ": " << d.error();
  }
}

TEST(NlbFrame, GarbledFramesAreRejected) {
  auto bytes = encodeHeartbeatFrame(sampleFrame());
  auto other = bytes;
  other[12] = 0x08;
  other[13] = 0x00;
  EXPECT_NE(decodeHeartbeatFrame(other).error().find("ethertype 0x0800"), std::string::npos);

  auto ext = bytes;
  ext[14] = 0xc0;  // signature 0xC0DE01C0: extended heartbeat
  EXPECT_NE(decodeHeartbeatFrame(ext).error().find("extended heartbeat"), std::string::npos);
  auto sig = bytes;
  sig[17] = 0x00;
  EXPECT_NE(decodeHeartbeatFrame(sig).error().find("0x00DE01BF"), std::string::npos);

  auto host = sampleFrame();
  host.heartbeat.hostId = 0;
  EXPECT_NE(decodeHeartbeatFrame(encodeHeartbeatFrame(host)).error().find("host id 0"),
            std::string::npos);
  host.heartbeat.hostId = 33;
  EXPECT_FALSE(decodeHeartbeatFrame(encodeHeartbeatFrame(host)));
  auto rules = sampleFrame();
  rules.heartbeat.portRuleCount = 34;
  EXPECT_NE(decodeHeartbeatFrame(encodeHeartbeatFrame(rules)).error().find("34 port rules"),
            std::string::npos);

  // Random bytes after a valid header: never a crash, either a value or an error.
  std::uint32_t seed = 12345;
  for (int i = 0; i < 200; ++i) {
    std::vector<std::uint8_t> junk(bytes.begin(), bytes.begin() + 18);
    junk.resize(14 + (seed % 1600));
    for (std::size_t j = 18; j < junk.size(); ++j) {
      seed = seed * 1103515245u + 12345u;
      junk[j] = static_cast<std::uint8_t>(seed >> 16);
    }
    auto d = decodeHeartbeatFrame(junk);
    EXPECT_TRUE(d || !d.error().empty());
  }
}

TEST(NlbAddress, ClusterMacDerivation) {
  const Ipv4Address ip{192, 0, 2, 10};
  EXPECT_EQ(formatMac(clusterMac(ip, NlbClusterMode::Unicast)), "02-BF-C0-00-02-0A");
  EXPECT_EQ(formatMac(clusterMac(ip, NlbClusterMode::Multicast)), "03-BF-C0-00-02-0A");
  EXPECT_EQ(formatMac(clusterMac(ip, NlbClusterMode::IgmpMulticast)), "01-00-5E-7F-02-0A");
  EXPECT_EQ(formatMac(clusterMac({203, 0, 113, 255}, NlbClusterMode::IgmpMulticast), ':'),
            "01:00:5E:7F:71:FF");
}

TEST(NlbAddress, ParseIpv4Strictly) {
  auto ip = parseIpv4("198.51.100.7");
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip.value(), (Ipv4Address{198, 51, 100, 7}));
  EXPECT_EQ(formatIpv4(ip.value()), "198.51.100.7");
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", "a.b.c.d",
                          "1..3.4", "1.2.3.", "-1.2.3.4", "1.2.3.4444"}) {
    auto b = parseIpv4(bad);
    EXPECT_FALSE(b) << bad;
  }
  EXPECT_EQ(parseNlbClusterMode("igmp-multicast"), NlbClusterMode::IgmpMulticast);
  EXPECT_EQ(parseNlbClusterMode("IGMP"), std::nullopt);
  EXPECT_EQ(toString(NlbClusterMode::Multicast), "multicast");
}

// ---- The layout checked against Wireshark's dissector (skips when tshark is absent). ----

std::string findOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const auto candidate = std::filesystem::path(dir.empty() ? "." : dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate.string();
    }
  }
  return {};
}

void writePcap(const std::string& file, const std::vector<std::uint8_t>& frame) {
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
  ASSERT_NE(dead, nullptr);
  pcap_dumper_t* dumper = pcap_dump_open(dead, file.c_str());
  ASSERT_NE(dumper, nullptr) << pcap_geterr(dead);
  pcap_pkthdr hdr{};
  hdr.ts.tv_sec = 1700000000;
  hdr.caplen = hdr.len = static_cast<bpf_u_int32>(frame.size());
  pcap_dump(reinterpret_cast<u_char*>(dumper), &hdr, frame.data());
  pcap_dump_close(dumper);
  pcap_close(dead);
}

TEST(NlbFrameTshark, FieldsMatchWiresharkDissector) {
  const auto tshark = findOnPath("tshark");
  if (tshark.empty()) {
    GTEST_SKIP() << "tshark not installed: layout check skipped";
  }
  const auto dir = std::filesystem::path(testing::TempDir()) /
                   ("rmha-nlb-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = (dir / "heartbeat.pcap").string();
  writePcap(file, encodeHeartbeatFrame(sampleFrame()));
  const std::string cmd = "'" + tshark + "' -r '" + file +
                          "' -T fields -E aggregator=, -e frame.protocols -e msnlb.signature "
                          "-e msnlb.version -e msnlb.unique_host_id -e msnlb.cluster_ip "
                          "-e msnlb.host_ip -e msnlb.my_host_ip -e msnlb.default_host_ip "
                          "-e msnlb.convergence_state -e msnlb.number_of_port_rules "
                          "-e msnlb.unique_host_code -e msnlb.packets_handled -e msnlb.teamincfg "
                          "-e _ws.malformed 2>/dev/null";
  std::string out;
  int status = -1;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
      out.append(buf, n);
    }
    status = ::pclose(p);
  }
  std::filesystem::remove_all(dir);
  if (status != 0) {
    GTEST_SKIP() << "tshark present but could not run (status " << status << ")";
  }
  EXPECT_EQ(out, "eth:ethertype:msnlb\t0xc0de01bf\t518\t123456\t192.0.2.10\t192.0.2.12\t2\t1\t3\t"
                 "2\t3735928559\t4242\t0x00abcd0b\t\n");
}

} // namespace
} // namespace rmha::winnlb
