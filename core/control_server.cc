// The control socket on Asio: one session per connection, newline-delimited JSON.
#include "core/control_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <filesystem>

#include "core/log.h"

namespace rmha::core {

namespace asio = boost::asio;
using asio::local::stream_protocol;

namespace {

struct Session : std::enable_shared_from_this<Session> {
  Session(stream_protocol::socket s, ControlHandler& h) : socket(std::move(s)), handler(h) {}
  stream_protocol::socket socket;
  ControlHandler& handler;
  asio::streambuf in{kMaxControlRequest};

  void read() {
    asio::async_read_until(socket, in, '\n',
                           [self = shared_from_this()](const boost::system::error_code& ec,
                                                       std::size_t n) { self->onLine(ec, n); });
  }

  void onLine(const boost::system::error_code& ec, std::size_t n) {
    if (ec == asio::error::not_found) {
      respond({{"ok", false}, {"error", "request longer than 64 KiB"}}, true);
      return;
    }
    if (ec) {
      return; // closed
    }
    std::string line(asio::buffers_begin(in.data()), asio::buffers_begin(in.data()) + n);
    in.consume(n);
    nlohmann::json req = nlohmann::json::parse(line, nullptr, false);
    if (req.is_discarded()) {
      respond({{"ok", false}, {"error", "the request is not JSON; send one JSON object per line, "
                                        "e.g. {\"cmd\":\"status\"}"}},
              false);
      return;
    }
    if (auto problem = checkControlRequest(req); !problem.empty()) {
      respond({{"ok", false}, {"error", problem}}, false);
      return;
    }
    auto self = shared_from_this();
    try {
      handler(req, [self](nlohmann::json resp) { self->respond(std::move(resp), false); });
    } catch (const std::exception& e) {
      RMHA_LOG(Error, "control", "request failed: {}", e.what());
      respond({{"ok", false}, {"error", std::string("internal error: ") + e.what()}}, false);
    }
  }

  void respond(nlohmann::json resp, bool close) {
    auto text = std::make_shared<std::string>(
        resp.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    asio::async_write(socket, asio::buffer(*text),
                      [self = shared_from_this(), text, close](const boost::system::error_code& ec,
                                                               std::size_t) {
                        if (ec || close) {
                          boost::system::error_code ignored;
                          self->socket.close(ignored);
                          return;
                        }
                        self->read();
                      });
  }
};

} // namespace

std::string checkControlRequest(const nlohmann::json& request) {
  if (!request.is_object()) {
    return "the request must be a JSON object with a \"cmd\" member";
  }
  const auto cmd = request.find("cmd");
  if (cmd == request.end() || !cmd->is_string()) {
    return "the request needs \"cmd\": a string such as \"status\"";
  }
  return "";
}

struct ControlServer::Impl {
  Impl(asio::io_context& io, std::string p, ControlHandler h)
      : acceptor(io), path(std::move(p)), handler(std::move(h)) {}
  stream_protocol::acceptor acceptor;
  std::string path;
  ControlHandler handler;
  bool stopped = false;

  void accept(const std::shared_ptr<Impl>& self) {
    acceptor.async_accept([self](const boost::system::error_code& ec,
                                 stream_protocol::socket socket) {
      if (self->stopped || ec == asio::error::operation_aborted) {
        return;
      }
      if (!ec) {
        std::make_shared<Session>(std::move(socket), self->handler)->read();
      }
      self->accept(self);
    });
  }
};

ControlServer::ControlServer(asio::io_context& io, std::string path, ControlHandler handler)
    : impl_(std::make_shared<Impl>(io, std::move(path), std::move(handler))) {}

ControlServer::~ControlServer() { stop(); }

std::error_code ControlServer::start(std::string& what) {
  std::error_code fec;
  std::filesystem::create_directories(std::filesystem::path(impl_->path).parent_path(), fec);
  ::unlink(impl_->path.c_str()); // a stale socket of an earlier run
  boost::system::error_code ec;
  const stream_protocol::endpoint ep(impl_->path);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) {
    impl_->acceptor.bind(ep, ec);
  }
  if (!ec) {
    impl_->acceptor.listen(16, ec);
  }
  if (ec) {
    what = fmt::format("control socket {}: {}", impl_->path, ec.message());
    return std::make_error_code(static_cast<std::errc>(ec.value()));
  }
  ::chmod(impl_->path.c_str(), 0660);
  impl_->accept(impl_);
  return {};
}

void ControlServer::stop() {
  if (impl_->stopped) {
    return;
  }
  impl_->stopped = true;
  boost::system::error_code ec;
  if (impl_->acceptor.is_open()) {
    impl_->acceptor.close(ec);
    ::unlink(impl_->path.c_str());
  }
}

} // namespace rmha::core
