#include "core/sip/transport_tcp.h"

#include <functional>
#include <string>
#include <vector>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "tests/fakes/fake_clock.h"

namespace rmha::core::sip {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

class Sink final : public TransportSink {
public:
  void onMessage(std::span<char> data, const Peer& from) override {
    messages.emplace_back(data.data(), data.size());
    last = from;
  }
  void onTransportError(const Peer& to) override { errors.push_back(to); }
  std::vector<std::string> messages;
  std::vector<Peer> errors;
  Peer last;
};

std::string message(const std::string& body = "") {
  return "OPTIONS sip:x@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK1\r\n"
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

class TcpTransportTest : public ::testing::Test {
protected:
  TcpTransportTest() : transport_(io_, sink_, clock_, limits()) {
    EXPECT_FALSE(transport_.listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)));
  }
  static TcpLimits limits() {
    TcpLimits l;
    l.maxMessageSize = 2000;
    l.maxConnectionsPerPeer = 2;
    l.idleTimeout = 30s;
    return l;
  }
  tcp::socket connect() {
    tcp::socket s(io_);
    s.connect(transport_.localEndpoint());
    return s;
  }
  /// Runs the io_context until `pred` holds (bounded by a deadline, never a sleep).
  bool runUntil(const std::function<bool()>& pred) {
    for (int i = 0; i < 2000 && !pred(); ++i) {
      io_.run_one_for(5ms);
    }
    return pred();
  }

  test::FakeClock clock_;  // outlives io_: pending handlers may hold timers until io_ goes
  asio::io_context io_;
  Sink sink_;
  TcpTransport transport_;
};

TEST_F(TcpTransportTest, FramesMessagesByContentLength) {
  auto s = connect();
  const auto one = message("abc");
  const auto two = message();
  // The first message in two pieces, then the second glued to CRLF keep-alives.
  asio::write(s, asio::buffer(one.substr(0, 20)));
  ASSERT_TRUE(runUntil([&] { return transport_.connectionCount() == 1; }));
  asio::write(s, asio::buffer(one.substr(20) + "\r\n\r\n" + two));
  ASSERT_TRUE(runUntil([&] { return sink_.messages.size() == 2; }));
  EXPECT_EQ(sink_.messages[0], one);
  EXPECT_EQ(sink_.messages[1], two);
  EXPECT_EQ(sink_.last.transport, TransportKind::Tcp);
  EXPECT_NE(sink_.last.connection, 0u);
}

TEST_F(TcpTransportTest, RepliesOnTheConnectionTheRequestCameOn) {
  auto s = connect();
  asio::write(s, asio::buffer(message()));
  ASSERT_TRUE(runUntil([&] { return sink_.messages.size() == 1; }));
  const auto reply = message("ok");
  transport_.send(sink_.last, reply);
  std::string got(reply.size(), '\0');
  asio::read(s, asio::buffer(got));
  EXPECT_EQ(got, reply);
  EXPECT_EQ(transport_.connectionCount(), 1u);
}

TEST_F(TcpTransportTest, CloseConnectionsEndsEveryConnectionAndKeepsListening) {
  // What a node leaving the active role does: its peers read end-of-file at once and open
  // their next connection to whoever owns the address now.
  auto a = connect();
  auto b = connect();
  ASSERT_TRUE(runUntil([&] { return transport_.connectionCount() == 2; }));
  transport_.closeConnections();
  EXPECT_EQ(transport_.connectionCount(), 0u);
  for (auto* s : {&a, &b}) {
    char byte = 0;
    boost::system::error_code ec;
    s->read_some(asio::buffer(&byte, 1), ec);
    EXPECT_EQ(ec, asio::error::eof);
  }
  auto c = connect();
  asio::write(c, asio::buffer(message()));
  ASSERT_TRUE(runUntil([&] { return sink_.messages.size() == 1; }));
  EXPECT_EQ(transport_.connectionCount(), 1u);
}

TEST_F(TcpTransportTest, ClosesOnAnOversizedMessage) {
  auto s = connect();
  asio::write(s, asio::buffer(message(std::string(3000, 'x'))));
  ASSERT_TRUE(runUntil([&] { return transport_.connectionCount() == 0; }));
  EXPECT_TRUE(sink_.messages.empty());
}

TEST_F(TcpTransportTest, LimitsConnectionsPerPeer) {
  auto a = connect();
  auto b = connect();
  ASSERT_TRUE(runUntil([&] { return transport_.connectionCount() == 2; }));
  auto c = connect();
  char byte = 0;
  boost::system::error_code ec;
  // The third is accepted by the kernel, then closed by the transport.
  ASSERT_TRUE(runUntil([&] {
    c.non_blocking(true);
    c.read_some(asio::buffer(&byte, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }));
  EXPECT_EQ(transport_.connectionCount(), 2u);
}

TEST_F(TcpTransportTest, ClosesIdleConnections) {
  auto s = connect();
  ASSERT_TRUE(runUntil([&] { return transport_.connectionCount() == 1; }));
  clock_.advance(29s);
  EXPECT_EQ(transport_.connectionCount(), 1u);
  clock_.advance(2s);
  EXPECT_EQ(transport_.connectionCount(), 0u);
}

TEST_F(TcpTransportTest, ReportsAConnectionRefused) {
  const auto port = [&] {
    tcp::acceptor a(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
  }();  // nothing listens there any more
  transport_.send(Peer{TransportKind::Tcp, asio::ip::make_address("127.0.0.1"), port, 0},
                  message());
  ASSERT_TRUE(runUntil([&] { return sink_.errors.size() == 1; }));
  EXPECT_EQ(sink_.errors[0].port, port);
}

} // namespace
} // namespace rmha::core::sip
