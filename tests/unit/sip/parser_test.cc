#include "core/sip/parser.h"

#include <string>

#include <gtest/gtest.h>

namespace rmha::core::sip {
namespace {

const std::string kInvite =
    "INVITE sip:msml@192.0.2.10:5060;gvp-tenant-id=acme;media-service=cpd SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport\r\n"
    "Via: SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bKabc;received=192.0.2.99, "
    "SIP/2.0/UDP h.example.com;branch=z9hG4bKdef\r\n"
    "Max-Forwards: 70\r\n"
    "To: <sip:msml@192.0.2.10>\r\n"
    "From: \"Alice, A\" <sip:alice@example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@192.0.2.1>\r\n"
    "Route: <sip:192.0.2.10;lr>, <sip:p2.example.com;lr>\r\n"
    "Subject: folded\r\n"
    " continuation line\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "v=0\n";

Status parse(std::string& text, SipMessage& m) {
  return parseMessage(std::span<char>(text.data(), text.size()), m);
}

TEST(SipParser, ParsesAFullInvite) {
  std::string text = kInvite;
  SipMessage m;
  ASSERT_TRUE(parse(text, m).ok());
  EXPECT_TRUE(m.isRequest);
  EXPECT_EQ(m.method, Method::Invite);
  EXPECT_EQ(m.requestUri.user, "msml");
  EXPECT_EQ(m.requestUri.host, "192.0.2.10");
  EXPECT_EQ(m.requestUri.port, 5060);
  EXPECT_EQ(m.requestUri.param("gvp-tenant-id"), "acme");
  EXPECT_EQ(m.requestUri.param("MEDIA-SERVICE"), "cpd");
  EXPECT_EQ(m.viaCount, 3);
  EXPECT_EQ(m.topVia.transport, "UDP");
  EXPECT_EQ(m.topVia.branch, "z9hG4bK776asdhds");
  EXPECT_TRUE(m.topVia.rfc3261Branch());
  EXPECT_TRUE(m.topVia.hasRport);
  EXPECT_EQ(m.topVia.port, 5060);
  EXPECT_EQ(m.from.tag, "1928301774");
  EXPECT_EQ(m.from.display, "\"Alice, A\"");
  EXPECT_FALSE(m.to.hasTag);
  EXPECT_EQ(m.callId, "a84b4c76e66710@pc33.example.com");
  EXPECT_EQ(m.cseq, 314159u);
  EXPECT_EQ(m.cseqMethod, Method::Invite);
  EXPECT_EQ(m.maxForwards, 70);
  EXPECT_EQ(m.contentLength, 4);
  EXPECT_EQ(m.body, "v=0\n");
  EXPECT_EQ(m.size, text.size());
  const Header* subject = nullptr;
  for (const auto& h : m.headers) {
    if (h.name == "Subject") {
      subject = &h;
    }
  }
  ASSERT_NE(subject, nullptr);
  EXPECT_EQ(subject->value, "folded   continuation line");
}

TEST(SipParser, ParsesCompactFormsAndResponses) {
  std::string text =
      "SIP/2.0 180 Ringing\r\n"
      "v: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK.x\r\n"
      "f: <sip:a@example.com>;tag=a\r\n"
      "t: sip:b@example.com;tag=b\r\n"
      "i: cid-1\r\n"
      "CSeq: 1 INVITE\r\n"
      "m: <sip:b@198.51.100.7:5070;transport=tcp>\r\n"
      "l: 0\r\n\r\n";
  SipMessage m;
  ASSERT_TRUE(parse(text, m).ok());
  EXPECT_FALSE(m.isRequest);
  EXPECT_EQ(m.statusCode, 180);
  EXPECT_EQ(m.reasonPhrase, "Ringing");
  EXPECT_EQ(m.to.tag, "b");
  EXPECT_EQ(m.to.uri.user, "b");
  EXPECT_EQ(m.callId, "cid-1");
  EXPECT_EQ(m.contentLength, 0);
  ASSERT_NE(m.find(HeaderId::Contact), nullptr);
}

TEST(SipParser, ParsesUriForms) {
  Uri u;
  ASSERT_TRUE(parseUri("sip:user:pw@[2001:db8::5]:5062;transport=tcp;lr?Subject=x", u).ok());
  EXPECT_EQ(u.user, "user");
  EXPECT_EQ(u.password, "pw");
  EXPECT_EQ(u.host, "2001:db8::5");
  EXPECT_TRUE(u.ipv6);
  EXPECT_EQ(u.port, 5062);
  EXPECT_TRUE(u.hasParam("lr"));
  EXPECT_EQ(u.param("transport"), "tcp");
  EXPECT_EQ(u.headers, "Subject=x");
  ASSERT_TRUE(parseUri("tel:+18005551234", u).ok());
  EXPECT_EQ(u.user, "+18005551234");
  ASSERT_TRUE(parseUri("sips:example.com", u).ok());
  EXPECT_EQ(u.host, "example.com");
}

TEST(SipParser, ListItemsRespectQuotesAndBrackets) {
  std::vector<std::string> items;
  ASSERT_TRUE(forEachListItem("\"a, b\" <sip:x@y;p=1,2>, <sip:z>", [&](std::string_view s) {
    items.emplace_back(s);
    return true;
  }));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1], "<sip:z>");
  EXPECT_FALSE(forEachListItem("\"open", [](std::string_view) { return true; }));
}

TEST(SipParser, FindsFramesInAStream) {
  const std::string one = "OPTIONS sip:x SIP/2.0\r\nl: 3\r\n\r\nabc";
  auto f = findFrame("\r\n\r\n" + one + "INV", 65535);
  ASSERT_EQ(f.kind, Frame::Kind::Complete);
  EXPECT_EQ(f.skip, 4u);
  EXPECT_EQ(f.length, one.size());
  EXPECT_EQ(findFrame(one.substr(0, 20), 65535).kind, Frame::Kind::NeedMore);
  EXPECT_EQ(findFrame(one, 10).kind, Frame::Kind::Error);
  EXPECT_EQ(findFrame("OPTIONS sip:x SIP/2.0\r\nA: b\r\n\r\n", 100).kind, Frame::Kind::Error);
}

// One malformed variant per field: each must be refused with a reason, never crash.
struct Malformed {
  const char* what;
  const char* from;
  const char* to;
  const char* reason;
};

class SipParserMalformed : public ::testing::TestWithParam<Malformed> {};

TEST_P(SipParserMalformed, IsRefusedWithAReason) {
  const auto& p = GetParam();
  std::string text = kInvite;
  const auto at = text.find(p.from);
  ASSERT_NE(at, std::string::npos) << p.what;
  text.replace(at, std::string_view(p.from).size(), p.to);
  SipMessage m;
  const auto st = parse(text, m);
  ASSERT_FALSE(st.ok()) << p.what;
  EXPECT_STREQ(st.reason, p.reason) << p.what;
}

INSTANTIATE_TEST_SUITE_P(
    Fields, SipParserMalformed,
    ::testing::Values(
        Malformed{"method", "INVITE sip:", "INV(TE sip:", "bad method"},
        Malformed{"version", "SIP/2.0\r\nVia", "SIP/3.0\r\nVia", "unsupported SIP version"},
        Malformed{"request uri", "sip:msml@192.0.2.10:5060;", "http://x;", "bad Request-URI"},
        Malformed{"uri port", "192.0.2.10:5060;gvp", "192.0.2.10:99999;gvp", "bad Request-URI"},
        Malformed{"request line", "INVITE sip:msml", "INVITEsip:msml", "malformed request line"},
        Malformed{"via protocol", "SIP/2.0/UDP 192.0.2.1", "SIP/2.0 192.0.2.1",
                  "bad Via sent-protocol"},
        Malformed{"via host", "UDP 192.0.2.1:5060", "UDP 192.0.2.1:x", "bad Via sent-by"},
        Malformed{"via branch", "branch=z9hG4bK776asdhds", "branch=", "empty Via branch"},
        Malformed{"via rport", ";rport\r\n", ";rport=70000\r\n", "bad Via rport"},
        Malformed{"via ipv6", "[2001:db8::1]", "[2001:db8::1", "bad Via sent-by"},
        Malformed{"max-forwards", "Max-Forwards: 70", "Max-Forwards: 256", "bad Max-Forwards"},
        Malformed{"max-forwards text", "Max-Forwards: 70", "Max-Forwards: ten",
                  "bad Max-Forwards"},
        Malformed{"to", "To: <sip:msml@192.0.2.10>", "To: <sip:msml@192.0.2.10", "bad To"},
        Malformed{"to scheme", "To: <sip:msml@192.0.2.10>", "To: <foo:bar>", "bad To"},
        Malformed{"missing to", "To: <sip:msml@192.0.2.10>", "Tx: 1", "missing To"},
        Malformed{"from", "From: \"Alice, A\"", "From: \"Alice, A", "bad From"},
        Malformed{"from tag", ";tag=1928301774", ";tag=", "bad From"},
        Malformed{"duplicate from", "To: <sip:msml@192.0.2.10>",
                  "f: <sip:x@y>;tag=2\r\nTo: <sip:msml@192.0.2.10>", "duplicate From"},
        Malformed{"call-id", "Call-ID: a84b4c76e66710@pc33.example.com", "Call-ID: a b",
                  "bad Call-ID"},
        Malformed{"missing call-id", "Call-ID: a84b4c76e66710@pc33.example.com", "X: y",
                  "missing Call-ID"},
        Malformed{"cseq number", "CSeq: 314159 INVITE", "CSeq: x INVITE", "bad CSeq"},
        Malformed{"cseq range", "CSeq: 314159 INVITE", "CSeq: 4294967295 INVITE", "bad CSeq"},
        Malformed{"cseq method", "CSeq: 314159 INVITE", "CSeq: 314159 BYE",
                  "CSeq method does not match the request method"},
        Malformed{"cseq no method", "CSeq: 314159 INVITE", "CSeq: 314159", "bad CSeq"},
        Malformed{"contact", "Contact: <sip:alice@192.0.2.1>", "Contact: <sip:alice@192.0.2.1",
                  "bad Contact"},
        Malformed{"route", "Route: <sip:192.0.2.10;lr>", "Route: <sip:192.0.2.10;lr", "bad Route"},
        Malformed{"route item", "<sip:p2.example.com;lr>", "<x>", "bad Route"},
        Malformed{"content-length", "Content-Length: 4", "Content-Length: -1",
                  "bad Content-Length"},
        Malformed{"content-length too big", "Content-Length: 4", "Content-Length: 400",
                  "Content-Length larger than the message body"},
        Malformed{"header name", "Subject: folded", "Sub ject: folded", "bad header name"},
        Malformed{"header colon", "Subject: folded", "Subject folded", "header line without colon"},
        Malformed{"first header folded", "media-service=cpd SIP/2.0\r\n",
                  "media-service=cpd SIP/2.0\r\n sip:x@192.0.2.10 SIP/2.0\r\n",
                  "continuation line without a header before it"},
        Malformed{"unterminated", "\r\n\r\nv=0\n", "\r\n", "headers not terminated by an empty line"}));

TEST(SipParser, RefusesBadStatusLines) {
  for (const char* line : {"SIP/2.0 99 Low\r\n", "SIP/2.0 700 High\r\n", "SIP/2.0 2x0 X\r\n",
                           "SIP/2.0 200\r\n"}) {
    std::string text = std::string(line) +
                       "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
                       "To: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n";
    SipMessage m;
    EXPECT_FALSE(parse(text, m).ok()) << line;
  }
}

TEST(SipParser, RefusesAMessageWithoutVia) {
  std::string text =
      "BYE sip:a@b SIP/2.0\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\n"
      "CSeq: 1 BYE\r\n\r\n";
  SipMessage m;
  const auto st = parse(text, m);
  ASSERT_FALSE(st.ok());
  EXPECT_STREQ(st.reason, "missing Via");
}

TEST(SipParser, SurvivesEveryTruncation) {
  const std::string full = kInvite;
  SipMessage m;
  for (std::size_t n = 0; n < full.size(); ++n) {
    std::string text = full.substr(0, n);
    (void)parse(text, m);
  }
  SUCCEED();
}

} // namespace
} // namespace rmha::core::sip
