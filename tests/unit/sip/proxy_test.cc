#include "core/sip/proxy.h"

#include <deque>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "tests/fakes/fake_clock.h"

namespace rmha::core::sip {
namespace {

using namespace std::chrono_literals;
namespace ip = boost::asio::ip;

struct Sent {
  Peer to;
  std::string data;
  SipMessage msg;
};

class FakeSender final : public MessageSender {
public:
  void send(const Peer& to, std::string_view data) override {
    auto& s = sent.emplace_back(Sent{to, std::string(data), {}});
    if (!parseMessage(std::span<char>(s.data.data(), s.data.size()), s.msg).ok() &&
        s.msg.statusCode != 400) {  // a 400 echoes the header it refuses
      ADD_FAILURE() << "proxy sent a message that does not parse:\n" << data;
    }
  }
  std::deque<Sent> sent;
};

Peer udp(const char* addr, std::uint16_t port) {
  return Peer{TransportKind::Udp, ip::make_address(addr), port, 0};
}

const Peer kUac = udp("192.0.2.1", 5060);
const Peer kMcp1 = udp("198.51.100.1", 5070);
const Peer kMcp2 = udp("198.51.100.2", 5070);

SipConfig makeConfig() {
  SipConfig cfg;
  cfg.listen.push_back({TransportKind::Udp, ip::make_address("192.0.2.10"), 5060});
  cfg.advertisedHost = "192.0.2.10";
  cfg.hasUpstream = true;
  cfg.upstream = {TransportKind::Udp, ip::make_address("192.0.2.1"), 5060};
  ResourceGroupConfig g;
  g.name = "mcp";
  g.servers = {{TransportKind::Udp, kMcp1.address, 5070}, {TransportKind::Udp, kMcp2.address, 5070}};
  g.capacity = 2;
  g.probeInterval = Millis(0);
  cfg.groups.push_back(g);
  cfg.rules.push_back({"mcp", "msml", "", "", "", 0});
  return cfg;
}

std::string invite(const std::string& callId, const std::string& branch = "z9hG4bKuac1",
                   const std::string& user = "msml") {
  return "INVITE sip:" + user + "@192.0.2.10:5060;gvp-tenant-id=t1 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" + branch + "\r\n"
         "Max-Forwards: 70\r\nFrom: <sip:ss@192.0.2.1>;tag=ft\r\nTo: <sip:" + user +
         "@192.0.2.10>\r\nCall-ID: " + callId + "\r\nCSeq: 1 INVITE\r\n"
         "Contact: <sip:ss@192.0.2.1:5060>\r\nContent-Length: 0\r\n\r\n";
}

// A response from downstream to the request `req` (as the proxy sent it).
std::string responseTo(const SipMessage& req, int code, const std::string& reason,
                       const std::string& toTag = "tt") {
  std::string out;
  buildResponse(req, code, reason, toTag, code >= 200 && code < 300 && req.method == Method::Invite
                    ? "Record-Route: <sip:192.0.2.10:5060;lr>\r\nContact: <sip:mcp@198.51.100.1:5070>\r\n"
                    : "", out);
  if (code >= 200 && code < 300 && req.method == Method::Invite) {
    // buildResponse drops Record-Route of the request: put the proxy's own back.
    const auto* rr = req.find(HeaderId::RecordRoute);
    if (rr) {
      out.insert(out.find("\r\n") + 2, std::string(rr->raw));
    }
  }
  return out;
}

class ProxyTest : public ::testing::Test {
protected:
  ProxyTest()
      : cfg_(makeConfig()), dir_(cfg_),
        sessions_(clock_, [this](const std::string& s, int d) {
          if (auto* m = dir_.findById(s)) {
            m->active += d;
          }
        }),
        proxy_(cfg_, net_, clock_, clock_, dir_, sessions_, counters_) {
    proxy_.setServing(true);
    proxy_.start();
  }

  void inject(std::string text, const Peer& from) {
    proxy_.onMessage(std::span<char>(text.data(), text.size()), from);
  }
  Sent take() {
    EXPECT_FALSE(net_.sent.empty());
    if (net_.sent.empty()) {
      return {};
    }
    Sent s = std::move(net_.sent.front());
    net_.sent.pop_front();
    // Re-parse: the views must point into this copy.
    (void)parseMessage(std::span<char>(s.data.data(), s.data.size()), s.msg);
    return s;
  }

  // Sends an INVITE and returns the request as forwarded to a media server.
  Sent startCall(const std::string& callId, const std::string& branch = "z9hG4bKuac1") {
    inject(invite(callId, branch), kUac);
    auto trying = take();
    EXPECT_EQ(trying.msg.statusCode, 100);
    auto fwd = take();
    EXPECT_TRUE(fwd.msg.isRequest);
    return fwd;
  }

  test::FakeClock clock_;
  FakeSender net_;
  SipConfig cfg_;
  ResourceDirectory dir_;
  SessionTable sessions_;
  ProxyCounters counters_;
  Proxy proxy_;
};

TEST_F(ProxyTest, ForwardsAnInviteAndItsAnswerWithRecordRoute) {
  auto fwd = startCall("c1");
  EXPECT_TRUE(fwd.to.sameEndpoint(kMcp1));
  EXPECT_EQ(fwd.msg.requestUri.host, "198.51.100.1");
  EXPECT_EQ(fwd.msg.requestUri.user, "msml");
  EXPECT_EQ(fwd.msg.requestUri.param("gvp-tenant-id"), "t1");
  EXPECT_EQ(fwd.msg.viaCount, 2);
  EXPECT_EQ(fwd.msg.topVia.host, "192.0.2.10");
  EXPECT_TRUE(fwd.msg.topVia.branch.starts_with("z9hG4bK"));
  EXPECT_EQ(fwd.msg.maxForwards, 69);
  ASSERT_NE(fwd.msg.find(HeaderId::RecordRoute), nullptr);
  EXPECT_EQ(fwd.msg.find(HeaderId::RecordRoute)->value, "<sip:192.0.2.10:5060;lr>");
  EXPECT_EQ(sessions_.size(), 1u);
  EXPECT_EQ(dir_.findByAddress(kMcp1)->active.load(), 1);

  inject(responseTo(fwd.msg, 180, "Ringing"), kMcp1);
  auto ringing = take();
  EXPECT_EQ(ringing.msg.statusCode, 180);
  EXPECT_EQ(ringing.msg.viaCount, 1);
  EXPECT_TRUE(ringing.to.sameEndpoint(kUac));
  inject(responseTo(fwd.msg, 200, "OK"), kMcp1);
  auto ok = take();
  EXPECT_EQ(ok.msg.statusCode, 200);
  EXPECT_EQ(ok.msg.viaCount, 1);
  EXPECT_EQ(sessions_.find("c1")->state, SessionState::Confirmed);
  EXPECT_EQ(sessions_.find("c1")->toTag, "tt");
}

TEST_F(ProxyTest, AbsorbsRetransmittedInvites) {
  startCall("c1");
  inject(invite("c1"), kUac);
  auto again = take();
  EXPECT_EQ(again.msg.statusCode, 100);  // the last response, not a second forward
  EXPECT_TRUE(net_.sent.empty());
  EXPECT_EQ(counters_.retransmissionsAbsorbed.load(), 1u);
}

TEST_F(ProxyTest, RetransmitsWithTimerAOverUdp) {
  auto fwd = startCall("c1");
  clock_.advance(500ms);
  ASSERT_EQ(net_.sent.size(), 1u);
  EXPECT_EQ(take().data, fwd.data);
  clock_.advance(1000ms);
  EXPECT_EQ(take().data, fwd.data);
}

TEST_F(ProxyTest, FailsOverToTheNextServerWhenOneIsSilent) {
  startCall("c1");
  clock_.advance(2000ms);  // invite-failover: no 100 Trying from the first server
  Sent next;
  while (!net_.sent.empty()) {
    next = take();
  }
  EXPECT_TRUE(next.to.sameEndpoint(kMcp2));
  EXPECT_EQ(next.msg.method, Method::Invite);
  EXPECT_EQ(counters_.failovers.load(), 1u);
  EXPECT_EQ(sessions_.find("c1")->server, "udp:198.51.100.2:5070");
  EXPECT_EQ(dir_.findByAddress(kMcp1)->active.load(), 0);
  EXPECT_EQ(dir_.findByAddress(kMcp2)->active.load(), 1);
}

TEST_F(ProxyTest, FailsOverOn503AndAcksIt) {
  auto fwd = startCall("c1");
  inject(responseTo(fwd.msg, 503, "Busy"), kMcp1);
  auto ack = take();
  EXPECT_EQ(ack.msg.method, Method::Ack);
  EXPECT_TRUE(ack.to.sameEndpoint(kMcp1));
  EXPECT_EQ(ack.msg.topVia.branch, fwd.msg.topVia.branch);
  auto next = take();
  EXPECT_EQ(next.msg.method, Method::Invite);
  EXPECT_TRUE(next.to.sameEndpoint(kMcp2));
  inject(responseTo(next.msg, 503, "Busy"), kMcp2);
  take();  // ACK
  auto final = take();
  EXPECT_EQ(final.msg.statusCode, 503);
  EXPECT_TRUE(final.to.sameEndpoint(kUac));
  EXPECT_NE(final.msg.find(HeaderId::RetryAfter), nullptr);
  EXPECT_EQ(sessions_.size(), 0u);
  inject("ACK sip:msml@192.0.2.10:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKuac1\r\n"
         "From: <sip:ss@192.0.2.1>;tag=ft\r\nTo: <sip:msml@192.0.2.10>;tag=x\r\nCall-ID: c1\r\n"
         "CSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", kUac);
  EXPECT_TRUE(net_.sent.empty());  // hop-by-hop ACK absorbed
  clock_.advance(40s);
  EXPECT_EQ(proxy_.serverTransactions(), 0u);
}

TEST_F(ProxyTest, RefusesWith503AndRetryAfterWhenFull) {
  for (int i = 0; i < 4; ++i) {
    startCall("c" + std::to_string(i), "z9hG4bKb" + std::to_string(i));
  }
  inject(invite("c9", "z9hG4bKb9"), kUac);
  EXPECT_EQ(take().msg.statusCode, 100);
  auto full = take();
  EXPECT_EQ(full.msg.statusCode, 503);
  ASSERT_NE(full.msg.find(HeaderId::RetryAfter), nullptr);
  EXPECT_EQ(full.msg.find(HeaderId::RetryAfter)->value, "30");
  EXPECT_TRUE(full.msg.to.hasTag);
}

TEST_F(ProxyTest, AnswersOptionsForItselfByServingState) {
  const std::string options =
      "OPTIONS sip:192.0.2.10:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKo1\r\n"
      "From: <sip:ss@192.0.2.1>;tag=o\r\nTo: <sip:192.0.2.10>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\n"
      "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
  inject(options, kUac);
  EXPECT_EQ(take().msg.statusCode, 200);
  proxy_.setServing(false);
  auto second = options;
  second.replace(second.find("z9hG4bKo1"), 9, "z9hG4bKo2");
  inject(second, kUac);
  EXPECT_EQ(take().msg.statusCode, 503);
  inject(invite("c5"), kUac);
  take();
  EXPECT_EQ(take().msg.statusCode, 503);
}

TEST_F(ProxyTest, AbsorbsNewRequestsOverUdpWhileTheRoleMoves) {
  // The old active during a graceful handover, or a node taking over: a new call over UDP
  // gets neither 100 nor 503, and its retransmission is handled as new once serving.
  proxy_.setAbsorbing(true);
  proxy_.setServing(false);
  inject(invite("c7"), kUac);
  EXPECT_TRUE(net_.sent.empty());
  EXPECT_EQ(counters_.absorbedInTransition.load(), 1u);
  // In-dialog requests are routed as usual.
  inject("BYE sip:mcp@198.51.100.2:5070 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKbye7\r\nMax-Forwards: 70\r\n"
         "Route: <sip:192.0.2.10:5060;lr>\r\n"
         "From: <sip:ss@192.0.2.1>;tag=ft\r\nTo: <sip:msml@192.0.2.10>;tag=tt\r\nCall-ID: d7\r\n"
         "CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n", kUac);
  EXPECT_EQ(take().msg.method, Method::Bye);
  // Over TCP the sender would not retransmit: it is refused at once.
  inject(invite("c8", "z9hG4bKuac8"), Peer{TransportKind::Tcp, kUac.address, 5060, 3});
  EXPECT_EQ(take().msg.statusCode, 100);
  EXPECT_EQ(take().msg.statusCode, 503);
  // Serving again: the retransmission of the absorbed INVITE is a new call.
  proxy_.setServing(true);
  proxy_.setAbsorbing(false);
  auto fwd = startCall("c7");
  EXPECT_EQ(fwd.msg.method, Method::Invite);
  EXPECT_EQ(counters_.absorbedInTransition.load(), 1u);
}

TEST_F(ProxyTest, CancelsAPendingInvite) {
  auto fwd = startCall("c1");
  inject(responseTo(fwd.msg, 180, "Ringing"), kMcp1);
  take();
  inject("CANCEL sip:msml@192.0.2.10:5060;gvp-tenant-id=t1 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKuac1\r\nMax-Forwards: 70\r\n"
         "From: <sip:ss@192.0.2.1>;tag=ft\r\nTo: <sip:msml@192.0.2.10>\r\nCall-ID: c1\r\n"
         "CSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n", kUac);
  EXPECT_EQ(take().msg.statusCode, 200);
  auto cancel = take();
  EXPECT_EQ(cancel.msg.method, Method::Cancel);
  EXPECT_EQ(cancel.msg.topVia.branch, fwd.msg.topVia.branch);
  EXPECT_EQ(cancel.msg.requestUriText, fwd.msg.requestUriText);
  inject(responseTo(fwd.msg, 487, "Request Terminated"), kMcp1);
  EXPECT_EQ(take().msg.method, Method::Ack);
  EXPECT_EQ(take().msg.statusCode, 487);
  EXPECT_EQ(sessions_.size(), 0u);
}

TEST_F(ProxyTest, RoutesInDialogRequestsOfAReplicatedSession) {
  // A session set up by the peer: inserted from its serialised form, then its BYE arrives.
  Session s;
  s.callId = "rep1";
  s.fromTag = "ft";
  s.toTag = "tt";
  s.server = "udp:198.51.100.2:5070";
  s.state = SessionState::Confirmed;
  Session copy;
  ASSERT_TRUE(deserialiseSession(serialiseSession(s), copy));
  sessions_.upsert(copy);
  EXPECT_EQ(dir_.findByAddress(kMcp2)->active.load(), 1);
  inject("BYE sip:mcp@198.51.100.2:5070 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKbye1\r\nMax-Forwards: 70\r\n"
         "Route: <sip:192.0.2.10:5060;lr>\r\n"
         "From: <sip:ss@192.0.2.1>;tag=ft\r\nTo: <sip:msml@192.0.2.10>;tag=tt\r\nCall-ID: rep1\r\n"
         "CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n", kUac);
  auto bye = take();
  EXPECT_EQ(bye.msg.method, Method::Bye);
  EXPECT_TRUE(bye.to.sameEndpoint(kMcp2));
  EXPECT_EQ(bye.msg.find(HeaderId::Route), nullptr);  // our Route popped
  EXPECT_EQ(sessions_.size(), 0u);
  EXPECT_EQ(dir_.findByAddress(kMcp2)->active.load(), 0);
  inject(responseTo(bye.msg, 200, "OK"), kMcp2);
  auto ok = take();
  EXPECT_EQ(ok.msg.statusCode, 200);
  EXPECT_TRUE(ok.to.sameEndpoint(kUac));
}

TEST_F(ProxyTest, RequestsFromMediaServersGoUpstream) {
  inject("INFO sip:ss@192.0.2.10:5060 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 198.51.100.1:5070;branch=z9hG4bKm1\r\nMax-Forwards: 70\r\n"
         "From: <sip:mcp@198.51.100.1>;tag=m\r\nTo: <sip:ss@192.0.2.10>\r\nCall-ID: m1\r\n"
         "CSeq: 1 INFO\r\nContent-Length: 0\r\n\r\n", kMcp1);
  auto fwd = take();
  EXPECT_EQ(fwd.msg.method, Method::Info);
  EXPECT_TRUE(fwd.to.sameEndpoint(kUac));
}

TEST_F(ProxyTest, RefusesMalformedRequestsWith400AndLoopsWith482) {
  auto bad = invite("c1");
  bad.replace(bad.find("CSeq: 1 INVITE"), 14, "CSeq: x INVITE");
  inject(bad, kUac);
  auto r = take();
  EXPECT_EQ(r.msg.statusCode, 400);
  EXPECT_EQ(r.msg.reasonPhrase, "Bad Request - bad CSeq");
  auto fwd = startCall("c2", "z9hG4bKl1");
  // The same request comes back to us unchanged (a loop): 482.
  std::string looped = fwd.data;
  looped.replace(0, looped.find("\r\n"), "INVITE sip:msml@192.0.2.10:5060;gvp-tenant-id=t1 SIP/2.0");
  inject(looped, kUac);
  auto loop = take();
  EXPECT_EQ(loop.msg.statusCode, 482);
}

TEST_F(ProxyTest, ExpiresSessionsAtMaxAge) {
  auto fwd = startCall("c1");
  inject(responseTo(fwd.msg, 200, "OK"), kMcp1);
  clock_.advance(cfg_.maxSessionAge + 120s);
  EXPECT_EQ(sessions_.size(), 0u);
  EXPECT_EQ(counters_.sessionsExpired.load(), 1u);
}

} // namespace
} // namespace rmha::core::sip

namespace rmha::core::sip {
namespace {

TEST(ProxyProbes, TakeOutASilentServerAndPutItBackWhenItAnswers) {
  test::FakeClock clock;
  FakeSender net;
  auto cfg = makeConfig();
  cfg.groups[0].probeInterval = Millis(1000);
  cfg.groups[0].probeFailures = 2;
  ResourceDirectory dir(cfg);
  SessionTable sessions(clock, [](const std::string&, int) {});
  ProxyCounters counters;
  Proxy proxy(cfg, net, clock, clock, dir, sessions, counters);
  proxy.start();
  auto* mcp1 = dir.findByAddress(kMcp1);
  clock.advance(2500ms);  // probes at 0, 1 s, 2 s: none answered
  EXPECT_FALSE(mcp1->up.load());
  // Answer the latest probe to MCP1.
  std::string probe;
  for (auto& s : net.sent) {
    if (s.to.sameEndpoint(kMcp1)) {
      probe = s.data;
    }
  }
  ASSERT_FALSE(probe.empty());
  SipMessage req;
  ASSERT_TRUE(parseMessage(std::span<char>(probe.data(), probe.size()), req).ok());
  EXPECT_EQ(req.method, Method::Options);
  std::string ok;
  buildResponse(req, 200, "OK", "x", {}, ok);
  proxy.onMessage(std::span<char>(ok.data(), ok.size()), kMcp1);
  EXPECT_TRUE(mcp1->up.load());
  EXPECT_FALSE(dir.findByAddress(kMcp2)->up.load());
}

class RecordingObserver final : public SessionObserver {
public:
  void onSessionUpserted(const Session& s) override { upserts.push_back(s.callId); }
  void onSessionRemoved(const SessionKey& k) override { removals.push_back(k.callId); }
  std::vector<std::string> upserts, removals;
};

TEST(SessionTable, NotifiesEveryChangeAndKeepsUsage) {
  test::FakeClock clock;
  std::map<std::string, int> usage;
  SessionTable t(clock, [&](const std::string& s, int d) { usage[s] += d; });
  RecordingObserver obs;
  t.setObserver(&obs);
  Session s;
  s.callId = "a";
  s.fromTag = "f";
  s.server = "udp:198.51.100.1:5070";
  t.upsert(s);
  s.server = "udp:198.51.100.2:5070";  // failover moved it
  t.upsert(s);
  EXPECT_EQ(usage["udp:198.51.100.1:5070"], 0);
  EXPECT_EQ(usage["udp:198.51.100.2:5070"], 1);
  EXPECT_TRUE(t.remove("a"));
  EXPECT_FALSE(t.remove("a"));
  EXPECT_EQ(usage["udp:198.51.100.2:5070"], 0);
  EXPECT_EQ(obs.upserts.size(), 2u);
  ASSERT_EQ(obs.removals.size(), 1u);
  EXPECT_EQ(t.size(), 0u);
}

TEST(SessionTable, SerialisesAndRefusesDamagedText) {
  Session s;
  s.callId = "c@h";
  s.fromTag = "f";
  s.toTag = "t";
  s.server = "upstream";
  s.routeSet = "<sip:192.0.2.10;lr>";
  s.cseq = 7;
  s.state = SessionState::Confirmed;
  s.createdUs = 1;
  s.updatedUs = 2;
  Session back;
  const auto text = serialiseSession(s);
  ASSERT_TRUE(deserialiseSession(text, back));
  EXPECT_EQ(back.routeSet, s.routeSet);
  EXPECT_EQ(back.state, SessionState::Confirmed);
  EXPECT_EQ(back.cseq, 7u);
  for (std::size_t n = 0; n < text.size(); ++n) {
    EXPECT_FALSE(deserialiseSession(text.substr(0, n), back)) << n;
  }
  EXPECT_FALSE(deserialiseSession("rmha-session-1\n\n\n\n\n\n1\n9\n0\n0\n", back));
}

} // namespace
} // namespace rmha::core::sip

namespace rmha::core::sip {
namespace {

TEST_F(ProxyTest, ClosesALateAnswerFromAnAbandonedServer) {
  auto first = startCall("c1");
  clock_.advance(2000ms);  // first server silent: the call moves to the second
  net_.sent.clear();
  inject(responseTo(first.msg, 200, "OK", "late"), kMcp1);
  auto ack = take();
  auto bye = take();
  EXPECT_EQ(ack.msg.method, Method::Ack);
  EXPECT_EQ(bye.msg.method, Method::Bye);
  EXPECT_TRUE(bye.to.sameEndpoint(kMcp1));
  EXPECT_EQ(bye.msg.to.tag, "late");
  EXPECT_EQ(bye.msg.requestUriText, "sip:mcp@198.51.100.1:5070");
  EXPECT_TRUE(net_.sent.empty());  // nothing went to the caller
  EXPECT_EQ(sessions_.find("c1")->server, "udp:198.51.100.2:5070");
}

} // namespace
} // namespace rmha::core::sip

namespace rmha::core::sip {
namespace {

TEST_F(ProxyTest, ReInviteFollowsTheRouteAndMovesTheSessionCSeq) {
  auto fwd = startCall("c1");
  inject(responseTo(fwd.msg, 200, "OK"), kMcp1);
  take();
  inject("INVITE sip:mcp@198.51.100.1:5070 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKre1\r\nMax-Forwards: 70\r\n"
         "Route: <sip:192.0.2.10:5060;lr>\r\n"
         "From: <sip:ss@192.0.2.1>;tag=ft\r\nTo: <sip:msml@192.0.2.10>;tag=tt\r\nCall-ID: c1\r\n"
         "CSeq: 5 INVITE\r\nContent-Length: 0\r\n\r\n", kUac);
  EXPECT_EQ(take().msg.statusCode, 100);
  auto re = take();
  EXPECT_EQ(re.msg.method, Method::Invite);
  EXPECT_TRUE(re.to.sameEndpoint(kMcp1));
  EXPECT_EQ(re.msg.find(HeaderId::RecordRoute), nullptr);
  EXPECT_EQ(sessions_.find("c1")->cseq, 5u);
  EXPECT_EQ(sessions_.find("c1")->server, "udp:198.51.100.1:5070");
}

} // namespace
} // namespace rmha::core::sip
