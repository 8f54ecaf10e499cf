#pragma once
// The embedded SIP resource manager as the daemon sees it: bound listeners, the proxy, the
// media-server pools and the session table, on one io_context thread (the SIP thread).
//
//   rmhad (HA thread) --startServing/stopServing, whenDone, sessionCount, statusJson--> SipService
//
// Calls from another thread never wait for the SIP thread: the work is posted to it and done
// there in call order; whenDone tells the caller (on its own executor) when it is.
//   SipService --UDP/TCP transports--> Proxy --> ResourceDirectory, SessionTable --> observer
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <system_error>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "core/ports.h"
#include "core/result.h"
#include "core/sip/proxy.h"
#include "core/sip/resource_group.h"
#include "core/sip/session_table.h"
#include "core/sip/sip_config.h"
#include "core/sip/transport.h"
#include "core/time_source.h"
#include "core/timer.h"

namespace rmha::core::sip {

class UdpTransport;
class TcpTransport;

class SipService final : public core::ServiceControl,
                         public core::SessionStore,
                         private MessageSender,
                         private TransportSink {
public:
  /// `timers` must call back on `io` (an AsioTimerFactory on io's executor in the daemon).
  SipService(boost::asio::io_context& io, const SipConfig& cfg, core::TimeSource& time,
             core::TimerFactory& timers);
  ~SipService() override;

  /// Binds every listen address and starts probes. Call before io runs, or on the SIP
  /// thread. The error names the address that could not be bound.
  [[nodiscard]] core::Result<> start();
  /// Closes listeners and drops transactions (sessions are kept): at once on the SIP thread
  /// or once io stopped, otherwise posted to the SIP thread.
  void stop();

  /// Where whenDone's callbacks run (the HA thread's executor). Unset: on the SIP thread.
  void setCallerExecutor(boost::asio::any_io_executor caller) { caller_ = std::move(caller); }

  /// Thread-safe: new calls accepted, OPTIONS to us answered 200.
  void startServing() override;
  /// Thread-safe: new calls refused with 503, OPTIONS answered 503; calls in progress kept.
  /// Closes every TCP connection (listeners stay), so that peers see the close while this
  /// node still owns the address (the HA thread releases it after whenDone) and open their
  /// next connection to the new owner instead of meeting a reset with a request in flight.
  void stopServing() override;
  /// Thread-safe: not serving; new requests over UDP absorbed (Proxy::setAbsorbing); with
  /// `closeConnections`, TCP connections closed as by stopServing.
  void pauseServing(bool closeConnections) override;
  /// Thread-safe: `done` runs on the caller executor once everything posted before ran.
  void whenDone(std::function<void()> done) override;
  /// Thread-safe.
  std::size_t sessionCount() const override;
  bool serving() const;

  /// Thread-safe: serving, counters, per-server usage and health.
  nlohmann::json statusJson() const;
  /// Thread-safe: the sessions (at most 10 000 listed) and their count.
  nlohmann::json sessionsJson() const;

  /// Thread-safe: where session changes are reported (nullptr: nowhere). Callbacks run on
  /// the SIP thread.
  void setSessionObserver(SessionObserver* observer);
  /// One change of the peer's table: an upsert (a session replicated from the peer, so that
  /// its in-dialog requests are routed here after a takeover), or a removal (only callId).
  struct ReplicaOp {
    bool removed = false;
    Session session;
  };
  /// Thread-safe: applies the peer's changes on the SIP thread, in order, in one go. Posted
  /// before startServing, they are applied before the first request is served.
  void applyReplicas(std::vector<ReplicaOp> ops);

  /// The addresses actually bound (ports resolved when 0 was configured).
  const std::vector<SipAddress>& boundAddresses() const { return cfg_.listen; }

private:
  void send(const Peer& to, std::string_view data) override;
  void onMessage(std::span<char> data, const Peer& from) override;
  void onTransportError(const Peer& to) override;
  core::Result<> bindAll();
  void stopHere();
  void closeTcpConnections();
  /// Runs `f` on the SIP thread: here when this is it or when its io_context stopped,
  /// otherwise posted (never waited for).
  void onSipThread(std::function<void()> f);

  boost::asio::io_context& io_;
  SipConfig cfg_;
  core::TimeSource& time_;
  core::TimerFactory& timers_;
  ProxyCounters counters_;
  ResourceDirectory resources_;
  SessionTable sessions_;
  std::vector<std::unique_ptr<UdpTransport>> udp_;
  std::unique_ptr<TcpTransport> tcp_;
  std::unique_ptr<Proxy> proxy_;
  std::atomic<bool> serving_{false};
  std::atomic<bool> started_{false};
  std::atomic<std::uint64_t> dropped_{0};
  std::mutex stopMutex_;
  boost::asio::any_io_executor caller_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // posted handlers check it
};

} // namespace rmha::core::sip
