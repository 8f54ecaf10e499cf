#pragma once
// Session replication wired to the embedded SIP resource manager: part of the composition
// root, the only place that knows both the replication room and core/sip.
//
//   SIP thread: SipService --SessionObserver--> SessionChangeQueue --> Replicator --> channel
//               Replicator --ReplicaStore--> SipService's table (at once, same thread)
//   HA thread:  PeerLink channel events --posted--> Replicator (SIP thread)
//               HaService: state, HandoverGate, status --posted--> (SIP thread)
//                          <--posted answers--
// The replicator is the SIP thread's alone: the two threads share no lock but the channel's
// write side, and the HA thread never waits for replication work.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/defer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "core/log.h"
#include "core/sip/sip_service.h"
#include "failover/engine/service.h"
#include "failover/peer/link.h"
#include "failover/replication/replicator.h"

namespace rmha::failover {

/// The peer's sessions, applied to this node's SIP table at once: the replicator runs on the
/// SIP thread, so the table always holds everything applied, and a node that starts serving
/// (posted behind the records it had received) serves every call the peer told of.
class SipReplicaStore final : public ReplicaStore {
public:
  explicit SipReplicaStore(core::sip::SipService& sip) : sip_(sip) {}
  void insertReplica(core::Session s) override {
    core::sip::SipService::ReplicaOp op;
    op.session = std::move(s);
    apply(std::move(op));
  }
  void removeReplica(std::string callId) override {
    core::sip::SipService::ReplicaOp op;
    op.removed = true;
    op.session.callId = std::move(callId);
    apply(std::move(op));
  }

private:
  void apply(core::sip::SipService::ReplicaOp op) {
    std::vector<core::sip::SipService::ReplicaOp> ops;
    ops.push_back(std::move(op));
    sip_.applyReplicas(std::move(ops)); // on the SIP thread: applied before it returns
  }
  core::sip::SipService& sip_;
};

/// The channel as the SIP thread's replicator sees it. A payload is written only on the
/// channel the replicator was told of: after the HA thread saw the channel close (or a new
/// one open) and before that news reached the SIP thread, a payload meant for the old
/// channel is refused (kept in the backlog, as on any closed channel) rather than sent
/// ahead of the new channel's Resume.
class PostedChannel final : public ChannelTransport, public ChannelSink {
public:
  PostedChannel(boost::asio::io_context& sipIo, PeerLink& link) : sipIo_(sipIo), link_(link) {}
  void setSink(ChannelSink* sink) { sink_ = sink; } ///< the replicator (SIP thread)

  // ChannelTransport (SIP thread)
  bool channelReady() const override { return current() && link_.channelReady(); }
  bool sendPayload(std::span<const std::uint8_t> payload) override {
    return current() && link_.sendPayload(payload);
  }
  std::size_t pendingBytes() const override { return link_.pendingBytes(); }

  // ChannelSink (HA thread): each event moves to the SIP thread, in order.
  void onChannelOpen() override {
    post([this](std::uint64_t g) {
      seen_ = g;
      sink_->onChannelOpen();
    });
  }
  void onChannelClosed() override {
    post([this](std::uint64_t g) {
      seen_ = g;
      sink_->onChannelClosed();
    });
  }
  void onChannelPayload(std::span<const std::uint8_t> payload) override {
    std::vector<std::uint8_t> copy(payload.begin(), payload.end());
    boost::asio::post(sipIo_, [this, copy = std::move(copy)] {
      if (sink_) {
        sink_->onChannelPayload(copy);
      }
    });
  }

private:
  bool current() const { return seen_ == generation_.load(std::memory_order_acquire); }
  template <typename F>
  void post(F f) {
    const auto g = generation_.fetch_add(1, std::memory_order_acq_rel) + 1;
    boost::asio::post(sipIo_, [this, f = std::move(f), g] {
      if (sink_) {
        f(g);
      }
    });
  }

  boost::asio::io_context& sipIo_;
  PeerLink& link_;
  ChannelSink* sink_ = nullptr;
  std::atomic<std::uint64_t> generation_{0}; ///< channel events seen by the HA thread
  std::uint64_t seen_ = 0;                   ///< those the SIP thread has applied
};

/// Hooks for tests and benchmarks only, given by the composition root (rmhad --test-hook).
struct SipReplicationHooks {
  bool off = false;                    ///< the benchmark's baseline: a pair that does not replicate
  std::uint64_t syntheticSessions = 0; ///< made-up sessions added when first active (bulk copies)
};

class SipReplication final : public HandoverGate {
public:
  /// Attaches itself to `sip` (session observer) and `link` (channel sink). `sipTimers` run
  /// on the SIP thread, the replicator's owner.
  SipReplication(boost::asio::io_context& haIo, boost::asio::io_context& sipIo,
                 core::sip::SipService& sip, PeerLink& link, ReplicationOptions options,
                 const core::TimeSource& time, core::TimerFactory& sipTimers,
                 SipReplicationHooks hooks = {})
      : haIo_(haIo), sipIo_(sipIo), sip_(sip), link_(link), channel_(sipIo, link), store_(sip),
        replicator_(options, channel_, store_, time, sipTimers),
        changes_(time, deferOn(sipIo), replicator_), hooks_(hooks) {
    if (hooks_.off) {
      // The replicator stays detached and idle.
      RMHA_LOG(Warn, "replication", "test hook: session replication is off");
      return;
    }
    channel_.setSink(&replicator_);
    link_.setChannelSink(&channel_);
    sip_.setSessionObserver(&changes_);
  }
  ~SipReplication() override {
    sip_.setSessionObserver(nullptr);
    link_.setChannelSink(nullptr);
    channel_.setSink(nullptr);
  }
  SipReplication(const SipReplication&) = delete;
  SipReplication& operator=(const SipReplication&) = delete;

  /// HA thread: the HA state changed (transition observer, before the transition's actions
  /// run): the node that owns the traffic streams. Posted to the SIP thread, where it runs
  /// before the startServing or stopServing that the actions post behind it.
  void onState(HaState s) {
    const bool owning = ownsTraffic(s);
    if (owning == owning_) {
      return;
    }
    owning_ = owning;
    boost::asio::post(sipIo_, [this, owning] {
      // The replicator is the source before a change is collected for it, and no longer
      // collects before it stops being one.
      if (owning) {
        replicator_.setSource(true);
        changes_.setCollecting(true);
        addSyntheticSessions();
      } else {
        changes_.setCollecting(false);
        replicator_.setSource(false);
      }
    });
  }

  /// HA thread: every change the SIP thread made before new calls were refused is streamed
  /// (the drain, on the SIP thread behind that work), then the replicator waits for the
  /// peer's acknowledgement; the answer is posted back to the HA thread. The engine bounds
  /// the handover itself, so a SIP thread that never answers cannot hold it.
  void prepareHandover(core::Duration timeout,
                       std::function<void(bool, const std::string&)> done) override {
    boost::asio::post(sipIo_, [this, timeout, done = std::move(done)]() mutable {
      changes_.drain();
      replicator_.whenSynced(timeout, [this, done = std::move(done)](bool ok,
                                                                     const std::string& why) {
        boost::asio::post(haIo_, [done, ok, why] { done(ok, why); });
      });
    });
  }

  /// Any thread: calls `done` with the replicator's status, on the SIP thread.
  void status(std::function<void(nlohmann::json)> done) {
    boost::asio::post(sipIo_, [this, done = std::move(done)] { done(replicator_.status()); });
  }

private:
  // From the thread running `io` itself: behind the handlers already queued, without
  // signalling the reactor (a continuation of the current handler).
  static SessionChangeQueue::Post deferOn(boost::asio::io_context& io) {
    return [&io](std::function<void()> f) { boost::asio::defer(io, std::move(f)); };
  }

  // The benchmark measures a bulk copy of many sessions without placing that many calls: N
  // made-up sessions, added once when this node first becomes active, flow through the SIP
  // table and its observer like real ones.
  void addSyntheticSessions() {
    if (syntheticAdded_ || hooks_.syntheticSessions == 0) {
      return;
    }
    syntheticAdded_ = true;
    const auto count = hooks_.syntheticSessions;
    RMHA_LOG(Warn, "replication", "test hook: adding {} synthetic sessions", count);
    std::vector<core::sip::SipService::ReplicaOp> ops(count);
    for (std::uint64_t i = 0; i < count; ++i) {
      auto& s = ops[i].session;
      s.callId = fmt::format("synthetic-{}@bench.invalid", i);
      s.fromTag = fmt::format("f{}", i);
      s.toTag = fmt::format("t{}", i);
      s.server = "udp:192.0.2.21:5070";
      s.routeSet = "<sip:192.0.2.100;lr>";
      s.cseq = 1;
      s.state = core::SessionState::Confirmed;
    }
    sip_.applyReplicas(std::move(ops));
  }

  boost::asio::io_context& haIo_;
  boost::asio::io_context& sipIo_;
  core::sip::SipService& sip_;
  PeerLink& link_;
  PostedChannel channel_;
  SipReplicaStore store_;
  Replicator replicator_;
  SessionChangeQueue changes_;
  SipReplicationHooks hooks_;
  bool syntheticAdded_ = false; // SIP thread
  bool owning_ = false;         // HA thread
};

} // namespace rmha::failover
