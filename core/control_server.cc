// The control socket on Asio: one session per connection, newline-delimited JSON.
//
//   listening socket --accept--> Server: fd headroom? cap reached? (close the longest-idle
//        |                        client, or refuse the newcomer with one error line)
//        | EMFILE/ENFILE: the reserve descriptor lets one pending client be told why, then the
//        |                accept loop pauses (100 ms, doubling to 1 s): never a busy loop
//        v
//   Session: always reading (framer, 64 KiB) --line--> handler (same thread) --reply--> write
//            timer: idle-timeout while nothing is under way, request-timeout from a request's
//            first byte and for the answer to be taken; each closes with one error line
#include "core/control_server.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <atomic>
#include <filesystem>
#include <list>

#include "core/log.h"

namespace rmha::core {

namespace asio = boost::asio;
using asio::local::stream_protocol;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

namespace {

struct Session;

struct AtomicCounters {
  std::atomic<std::uint64_t> accepted{0}, refusedFull{0}, evictedIdle{0}, refusedNoFds{0},
      acceptFailures{0}, acceptBackoffs{0}, requestTimeouts{0}, idleTimeouts{0}, oversized{0},
      clients{0};
};

std::string errorLine(const std::string& error) {
  return json{{"ok", false}, {"error", error}}.dump() + "\n";
}

// A best-effort line on a socket that is about to be closed: a fresh Unix socket's send buffer
// takes it at once; if it does not, the client only misses the sentence, never the close.
void sendAndForget(int fd, const std::string& line) {
  (void)!::send(fd, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

long openFileLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
    return -1;
  }
  return static_cast<long>(rl.rlim_cur);
}

std::string describeAcceptError(const boost::system::error_code& ec) {
  switch (ec.value()) {
  case EMFILE:
    return fmt::format("out of file descriptors (EMFILE: the process's open-file limit of {} is "
                       "reached)", openFileLimit());
  case ENFILE:
    return "out of file descriptors (ENFILE: the system-wide file table is full)";
  case ENOBUFS:
  case ENOMEM:
    return fmt::format("out of kernel memory ({})", ec.message());
  default:
    return ec.message();
  }
}

struct Server : std::enable_shared_from_this<Server> {
  Server(asio::io_context& io, std::string p, ControlHandler h, ControlLimits l)
      : acceptor(io), backoffTimer(io), path(std::move(p)), handler(std::move(h)), limits(l),
        backoff(l.acceptBackoff) {}
  stream_protocol::acceptor acceptor;
  asio::steady_timer backoffTimer;
  std::string path;
  ControlHandler handler;
  ControlLimits limits;
  AtomicCounters n;
  std::list<std::shared_ptr<Session>> sessions;
  int reserveFd = -1;
  std::chrono::milliseconds backoff;
  bool stopped = false;
  bool exhausted = false; // inside an out-of-descriptors episode: logged once

  void accept();
  void onAccept(const boost::system::error_code& ec, stream_protocol::socket socket);
  void onAcceptError(const boost::system::error_code& ec);
  bool shortOfDescriptors(stream_protocol::socket& socket);
  bool makeRoom();
  void tellOnePendingClient();
  void episodeEnded();
  void closeAll();
};

struct Session : std::enable_shared_from_this<Session> {
  enum class State { Idle, Reading, Busy, Writing };

  Session(std::shared_ptr<Server> s, stream_protocol::socket sock)
      : server(std::move(s)), socket(std::move(sock)), timer(socket.get_executor()),
        framer(server->limits.maxRequest) {}
  std::shared_ptr<Server> server;
  stream_protocol::socket socket;
  asio::steady_timer timer;
  ControlFramer framer;
  std::array<char, 4096> chunk{};
  State state = State::Idle;
  SteadyClock::time_point idleSince = SteadyClock::now();
  std::list<std::shared_ptr<Session>>::iterator self;
  bool open = true;

  void start() {
    arm(server->limits.idleTimeout);
    read();
  }

  // Reading never stops while the connection is open (also while a `wait` is under way), so
  // a client that hangs up is noticed at once and its slot freed.
  void read() {
    socket.async_read_some(asio::buffer(chunk), [me = shared_from_this()](
                                                    const boost::system::error_code& ec,
                                                    std::size_t n) { me->onRead(ec, n); });
  }

  void onRead(const boost::system::error_code& ec, std::size_t n) {
    if (!open) {
      return;
    }
    if (ec) {
      close(); // the client hung up (or the socket failed)
      return;
    }
    if (!framer.append(std::string_view(chunk.data(), n))) {
      ++server->n.oversized;
      if (state == State::Busy || state == State::Writing) {
        close(); // an answer is under way: no second writer on the socket
      } else {
        respond({{"ok", false}, {"error", fmt::format("request longer than {} KiB",
                                                      server->limits.maxRequest / 1024)}},
                true);
      }
      return;
    }
    read();
    pump(false);
  }

  // Serves the next buffered request line, or waits for one under the right timeout.
  void pump(bool answered) {
    if (!open || state == State::Busy || state == State::Writing) {
      return;
    }
    std::string line;
    if (framer.next(line) == ControlFramer::Next::Line) {
      state = State::Busy;
      timer.cancel(); // the command bounds itself (wait's timeout, the operator safety net)
      handleLine(line);
      return;
    }
    if (framer.partial() && (state == State::Idle || answered)) {
      state = State::Reading; // the first byte of a request: it has request-timeout to finish
      arm(server->limits.requestTimeout);
    } else if (!framer.partial() && answered) {
      state = State::Idle;
      idleSince = SteadyClock::now();
      arm(server->limits.idleTimeout);
    }
  }

  void handleLine(const std::string& line) {
    json req = json::parse(line, nullptr, false);
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
    try {
      server->handler(req, [me = shared_from_this()](json resp) {
        if (me->open && me->state == State::Busy) {
          me->respond(std::move(resp), false);
        }
      });
    } catch (const std::exception& e) {
      RMHA_LOG(Error, "control", "request failed: {}", e.what());
      if (state == State::Busy) {
        respond({{"ok", false}, {"error", std::string("internal error: ") + e.what()}}, false);
      }
    }
  }

  void respond(const json& resp, bool closeAfter) {
    state = State::Writing;
    arm(server->limits.requestTimeout); // a client that does not read its answer is dropped
    auto text = std::make_shared<std::string>(
        resp.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
    asio::async_write(socket, asio::buffer(*text),
                      [me = shared_from_this(), text, closeAfter](
                          const boost::system::error_code& ec, std::size_t) {
                        if (!me->open) {
                          return;
                        }
                        if (ec || closeAfter) {
                          me->close();
                          return;
                        }
                        me->state = State::Idle;
                        me->pump(true);
                      });
  }

  void arm(SteadyClock::duration d) {
    timer.expires_after(d);
    timer.async_wait([me = shared_from_this()](const boost::system::error_code& ec) {
      me->onTimer(ec);
    });
  }

  void onTimer(const boost::system::error_code& ec) {
    // A wait that completed after the timer was re-armed or cancelled is stale.
    if (ec || !open || timer.expiry() > SteadyClock::now()) {
      return;
    }
    const auto& l = server->limits;
    switch (state) {
    case State::Idle:
      ++server->n.idleTimeouts;
      closeWith(fmt::format("closed: idle for {} ms ([control] idle-timeout)",
                            l.idleTimeout.count()));
      break;
    case State::Reading:
      ++server->n.requestTimeouts;
      closeWith(fmt::format("closed: the request line was not complete within {} ms of its first "
                            "byte ([control] request-timeout); send the whole line at once",
                            l.requestTimeout.count()));
      break;
    case State::Writing:
      ++server->n.requestTimeouts;
      close(); // the client did not take its answer in time
      break;
    case State::Busy:
      break;
    }
  }

  void closeWith(const std::string& error) {
    if (open && state != State::Writing) {
      sendAndForget(socket.native_handle(), errorLine(error));
    }
    close();
  }

  void close() {
    if (!open) {
      return;
    }
    open = false;
    boost::system::error_code ignored;
    socket.close(ignored);
    timer.cancel();
    --server->n.clients;
    server->sessions.erase(self); // `self` of the caller's handler keeps this alive
  }
};

void Server::accept() {
  acceptor.async_accept([me = shared_from_this()](const boost::system::error_code& ec,
                                                  stream_protocol::socket socket) {
    me->onAccept(ec, std::move(socket));
  });
}

void Server::onAccept(const boost::system::error_code& ec, stream_protocol::socket socket) {
  if (stopped || ec == asio::error::operation_aborted) {
    return;
  }
  if (ec) {
    onAcceptError(ec);
    return;
  }
  if (!shortOfDescriptors(socket)) {
    episodeEnded();
    if (sessions.size() < limits.maxClients || makeRoom()) {
      ++n.accepted;
      ++n.clients;
      auto s = std::make_shared<Session>(shared_from_this(), std::move(socket));
      sessions.push_back(s);
      s->self = std::prev(sessions.end());
      s->start();
    } else {
      ++n.refusedFull;
      sendAndForget(socket.native_handle(),
                    errorLine(fmt::format("too many control clients: the cap is {} ([control] "
                                          "max-clients) and none is idle; try again",
                                          limits.maxClients)));
    }
  }
  accept(); // a refused socket closes when it goes out of scope
}

// Descriptors are handed out lowest first, so an accepted descriptor numbered N means 0..N-1
// are all in use: at limit - headroom the last descriptors are kept for the peer link and
// the claim, whatever else (SIP TCP, hooks) used the others up.
bool Server::shortOfDescriptors(stream_protocol::socket& socket) {
  const long limit = openFileLimit();
  if (limit < 0 || socket.native_handle() < limit - limits.fdHeadroom) {
    return false;
  }
  ++n.refusedNoFds;
  if (!exhausted) {
    exhausted = true;
    RMHA_LOG(Warn, "control", "refusing control clients: out of file descriptors ({} of the "
             "open-file limit of {} in use; the last {} are kept for the peer link and the claim)",
             socket.native_handle(), limit, limits.fdHeadroom);
  }
  sendAndForget(socket.native_handle(),
                errorLine(fmt::format("the daemon is out of file descriptors ({} of its limit of "
                                      "{} in use); see its log",
                                      socket.native_handle(), limit)));
  return true;
}

// Over the cap, an idle client (no request under way) is the cheapest to lose: it is closed
// with a sentence so that an operator's rmhactl is served even while idle clients pile up.
bool Server::makeRoom() {
  std::shared_ptr<Session> oldest;
  for (const auto& s : sessions) {
    if (s->state == Session::State::Idle && (!oldest || s->idleSince < oldest->idleSince)) {
      oldest = s;
    }
  }
  if (!oldest) {
    return false;
  }
  ++n.evictedIdle;
  oldest->closeWith(fmt::format("closed to make room for a new client: the control socket has "
                                "its cap of {} clients ([control] max-clients) and this one was "
                                "idle longest",
                                limits.maxClients));
  return true;
}

void Server::onAcceptError(const boost::system::error_code& ec) {
  ++n.acceptFailures;
  const int e = ec.value();
  if (e == ECONNABORTED || e == EPROTO || e == EINTR || e == EAGAIN) {
    accept(); // that one connection is gone; the next is unaffected
    return;
  }
  if (e == EMFILE || e == ENFILE) {
    tellOnePendingClient();
  }
  if (!exhausted) {
    exhausted = true;
    RMHA_LOG(Warn, "control", "cannot accept control clients: {}; pausing accepts for {} ms, "
             "then retrying (up to every {} ms)",
             describeAcceptError(ec), backoff.count(), limits.maxAcceptBackoff.count());
  } else {
    RMHA_LOG(Debug, "control", "accept still failing: {}", describeAcceptError(ec));
  }
  // Level-triggered readiness would report the pending connection again at once: without a
  // pause this loop spins at the HA thread's real-time priority.
  ++n.acceptBackoffs;
  backoffTimer.expires_after(backoff);
  backoff = std::min(backoff * 2, limits.maxAcceptBackoff);
  backoffTimer.async_wait([me = shared_from_this()](const boost::system::error_code& tec) {
    if (!tec && !me->stopped) {
      me->accept();
    }
  });
}

// The reserve trick: the spare descriptor is given back for a moment so that one pending
// client can be accepted and told why it cannot be served, instead of hanging in the backlog.
void Server::tellOnePendingClient() {
  if (reserveFd < 0) {
    return;
  }
  ::close(reserveFd);
  reserveFd = -1;
  const int fd = ::accept4(acceptor.native_handle(), nullptr, nullptr,
                           SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd >= 0) {
    ++n.refusedNoFds;
    sendAndForget(fd, errorLine("the daemon is out of file descriptors (EMFILE); this request "
                                "cannot be served; see the daemon's log"));
    ::close(fd);
  }
  reserveFd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void Server::episodeEnded() {
  backoff = limits.acceptBackoff;
  if (exhausted) {
    exhausted = false;
    RMHA_LOG(Info, "control", "accepting control clients again ({} refused or failed so far)",
             n.refusedNoFds.load() + n.acceptFailures.load());
  }
  if (reserveFd < 0) {
    reserveFd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
}

void Server::closeAll() {
  const auto all = sessions; // close() erases from the list
  for (const auto& s : all) {
    s->close();
  }
}

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
  std::shared_ptr<Server> server;
};

ControlServer::ControlServer(asio::io_context& io, std::string path, ControlHandler handler,
                             ControlLimits limits)
    : impl_(std::make_shared<Impl>(Impl{std::make_shared<Server>(io, std::move(path),
                                                                 std::move(handler), limits)})) {}

ControlServer::~ControlServer() { stop(); }

Result<> ControlServer::start() {
  auto& s = *impl_->server;
  std::error_code fec;
  std::filesystem::create_directories(std::filesystem::path(s.path).parent_path(), fec);
  ::unlink(s.path.c_str()); // a stale socket of an earlier run
  boost::system::error_code ec;
  const stream_protocol::endpoint ep(s.path);
  s.acceptor.open(ep.protocol(), ec);
  if (!ec) {
    s.acceptor.bind(ep, ec);
  }
  if (!ec) {
    s.acceptor.listen(128, ec);
  }
  if (!ec) {
    s.acceptor.non_blocking(true, ec); // for the reserve trick's direct accept4()
  }
  if (ec) {
    return fail(std::make_error_code(static_cast<std::errc>(ec.value())),
                fmt::format("control socket {}: {}", s.path,
                            ec.value() == EMFILE || ec.value() == ENFILE ? describeAcceptError(ec)
                                                                           : ec.message()));
  }
  ::chmod(s.path.c_str(), 0660);
  s.reserveFd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  s.accept();
  return {};
}

void ControlServer::stop() {
  auto& s = *impl_->server;
  if (s.stopped) {
    return;
  }
  s.stopped = true;
  boost::system::error_code ec;
  s.backoffTimer.cancel();
  if (s.acceptor.is_open()) {
    s.acceptor.close(ec);
    ::unlink(s.path.c_str());
  }
  s.closeAll();
  if (s.reserveFd >= 0) {
    ::close(s.reserveFd);
    s.reserveFd = -1;
  }
}

ControlCounters ControlServer::counters() const {
  const auto& k = impl_->server->n;
  ControlCounters c;
  c.accepted = k.accepted.load();
  c.refusedFull = k.refusedFull.load();
  c.evictedIdle = k.evictedIdle.load();
  c.refusedNoFds = k.refusedNoFds.load();
  c.acceptFailures = k.acceptFailures.load();
  c.acceptBackoffs = k.acceptBackoffs.load();
  c.requestTimeouts = k.requestTimeouts.load();
  c.idleTimeouts = k.idleTimeouts.load();
  c.oversized = k.oversized.load();
  c.clients = k.clients.load();
  return c;
}

} // namespace rmha::core
