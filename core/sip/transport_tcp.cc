// TCP transport.
//
//   acceptor --accept--> Connection(inbound) --read, findFrame--> TransportSink::onMessage
//   proxy --send(peer)--> Connection by id | by remote endpoint | new outbound connect
//   Connection --write: immediate non-blocking write, async_write for what is left
//   idle timer (TimerFactory) --> close; connect/write error --> TransportSink::onTransportError
#include "core/sip/transport_tcp.h"

#include <cstring>
#include <deque>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/write.hpp>

#include "core/log.h"
#include "core/sip/parser.h"

namespace rmha::core::sip {

namespace asio = boost::asio;
using asio::ip::tcp;

class TcpTransport::Connection : public std::enable_shared_from_this<Connection> {
public:
  Connection(TcpTransport& owner, tcp::socket socket, std::uint64_t id, tcp::endpoint remote,
             bool connected)
      : owner_(&owner), socket_(std::move(socket)), id_(id), remote_(std::move(remote)),
        connected_(connected) {}

  void init() {
    idle_ = owner_->timers_.createTimer([weak = weak_from_this()] {
      if (auto self = weak.lock()) {
        RMHA_LOG(Debug, "sip", "tcp connection to {} idle: closing", self->peer().str());
        self->close(false);
      }
    });
    idle_->enable(owner_->limits_.idleTimeout);
  }

  Peer peer() const {
    return Peer{TransportKind::Tcp, remote_.address(), remote_.port(), id_};
  }

  void connect() {
    socket_.async_connect(remote_, [self = shared_from_this()](const boost::system::error_code& ec) {
      if (self->closed_) {
        return;
      }
      if (ec) {
        RMHA_LOG(Info, "sip", "tcp connect to {} failed: {}", self->peer().str(), ec.message());
        self->close(true);
        return;
      }
      self->connected_ = true;
      self->configure();
      self->startRead();
      if (!self->out_.empty()) {
        self->doWrite();
      }
    });
  }

  void configure() {
    boost::system::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    socket_.non_blocking(true, ec);
  }

  void startRead() {
    const auto limit = owner_->limits_.maxMessageSize + 4096;
    if (in_.size() - used_ < 2048 && in_.size() < limit) {
      in_.resize(std::min(limit, std::max<std::size_t>(in_.size() * 2, 8192)));
    }
    socket_.async_read_some(
        asio::buffer(in_.data() + used_, in_.size() - used_),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
          self->onRead(ec, n);
        });
  }

  void onRead(const boost::system::error_code& ec, std::size_t n) {
    if (closed_ || !owner_) {
      return;
    }
    if (ec) {
      close(false);
      return;
    }
    used_ += n;
    idle_->enable(owner_->limits_.idleTimeout);
    std::size_t off = 0;
    for (;;) {
      const auto f = findFrame(std::string_view(in_.data() + off, used_ - off),
                               owner_->limits_.maxMessageSize);
      if (f.kind == Frame::Kind::Error) {
        RMHA_LOG(Info, "sip", "tcp from {}: {}; closing", peer().str(), f.reason);
        close(false);
        return;
      }
      off += f.skip;
      if (f.kind == Frame::Kind::NeedMore) {
        break;
      }
      owner_->sink_.onMessage(std::span<char>(in_.data() + off, f.length), peer());
      if (closed_ || !owner_) {
        return;
      }
      off += f.length;
    }
    if (off > 0) {
      std::memmove(in_.data(), in_.data() + off, used_ - off);
      used_ -= off;
    }
    startRead();
  }

  void write(std::string_view data) {
    if (closed_) {
      return;
    }
    if (connected_ && out_.empty()) {
      // Fast path: most messages fit the socket buffer and need no copy.
      boost::system::error_code ec;
      const auto n = socket_.write_some(asio::buffer(data.data(), data.size()), ec);
      if (ec && ec != asio::error::would_block) {
        close(true);
        return;
      }
      data.remove_prefix(ec ? 0 : n);
      if (data.empty()) {
        idle_->enable(owner_->limits_.idleTimeout);
        return;
      }
    }
    out_.emplace_back(data);
    if (connected_ && !writing_) {
      doWrite();
    }
  }

  void doWrite() {
    writing_ = true;
    asio::async_write(socket_, asio::buffer(out_.front()),
                      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                        self->writing_ = false;
                        if (self->closed_) {
                          return;
                        }
                        if (ec) {
                          self->close(true);
                          return;
                        }
                        self->out_.pop_front();
                        if (!self->out_.empty()) {
                          self->doWrite();
                        }
                      });
  }

  /// Closes once; `failed` reports a delivery failure to the sink.
  void close(bool failed) {
    if (closed_) {
      return;
    }
    closed_ = true;
    boost::system::error_code ec;
    socket_.close(ec);
    if (idle_) {
      idle_->disable();
    }
    auto* owner = owner_;
    owner_ = nullptr;
    if (owner) {
      const auto p = peer();
      owner->remove(id_);
      if (failed) {
        owner->sink_.onTransportError(p);
      }
    }
  }

  void detach() {
    // Pending handlers may keep this object alive after the transport (and the timer
    // factory) are gone: drop the timer now.
    idle_.reset();
    owner_ = nullptr;
    closed_ = true;
    boost::system::error_code ec;
    socket_.close(ec);
  }

  const tcp::endpoint& remote() const { return remote_; }

private:
  TcpTransport* owner_;
  tcp::socket socket_;
  std::uint64_t id_;
  tcp::endpoint remote_;
  bool connected_;
  bool writing_ = false;
  bool closed_ = false;
  std::vector<char> in_;
  std::size_t used_ = 0;
  std::deque<std::string> out_;
  TimerPtr idle_;
};

TcpTransport::TcpTransport(asio::io_context& io, TransportSink& sink, TimerFactory& timers,
                           TcpLimits limits)
    : io_(io), sink_(sink), timers_(timers), limits_(limits) {}

TcpTransport::~TcpTransport() { stop(); }

std::error_code TcpTransport::listen(const tcp::endpoint& local) {
  auto acc = std::make_unique<tcp::acceptor>(io_);
  boost::system::error_code ec;
  acc->open(local.protocol(), ec);
  if (ec) {
    return ec;
  }
  acc->set_option(tcp::acceptor::reuse_address(true), ec);
  if (local.address().is_v6()) {
    acc->set_option(asio::ip::v6_only(true), ec);
  }
  ec.clear();
  acc->bind(local, ec);
  if (!ec) {
    acc->listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return ec;
  }
  acceptors_.push_back(std::move(acc));
  accept(acceptors_.size() - 1);
  return {};
}

tcp::endpoint TcpTransport::localEndpoint(std::size_t index) const {
  boost::system::error_code ec;
  return index < acceptors_.size() ? acceptors_[index]->local_endpoint(ec) : tcp::endpoint{};
}

void TcpTransport::accept(std::size_t index) {
  acceptors_[index]->async_accept(
      [this, index, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec,
                                                          tcp::socket socket) {
        if (alive.expired() || ec == asio::error::operation_aborted) {
          return;
        }
        if (!ec) {
          boost::system::error_code rec;
          const auto remote = socket.remote_endpoint(rec);
          if (!rec) {
            if (auto c = add(std::move(socket), true, remote)) {
              c->configure();
              c->startRead();
            }
          }
        }
        if (index < acceptors_.size() && acceptors_[index]->is_open()) {
          accept(index);
        }
      });
}

std::shared_ptr<TcpTransport::Connection> TcpTransport::add(tcp::socket socket, bool inbound,
                                                            const tcp::endpoint& remote) {
  auto& count = perAddress_[remote.address()];
  if (count >= limits_.maxConnectionsPerPeer || byId_.size() >= limits_.maxConnections) {
    RMHA_LOG(Warn, "sip", "tcp: refusing connection with {}:{}: connection limit reached",
             remote.address().to_string(), remote.port());
    if (count == 0) {
      perAddress_.erase(remote.address());
    }
    return nullptr;
  }
  ++count;
  const auto id = nextId_++;
  auto c = std::make_shared<Connection>(*this, std::move(socket), id, remote, inbound);
  c->init();
  byId_.emplace(id, c);
  byRemote_[remote] = id;
  return c;
}

void TcpTransport::remove(std::uint64_t id) {
  auto it = byId_.find(id);
  if (it == byId_.end()) {
    return;
  }
  const auto remote = it->second->remote();
  auto r = byRemote_.find(remote);
  if (r != byRemote_.end() && r->second == id) {
    byRemote_.erase(r);
  }
  auto a = perAddress_.find(remote.address());
  if (a != perAddress_.end() && --a->second == 0) {
    perAddress_.erase(a);
  }
  byId_.erase(it);
}

void TcpTransport::send(const Peer& to, std::string_view data) {
  std::shared_ptr<Connection> c;
  if (to.connection != 0) {
    auto it = byId_.find(to.connection);
    if (it != byId_.end()) {
      c = it->second;
    }
  }
  const tcp::endpoint remote(to.address, to.port);
  if (!c) {
    auto r = byRemote_.find(remote);
    if (r != byRemote_.end()) {
      c = byId_.at(r->second);
    }
  }
  if (!c) {
    c = add(tcp::socket(io_), false, remote);
    if (!c) {
      sink_.onTransportError(Peer{TransportKind::Tcp, to.address, to.port, 0});
      return;
    }
    c->connect();
  }
  c->write(data);
}

void TcpTransport::stop() {
  for (auto& a : acceptors_) {
    boost::system::error_code ec;
    a->close(ec);
  }
  closeConnections();
}

void TcpTransport::closeConnections() {
  auto all = std::move(byId_);
  byId_.clear();
  byRemote_.clear();
  perAddress_.clear();
  for (auto& [id, c] : all) {
    c->detach();
  }
}

} // namespace rmha::core::sip
