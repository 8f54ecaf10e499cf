#pragma once
// What the proxy core sees of the network: a peer address (with the TCP connection a message
// came on, so responses go back on it) and a sink for received messages and send failures.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>

namespace rmha::core::sip {

enum class TransportKind : std::uint8_t { Udp, Tcp };

std::string_view toString(TransportKind k);

/// A remote SIP peer.
struct Peer {
  TransportKind transport = TransportKind::Udp;
  boost::asio::ip::address address;
  std::uint16_t port = 0;
  std::uint64_t connection = 0;  ///< TCP connection id the message arrived on; 0 = any

  bool sameEndpoint(const Peer& o) const {
    return transport == o.transport && address == o.address && port == o.port;
  }
  std::string str() const;
};

class TransportSink {
public:
  virtual ~TransportSink() = default;
  /// One complete message from `from`. `data` is writable (the parser unfolds in place) and
  /// valid only during the call.
  virtual void onMessage(std::span<char> data, const Peer& from) = 0;
  /// A message to `to` could not be delivered (TCP connect refused or reset, send error).
  virtual void onTransportError(const Peer& to) = 0;
};

/// Sends bytes to a peer; implemented by the transport set of the service.
class MessageSender {
public:
  virtual ~MessageSender() = default;
  /// Sends `data` to `to` (copied if it cannot go at once). Failures are reported through
  /// TransportSink::onTransportError, possibly later.
  virtual void send(const Peer& to, std::string_view data) = 0;
};

} // namespace rmha::core::sip
