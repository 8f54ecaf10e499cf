// UDP transport.
//
//   socket --async_receive_from--> buffer_ --onMessage(span)--> TransportSink (proxy)
//   proxy --send(endpoint, bytes)--> socket.send_to (non-blocking, no copy, no queue)
#include "core/sip/transport_udp.h"

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/socket_base.hpp>

#include "core/log.h"

namespace rmha::core::sip {

namespace asio = boost::asio;
using asio::ip::udp;

std::string_view toString(TransportKind k) { return k == TransportKind::Udp ? "udp" : "tcp"; }

std::string Peer::str() const {
  if (address.is_v6()) {
    return fmt::format("{}:[{}]:{}", toString(transport), address.to_string(), port);
  }
  return fmt::format("{}:{}:{}", toString(transport), address.to_string(), port);
}

UdpTransport::UdpTransport(asio::io_context& io, TransportSink& sink) : socket_(io), sink_(sink) {}

std::error_code UdpTransport::start(const udp::endpoint& local) {
  boost::system::error_code ec;
  socket_.open(local.protocol(), ec);
  if (ec) {
    return ec;
  }
  if (local.address().is_v6()) {
    socket_.set_option(asio::ip::v6_only(true), ec);
  }
  // A large receive buffer absorbs bursts while the proxy thread is busy.
  socket_.set_option(asio::socket_base::receive_buffer_size(4 << 20), ec);
  socket_.set_option(asio::socket_base::send_buffer_size(4 << 20), ec);
  ec.clear();
  socket_.bind(local, ec);
  if (ec) {
    socket_.close();
    return ec;
  }
  socket_.non_blocking(true, ec);
  v6_ = local.address().is_v6();
  running_ = true;
  receive();
  return {};
}

void UdpTransport::stop() {
  running_ = false;
  boost::system::error_code ec;
  socket_.close(ec);
}

udp::endpoint UdpTransport::localEndpoint() const {
  boost::system::error_code ec;
  return socket_.local_endpoint(ec);
}

bool UdpTransport::send(const udp::endpoint& to, std::string_view data) {
  boost::system::error_code ec;
  socket_.send_to(asio::buffer(data.data(), data.size()), to, 0, ec);
  if (ec) {
    RMHA_LOG(Debug, "sip", "udp send to {}:{} failed: {}", to.address().to_string(), to.port(),
             ec.message());
    return false;
  }
  return true;
}

void UdpTransport::deliver(std::size_t n) {
  Peer peer{TransportKind::Udp, from_.address(), from_.port(), 0};
  if (peer.address.is_v6() && peer.address.to_v6().is_v4_mapped()) {
    peer.address = asio::ip::make_address_v4(asio::ip::v4_mapped, peer.address.to_v6());
  }
  sink_.onMessage(std::span<char>(buffer_.data(), n), peer);
}

void UdpTransport::receive() {
  socket_.async_receive_from(
      asio::buffer(buffer_), from_,
      [this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec,
                                                 std::size_t n) {
        if (alive.expired() || !running_ || ec == asio::error::operation_aborted) {
          return;
        }
        if (!ec && n > 0) {
          deliver(n);
          // Drain what is already queued without a reactor round trip per datagram; a
          // bounded batch keeps timers and TCP fair under load.
          for (int i = 0; i < kBatch && !alive.expired() && running_; ++i) {
            boost::system::error_code rec;
            const auto m = socket_.receive_from(asio::buffer(buffer_), from_, 0, rec);
            if (rec) {
              break;
            }
            deliver(m);
          }
        }
        if (!alive.expired() && running_) {
          receive();
        }
      });
}

} // namespace rmha::core::sip
