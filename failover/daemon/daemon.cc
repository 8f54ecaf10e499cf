// rmhad's composition root.
//
//   HA thread (SCHED_FIFO when configured): io_context running
//     PeerLink (UDP heartbeats, TCP channel) --events--> HaService --actions--> steering,
//     LinkMonitor (netlink)                  --events--> HaService             service
//     requests posted by the control thread  --commands-> HaService --answer posted back
//   control thread (normal priority): ControlServer (Unix socket: accepts, reads, parses,
//     answers), the parts of `status` and `sessions` that are not the HA thread's, the file
//     reading of a reload
//   SIP thread (normal priority): the embedded resource manager
#include "failover/daemon/daemon.h"

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <list>
#include <map>
#include <thread>

#include "core/asio_timer.h"
#include "core/control_request.h"
#include "core/control_server.h"
#include "core/fd_limit.h"
#include "core/log.h"
#include "core/sip/sip_service.h"
#include "failover/engine/service.h"
#include "failover/peer/link.h"
#include "failover/daemon/replication_sip.h"
#include "failover/daemon/shape.h"
#include "failover/daemon/status_json.h"
#include "failover/daemon/thread_relay.h"
#include "netlink/link_monitor.h"

namespace rmha::daemon {

namespace asio = boost::asio;
using failover::HaEvent;
using failover::HaState;
using nlohmann::json;

namespace {

/// A node without a [sip] section: the engine alone, nothing to serve.
class IdleService final : public core::ServiceControl, public core::SessionStore {
public:
  void startServing() override {}
  void stopServing() override {}
  void pauseServing(bool) override {}
  void whenDone(std::function<void()> done) override { done(); }
  std::size_t sessionCount() const override { return 0; }
};

failover::EngineSettings engineSettings(const core::ClusterConfig& c) {
  failover::EngineSettings s;
  s.mode = c.haMode == core::HaMode::None            ? failover::EngineSettings::Mode::Standalone
           : c.haMode == core::HaMode::ActiveActive ? failover::EngineSettings::Mode::ActiveActive
                                                    : failover::EngineSettings::Mode::ActiveStandby;
  s.localMember = c.localMember == 0 ? 1 : c.localMember;
  s.priority = c.priority;
  s.preempt = c.preempt;
  s.deadInterval = c.deadInterval;
  s.deadIntervalMax = c.deadIntervalMax;
  s.handoverTimeout = c.handoverTimeout;
  // Listen for a few heartbeats, at least the dead interval, before electing oneself.
  s.electionWait = std::max<core::Duration>(c.deadInterval, 5 * c.heartbeatInterval);
  // A silent peer whose MAC still answers the probe: two more heartbeats' time to be heard
  // (docs/design/decisions.md, "A peer that answers the probe").
  s.peerAnswerWait = 2 * c.heartbeatInterval;
  return s;
}

core::ControlLimits controlLimits(const core::ControlConfig& c) {
  core::ControlLimits l;
  l.maxClients = static_cast<std::size_t>(c.maxClients);
  l.requestTimeout = c.requestTimeout;
  l.idleTimeout = c.idleTimeout;
  return l;
}

netlink::LinkMonitorOptions linkOptions(const core::ClusterConfig& c) {
  netlink::LinkMonitorOptions o;
  o.nics = c.monitorNics;
  o.policy = c.nicPolicy;
  o.downHoldDown = c.nicHoldDown;
  if (!c.gateway.empty()) {
    netlink::GatewayCheckOptions g;
    g.gateway = c.gateway;
    g.interfaceName = c.vipInterface;
    g.interval = c.gatewayCheckInterval;
    g.misses = static_cast<unsigned>(c.gatewayMisses);
    o.gatewayCheck = g;
  }
  return o;
}

failover::PeerLinkOptions peerOptions(const core::ClusterConfig& c) {
  failover::PeerLinkOptions o;
  const auto self = static_cast<std::size_t>(c.localMember - 1);
  const auto other = static_cast<std::size_t>(c.peerMember() - 1);
  o.localMember = c.localMember;
  o.local = *c.member[self];
  o.peer = *c.member[other];
  o.localAlt = c.altMember[self];
  o.peerAlt = c.altMember[other];
  o.key = c.authKey;
  o.restartGrace = c.deadInterval;
  o.reconnectInterval = std::min<core::Duration>(core::Millis{50}, c.deadInterval);
  return o;
}

// Named for `top -H`, `ps -L` and the tests that read each thread's CPU time.
void runAtNormalPriority(const char* name) {
  sched_param normal{};
  pthread_setschedparam(pthread_self(), SCHED_OTHER, &normal);
  pthread_setname_np(pthread_self(), name);
}

// The HA thread is the main thread (its TID is the PID) and keeps the process's name.
void raiseHaThread(const core::ClusterConfig& c) {
  if (c.realtimePriority > 0) {
    sched_param p{};
    p.sched_priority = c.realtimePriority;
    if (const int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &p); rc != 0) {
      RMHA_LOG(Warn, "core", "cannot run the HA thread at SCHED_FIFO {} ({}); heartbeats may be "
               "late under CPU load", c.realtimePriority, std::strerror(rc));
    } else {
      RMHA_LOG(Info, "core", "HA thread runs at SCHED_FIFO priority {}", c.realtimePriority);
    }
  }
#ifndef RMHA_SANITIZED
  // Page faults on the heartbeat path would cost milliseconds under memory pressure.
  if (c.lockMemory && ::mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
    RMHA_LOG(Warn, "core", "cannot lock memory ({}); continuing unlocked", std::strerror(errno));
  }
#endif
}

} // namespace

struct Daemon::Impl {
  Impl(DaemonConfig c, TestHooks h)
      : config(std::move(c)), hooks(h), timers(io.get_executor()),
        signals(io, SIGINT, SIGTERM, SIGHUP) {}
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  struct Waiter {
    std::string role;
    core::ControlReply reply;
    std::unique_ptr<asio::steady_timer> timer;
  };

  DaemonConfig config;
  TestHooks hooks;
  // The control socket's thread and loop, at normal priority: a flood of clients, a slow one or
  // a 64 KiB request to parse costs the HA thread nothing; it sees only the requests that need
  // it, one per client at a time, posted to it. Declared before `io` so that it outlives it:
  // a reply dropped with the HA loop's handlers is released here (see relayed()).
  asio::io_context controlIo;
  std::thread controlThread;
  asio::io_context io;
  ThreadRelay relay{controlIo, io};
  core::RealTimeSource time;
  core::AsioTimerFactory timers;
  asio::signal_set signals;
  IdleService idle;
  // The resource manager runs on its own thread and io_context, at normal priority.
  asio::io_context sipIo;
  core::AsioTimerFactory sipTimers{sipIo.get_executor()};
  std::unique_ptr<core::sip::SipService> sip;
  std::thread sipThread;
  core::ServiceControl* service = &idle;
  core::SessionStore* sessions = &idle;
  std::unique_ptr<core::TrafficSteering> steering;
  std::unique_ptr<netlink::NetlinkLinkMonitor> links;
  std::unique_ptr<failover::PeerLink> peer;
  std::unique_ptr<failover::HaService> ha;
  std::unique_ptr<failover::SipReplication> replication;  // sessions to the peer (HA + SIP)
  std::unique_ptr<core::ControlServer> control;
  std::list<Waiter> waiters;
  // `status` requests waiting for the SIP thread's part (control thread).
  struct StatusWait {
    json j;
    core::ControlReply reply;
    asio::steady_timer timer;
  };
  static constexpr std::chrono::milliseconds kReplicationStatusBound{500};
  std::map<std::uint64_t, StatusWait> statusWaits;
  std::uint64_t lastStatusId = 0;
  bool stopping = false;

  void build() {
    const auto& c = config.cluster;
    const auto shape = shapeOf(c);
    RMHA_LOG(Info, "core", "deployment shape: {}", toString(shape));
    steering = buildShape(shape, c, io, timers).steering;
    links = std::make_unique<netlink::NetlinkLinkMonitor>(io, linkOptions(c), timers);
    failover::HaServiceOptions ho;
    ho.engine = engineSettings(c);
    ho.heartbeatInterval = c.heartbeatInterval;
    ho.modeName = std::string(toString(c.haMode));
    if (c.ha()) {
      peer = std::make_unique<failover::PeerLink>(io, peerOptions(c), time);
    }
    if (config.sip) {
      sip = std::make_unique<core::sip::SipService>(sipIo, *config.sip, time, sipTimers);
      sip->setCallerExecutor(io.get_executor());
      service = sip.get();
      sessions = sip.get();
    }
    ha = std::make_unique<failover::HaService>(ho, time, timers, peer.get(), *steering, *links,
                                               *service, *sessions);
    if (peer && sip) {
      failover::ReplicationOptions ro;
      ro.localMember = c.localMember;
      ro.corruptPayload = hooks.corruptReplication;
      replication = std::make_unique<failover::SipReplication>(
          io, sipIo, *sip, *peer, ro, time, sipTimers,
          failover::SipReplicationHooks{hooks.noReplication, hooks.syntheticSessions});
      ha->setHandoverGate(replication.get());
    }
    ha->setTransitionObserver([this](const failover::TransitionRecord& r) {
      if (replication) {
        replication->onState(r.to);
      }
      wakeWaiters();
    });
    control = std::make_unique<core::ControlServer>(
        controlIo, config.control.socket,
        [this](const json& req, core::ControlReply reply) { handle(req, std::move(reply)); },
        controlLimits(config.control));
  }

  bool start() {
    std::string what;
    if (sip) {
      if (auto r = sip->start(); !r) {
        RMHA_LOG(Error, "sip", "cannot start the resource manager: {}", r.error());
        return false;
      }
      sipThread = std::thread([this] {
        // The HA thread's real-time priority is not for the resource manager: a SIP flood
        // must never delay a heartbeat.
        runAtNormalPriority("rmha-sip");
        auto guard = asio::make_work_guard(sipIo);
        sipIo.run();
      });
    }
    if (auto r = links->start(*ha); !r) {
      RMHA_LOG(Error, "core", "cannot start the NIC watchdog: {}", r.error());
      return false;
    }
    if (peer) {
      if (auto r = peer->start(*ha); !r) {
        RMHA_LOG(Error, "peer", "cannot open the peer link: {}", r.error());
        return false;
      }
    }
    if (auto r = control->start(); !r) {
      RMHA_LOG(Error, "control", "cannot open the control socket: {}", r.error());
      return false;
    }
    controlThread = std::thread([this] {
      runAtNormalPriority("rmha-control"); // started after the HA thread was raised
      auto guard = asio::make_work_guard(controlIo);
      controlIo.run();
    });
    signals.async_wait([this](const boost::system::error_code& ec, int sig) { onSignal(ec, sig); });
    ha->start();
    return true;
  }

  void onSignal(const boost::system::error_code& ec, int sig) {
    if (ec) {
      return;
    }
    if (sig == SIGHUP) {
      // The files are read on the control thread, as for `rmhactl reload`.
      asio::post(controlIo, [this] {
        reload([](const json& r) {
          if (r.value("ok", false)) {
            RMHA_LOG(Info, "core", "SIGHUP reload: {}", r.dump());
          } else {
            RMHA_LOG(Warn, "core", "SIGHUP reload: {}", r.dump());
          }
        });
      });
      signals.async_wait([this](const boost::system::error_code& e, int s) { onSignal(e, s); });
      return;
    }
    RMHA_LOG(Info, "core", "signal {}: shutting down", sig);
    stop();
  }

  void joinSipThread() {
    if (sipThread.joinable()) {
      sipIo.stop();
      sipThread.join();
    }
  }

  // After the HA loop ended: answers it posted before are delivered first, then the control
  // thread closes its clients and ends its loop.
  void joinControlThread() {
    if (controlThread.joinable()) {
      asio::post(controlIo, [this] {
        control->stop();
        controlIo.stop();
      });
      controlThread.join();
    }
  }

  void stop() {
    if (stopping) {
      return;
    }
    stopping = true;
    // Releases the traffic (once the SIP thread closed its connections) and tells the peer,
    // in that order; the rest stops after.
    ha->shutdown([this] { stopAfterRelease(); });
  }

  void stopAfterRelease() {
    if (peer) {
      peer->stop();
    }
    links->stop();
    if (sip) {
      // Posted, not waited for: the SIP thread stops its transports, then its loop.
      asio::post(sipIo, [this] {
        sip->stop();
        sipIo.stop();
      });
    }
    signals.cancel();
    for (auto& w : waiters) {
      w.timer->cancel();
    }
    io.stop();
  }

  // --- control requests --------------------------------------------------------------------
  //
  // handle() runs on the control thread. What needs the HA thread's objects is posted to it
  // (ThreadRelay) and its answer posted back; the rest (validation, `sessions`, the SIP, control and log parts of
  // `status`, reading the files of a reload) stays on the control thread.

  void handle(const json& req, core::ControlReply reply) {
    core::ControlRequest r;
    if (auto problem = core::parseControlRequest(req, r); !problem.empty()) {
      reply({{"ok", false}, {"error", problem}});
      return;
    }
    switch (r.command) {
    case core::ControlCommand::Status:
      relay.onHa([this, reply = std::move(reply)](json j) mutable {
        addReplicationStatus(std::move(j), std::move(reply));
      }, [this](const core::ControlReply& done) { done(haStatusJson()); });
      return;
    case core::ControlCommand::Failover:
      relay.onHa(std::move(reply), [this](core::ControlReply done) {
        command(HaEvent::OperatorFailover, std::move(done));
      });
      return;
    case core::ControlCommand::Takeover:
      relay.onHa(std::move(reply), [this](core::ControlReply done) {
        command(HaEvent::OperatorTakeover, std::move(done));
      });
      return;
    case core::ControlCommand::Maintenance:
      relay.onHa(std::move(reply), [this, on = r.on](core::ControlReply done) {
        command(on ? HaEvent::MaintenanceOn : HaEvent::MaintenanceOff, std::move(done));
      });
      return;
    case core::ControlCommand::Sessions:
      // The session table is the SIP thread's, read under its lock: never the HA thread's work.
      if (sip) {
        json j = sip->sessionsJson();
        j["ok"] = true;
        reply(j);
      } else {
        reply({{"ok", true}, {"sessions", json::array()}, {"count", 0}});
      }
      return;
    case core::ControlCommand::Wait:
      relay.onHa(std::move(reply), [this, r](core::ControlReply done) { wait(r, std::move(done)); });
      return;
    case core::ControlCommand::Reload: reload(std::move(reply)); return;
    }
  }

  /// The HA thread's part of `status`: the engine, the peer link.
  json haStatusJson() {
    json j = ha->status();
    j["ok"] = true;
    j["pid"] = ::getpid();
    if (peer) {
      j["counters"]["peer"] = peerCountersJson(peer->counters());
    }
    return j;
  }

  /// Control thread: the replicator's part of `status`, asked of its owner, the SIP thread,
  /// then the rest. A SIP thread that does not answer within kReplicationStatusBound is
  /// reported as such: status is how an operator finds a stuck thread, so it never hangs on one.
  void addReplicationStatus(json j, core::ControlReply reply) {
    if (!replication || !j.value("ok", false)) {
      finishStatus(std::move(j), reply);
      return;
    }
    const auto id = ++lastStatusId;
    auto& w = statusWaits.emplace(id, StatusWait{std::move(j), std::move(reply),
                                                 asio::steady_timer(controlIo)})
                  .first->second;
    w.timer.expires_after(kReplicationStatusBound);
    w.timer.async_wait([this, id](const boost::system::error_code& ec) {
      if (!ec) {
        answerStatus(id, {{"state", "unknown"},
                          {"error", fmt::format("the SIP thread did not answer within {} ms",
                                                kReplicationStatusBound.count())}});
      }
    });
    replication->status(relay.relayed([this, id](json r) { answerStatus(id, std::move(r)); }));
  }

  void answerStatus(std::uint64_t id, json replicationStatus) {
    auto it = statusWaits.find(id);
    if (it == statusWaits.end()) {
      return; // answered already (the bound ran out, or the SIP thread's answer came first)
    }
    it->second.timer.cancel();
    json j = std::move(it->second.j);
    auto reply = std::move(it->second.reply);
    statusWaits.erase(it);
    j["replication"] = std::move(replicationStatus);
    finishStatus(std::move(j), reply);
  }

  void finishStatus(json j, const core::ControlReply& reply) {
    addControlThreadStatus(j);
    reply(std::move(j));
  }

  /// The rest of `status`, on the control thread: the SIP service (atomic counters), the
  /// control socket and the log.
  void addControlThreadStatus(json& j) {
    if (!j.value("ok", false)) {
      return; // the HA thread's part failed: its error is the answer
    }
    if (sip) {
      j["sip"] = sip->statusJson();
    }
    j["counters"]["control"] = controlCountersJson(control->counters());
    j["counters"]["log"] = logCountersJson();
  }

  void command(HaEvent e, core::ControlReply reply) {
    const auto requested = core::toEpochMicros(time.systemTime());
    ha->command(e, [this, reply = std::move(reply), requested](bool ok, const std::string& msg) {
      json r = {{"ok", ok}, {"role", std::string(toString(ha->state()))},
                {"requested_us", requested},
                {"completed_us", core::toEpochMicros(time.systemTime())}};
      r[ok ? "message" : "error"] = msg;
      reply(r);
    });
  }

  // `r.timeout` is at most core::kMaxWaitTimeout (parseControlRequest refuses longer ones), so
  // the timer's deadline cannot overflow.
  void wait(const core::ControlRequest& r, core::ControlReply reply) {
    if (toString(ha->state()) == r.role) {
      reply({{"ok", true}, {"role", r.role}});
      return;
    }
    auto& w = waiters.emplace_back(Waiter{r.role, std::move(reply),
                                          std::make_unique<asio::steady_timer>(io)});
    w.timer->expires_after(r.timeout);
    auto it = std::prev(waiters.end());
    w.timer->async_wait([this, it](const boost::system::error_code& ec) {
      if (ec) {
        return;
      }
      it->reply({{"ok", false},
                 {"role", std::string(toString(ha->state()))},
                 {"error", fmt::format("still {} after the timeout, not {}", ha->state(),
                                       it->role)}});
      waiters.erase(it);
    });
  }

  void wakeWaiters() {
    const std::string now(toString(ha->state()));
    for (auto it = waiters.begin(); it != waiters.end();) {
      if (it->role == now) {
        it->timer->cancel();
        it->reply({{"ok", true}, {"role", now}});
        it = waiters.erase(it);
      } else {
        ++it;
      }
    }
  }

  // On the control thread: the files are read here (a slow disk never holds the HA thread),
  // and the comparison with the running configuration is made on the HA thread.
  void reload(core::ControlReply reply) {
    try {
      auto fresh = loadDaemonConfig(config.file);
      relay.onHa(std::move(reply), [this, fresh = std::move(fresh)](const core::ControlReply& done) {
        applyReload(fresh, done);
      });
    } catch (const core::ConfigError& e) {
      reply({{"ok", false}, {"error", std::string("the new configuration is refused; nothing "
                                                  "changed:\n") + e.what()}});
    }
  }

  void applyReload(const DaemonConfig& fresh, const core::ControlReply& reply) {
    json r = reloadOutcome(config, fresh);
    if (fresh.log.level != config.log.level) {
      core::Log::setLevel(fresh.log.level); // the one change applied at run time
      config.log.level = fresh.log.level;
    }
    reply(r);
  }
};

Daemon::Daemon(DaemonConfig config, TestHooks hooks)
    : impl_(std::make_unique<Impl>(std::move(config), hooks)) {}

std::string addTestHook(const std::string& value, TestHooks& hooks) {
  const auto eq = value.find('=');
  const auto name = value.substr(0, eq);
  const auto arg = eq == std::string::npos ? std::string() : value.substr(eq + 1);
  std::uint64_t n = 0;
  const bool numeric = !arg.empty() && arg.size() <= 9 &&
                       arg.find_first_not_of("0123456789") == std::string::npos;
  if (numeric) {
    n = std::stoull(arg);
  }
  if (name == "no-replication" && eq == std::string::npos) {
    hooks.noReplication = true;
  } else if (name == "synthetic-sessions" && numeric && n > 0) {
    hooks.syntheticSessions = n;
  } else if (name == "corrupt-replication" && numeric && n > 0) {
    hooks.corruptReplication = n;
  } else {
    return "unknown test hook '" + value + "' (known: no-replication, synthetic-sessions=N, "
           "corrupt-replication=N; N from 1 to 999999999)";
  }
  return {};
}
Daemon::~Daemon() = default;

int Daemon::run(int readyFd) {
  auto& d = *impl_;
  core::Log::setLevel(d.config.log.level);
  core::Log::setInstance(d.config.log.instance);
  RMHA_LOG(Info, "core", "rmhad starting: {}", describe(d.config));
  if (d.hooks.noReplication || d.hooks.syntheticSessions || d.hooks.corruptReplication) {
    RMHA_LOG(Warn, "core", "TEST HOOKS ON (never in production): no-replication {}, "
             "synthetic-sessions {}, corrupt-replication {}", d.hooks.noReplication,
             d.hooks.syntheticSessions, d.hooks.corruptReplication);
  }
  core::raiseOpenFileLimit();
  d.build();
  raiseHaThread(d.config.cluster);
  if (!d.start()) {
    // The resource manager's thread may be running already: a std::thread destroyed while
    // joinable ends the process with std::terminate (a core dump instead of exit 1).
    if (d.sip) {
      d.sip->stop();
    }
    d.joinSipThread();
    d.joinControlThread();
    return 1;
  }
  if (readyFd >= 0) {
    const char msg[] = "ready\n";
    [[maybe_unused]] const auto n = ::write(readyFd, msg, sizeof msg - 1);
    ::close(readyFd);
  }
  d.io.run();
  d.joinSipThread();
  d.joinControlThread();
  RMHA_LOG(Info, "core", "rmhad stopped");
  return 0;
}

} // namespace rmha::daemon
