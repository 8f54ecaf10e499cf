// libFuzzer target for the proxy core: a sequence of arbitrary datagrams from a caller and
// two media servers, with simulated time passing between them, must never crash, hang,
// leak or send something that is not a parseable SIP message (a 400 may echo bad input).
//
// Input: records of [source byte][time byte][length lo][length hi][bytes...].
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/sip/proxy.h"
#include "tests/fakes/fake_clock.h"

using namespace rmha::core::sip;
namespace ip = boost::asio::ip;

namespace {

class CheckingSender final : public MessageSender {
public:
  void send(const Peer&, std::string_view data) override {
    buf_.assign(data.begin(), data.end());
    const auto st = parseMessage(std::span<char>(buf_.data(), buf_.size()), msg_);
    if (!st.ok() && msg_.statusCode != 400) {
      __builtin_trap();
    }
  }

private:
  std::vector<char> buf_;
  SipMessage msg_;
};

SipConfig makeConfig() {
  SipConfig cfg;
  cfg.listen.push_back({TransportKind::Udp, ip::make_address("192.0.2.10"), 5060});
  cfg.listen.push_back({TransportKind::Tcp, ip::make_address("192.0.2.10"), 5060});
  cfg.advertisedHost = "192.0.2.10";
  cfg.hasUpstream = true;
  cfg.upstream = {TransportKind::Udp, ip::make_address("192.0.2.1"), 5060};
  ResourceGroupConfig g;
  g.name = "mcp";
  g.servers = {{TransportKind::Udp, ip::make_address("198.51.100.1"), 5070},
               {TransportKind::Tcp, ip::make_address("198.51.100.2"), 5070}};
  g.capacity = 3;
  // One probe round per 30 s of simulated time: probe answers and missed probes (a server is
  // taken out at the third round) are still reached, without dozens of OPTIONS rounds per
  // input, which were two thirds of the time at a 1 s interval.
  g.probeInterval = rmha::core::Millis(30000);
  cfg.groups.push_back(g);
  cfg.rules.push_back({"mcp", "msml", "", "", "", 0});
  cfg.defaultGroup = "mcp";
  return cfg;
}

const Peer kPeers[] = {
    {TransportKind::Udp, ip::make_address("192.0.2.1"), 5060, 0},
    {TransportKind::Udp, ip::make_address("198.51.100.1"), 5070, 0},
    {TransportKind::Tcp, ip::make_address("198.51.100.2"), 5070, 7},
    {TransportKind::Tcp, ip::make_address("192.0.2.1"), 40000, 9},
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const SipConfig cfg = makeConfig();
  rmha::core::Log::setLevel(rmha::core::LogLevel::Off);
  rmha::test::FakeClock clock;
  CheckingSender sender;
  ResourceDirectory dir(cfg);
  SessionTable sessions(clock, [&](const std::string& s, int d) {
    if (auto* m = dir.findById(s)) {
      m->active += d;
    }
  });
  ProxyCounters counters;
  Proxy proxy(cfg, sender, clock, clock, dir, sessions, counters);
  proxy.setServing(true);
  proxy.start();
  std::vector<char> buf;
  std::size_t pos = 0;
  while (pos + 4 <= size) {
    const auto& from = kPeers[data[pos] % 4];
    const auto advance = std::chrono::milliseconds(data[pos + 1] * 64);
    std::size_t len = data[pos + 2] | (static_cast<std::size_t>(data[pos + 3]) << 8);
    pos += 4;
    len = std::min(len, size - pos);
    buf.assign(data + pos, data + pos + len);
    pos += len;
    proxy.onMessage(std::span<char>(buf.data(), buf.size()), from);
    if (data[pos - len - 3] & 1) {
      proxy.onTransportError(kPeers[2]);
    }
    clock.advance(advance);
  }
  clock.advance(std::chrono::seconds(40));  // every transaction ends (64*T1 and D are 32 s)
  return 0;
}
