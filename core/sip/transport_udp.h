#pragma once
// UDP transport: one socket per listen address, receiving into a fixed buffer and handing
// each datagram to the sink in place; sends are immediate non-blocking send_to calls.
#include <array>
#include <memory>
#include <system_error>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "core/sip/transport.h"

namespace rmha::core::sip {

class UdpTransport {
public:
  UdpTransport(boost::asio::io_context& io, TransportSink& sink);
  /// Binds `local` and starts receiving.
  std::error_code start(const boost::asio::ip::udp::endpoint& local);
  void stop();
  /// Sends one datagram; false when the socket refused it at once.
  bool send(const boost::asio::ip::udp::endpoint& to, std::string_view data);
  boost::asio::ip::udp::endpoint localEndpoint() const;
  bool isV6() const { return v6_; }

private:
  void receive();
  void deliver(std::size_t n);
  static constexpr int kBatch = 32;

  boost::asio::ip::udp::socket socket_;
  TransportSink& sink_;
  boost::asio::ip::udp::endpoint from_;
  std::array<char, 65536> buffer_{};
  bool v6_ = false;
  bool running_ = false;
  // Handlers hold a weak reference: one still queued after stop() or destruction does nothing.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace rmha::core::sip
