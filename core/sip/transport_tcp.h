#pragma once
// TCP transport: listeners, inbound and outbound connections framed by Content-Length,
// one reused connection per remote endpoint, idle timeout, message size and per-peer
// connection limits.
#include <cstdint>
#include <map>
#include <memory>
#include <system_error>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "core/sip/transport.h"
#include "core/timer.h"

namespace rmha::core::sip {

struct TcpLimits {
  std::size_t maxMessageSize = 65535;
  Duration idleTimeout = std::chrono::seconds(600);
  std::size_t maxConnectionsPerPeer = 16;  ///< per remote IP address
  std::size_t maxConnections = 4096;
};

class TcpTransport {
public:
  TcpTransport(boost::asio::io_context& io, TransportSink& sink, TimerFactory& timers,
               TcpLimits limits);
  ~TcpTransport();
  /// Listens on `local`; call once per TCP listen address.
  std::error_code listen(const boost::asio::ip::tcp::endpoint& local);
  /// Closes listeners and every connection.
  void stop();
  /// Closes every connection (the peers read end-of-file); listeners stay open.
  void closeConnections();
  /// Sends on the peer's connection (its id, else any open one to its endpoint), connecting
  /// when there is none. Failures reach the sink's onTransportError.
  void send(const Peer& to, std::string_view data);
  /// The first listener's address (tests bind port 0).
  boost::asio::ip::tcp::endpoint localEndpoint(std::size_t index = 0) const;
  std::size_t connectionCount() const { return byId_.size(); }

  class Connection;

private:
  friend class Connection;
  void accept(std::size_t index);
  std::shared_ptr<Connection> add(boost::asio::ip::tcp::socket socket, bool inbound,
                                  const boost::asio::ip::tcp::endpoint& remote);
  void remove(std::uint64_t id);

  boost::asio::io_context& io_;
  TransportSink& sink_;
  TimerFactory& timers_;
  TcpLimits limits_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::unordered_map<std::uint64_t, std::shared_ptr<Connection>> byId_;
  std::map<boost::asio::ip::tcp::endpoint, std::uint64_t> byRemote_;
  std::map<boost::asio::ip::address, std::size_t> perAddress_;
  std::uint64_t nextId_ = 1;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace rmha::core::sip
