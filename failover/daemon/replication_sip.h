#pragma once
// Session replication wired to the embedded SIP resource manager: part of the composition
// root, the only place that knows both the replication room and core/sip.
//
//   SIP thread: SipService --SessionObserver--> SessionChangeQueue --> Replicator --> channel
//   HA thread:  Replicator <--> PeerLink channel;  Replicator --ReplicaStore--> SipService
//               HaService --HandoverGate--> (SIP thread drains) --> Replicator::whenSynced
#include <cstdint>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/defer.hpp>
#include <boost/asio/post.hpp>

#include "core/log.h"
#include "core/sip/sip_service.h"
#include "failover/engine/service.h"
#include "failover/peer/link.h"
#include "failover/replication/replicator.h"

namespace rmha::failover {

/// The peer's sessions in this node's SIP table. The replicator (HA thread) has its own
/// mirror and acknowledges from it; the SIP table follows in batches, so that a standby's
/// SIP thread is woken at most every kFlushEvery and not once per record: at kFlushOps
/// changes, after kFlushEvery, and at once (waiting for the SIP thread) when this node is
/// about to own the traffic.
class SipReplicaStore final : public ReplicaStore {
public:
  static constexpr core::Duration kFlushEvery = core::Millis{10};
  static constexpr std::size_t kFlushOps = 1000;

  SipReplicaStore(core::sip::SipService& sip, core::TimerFactory& timers) : sip_(sip) {
    timer_ = timers.createTimer([this] { flush(); });
  }
  void insertReplica(core::Session s) override {
    ops_.push_back({false, std::move(s)});
    queued();
  }
  void removeReplica(std::string callId) override {
    core::sip::SipService::ReplicaOp op;
    op.removed = true;
    op.session.callId = std::move(callId);
    ops_.push_back(std::move(op));
    queued();
  }
  /// HA thread: hands what is queued to the SIP thread (posted, not waited for).
  void flush() {
    timer_->disable();
    if (!ops_.empty()) {
      sip_.applyReplicas(std::move(ops_));
      ops_.clear();
    }
  }

private:
  void queued() {
    if (ops_.size() >= kFlushOps) {
      flush();
    } else if (!timer_->enabled()) {
      timer_->enable(kFlushEvery);
    }
  }

  core::sip::SipService& sip_;
  core::TimerPtr timer_;
  std::vector<core::sip::SipService::ReplicaOp> ops_;
};

/// Hooks for tests and benchmarks only, given by the composition root (rmhad --test-hook).
struct SipReplicationHooks {
  bool off = false;                    ///< the benchmark's baseline: a pair that does not replicate
  std::uint64_t syntheticSessions = 0; ///< made-up sessions added when first active (bulk copies)
};

class SipReplication final : public HandoverGate {
public:
  /// Attaches itself to `sip` (session observer) and `link` (channel sink).
  SipReplication(boost::asio::io_context& haIo, boost::asio::io_context& sipIo,
                 core::sip::SipService& sip, PeerLink& link, ReplicationOptions options,
                 const core::TimeSource& time, core::TimerFactory& timers,
                 SipReplicationHooks hooks = {})
      : haIo_(haIo), sipIo_(sipIo), sip_(sip), link_(link), store_(sip, timers),
        replicator_(options, link, store_, time, timers),
        changes_(time, deferOn(sipIo), postTo(haIo), replicator_), hooks_(hooks) {
    if (hooks_.off) {
      // The replicator stays detached and idle.
      RMHA_LOG(Warn, "replication", "test hook: session replication is off");
      return;
    }
    link_.setChannelSink(&replicator_);
    sip_.setSessionObserver(&changes_);
  }
  ~SipReplication() override {
    sip_.setSessionObserver(nullptr);
    link_.setChannelSink(nullptr);
  }
  SipReplication(const SipReplication&) = delete;
  SipReplication& operator=(const SipReplication&) = delete;

  /// The HA state changed (transition observer): the node that owns the traffic streams.
  void onState(HaState s) {
    // Collecting starts before the node serves (the transition is observed before its
    // actions run), so no change of the new active is missed.
    if (ownsTraffic(s) && !owning_) {
      // Every call the peer told of is in the SIP table before serving: the SIP thread
      // applies them before the startServing posted after them.
      store_.flush();
    }
    owning_ = ownsTraffic(s);
    // The replicator is the source before a change is collected for it, and no longer
    // collects before it stops being one (the SIP thread may stream at any moment).
    if (owning_) {
      replicator_.setSource(true);
      changes_.setCollecting(true);
    } else {
      changes_.setCollecting(false);
      replicator_.setSource(false);
    }
    if (owning_) {
      addSyntheticSessions();
    }
  }
  Replicator& replicator() { return replicator_; }

  /// Every change the SIP thread made before new calls were refused is streamed once a
  /// round trip through the SIP thread completed: only then is "synced" meaningful.
  void prepareHandover(core::Duration timeout,
                       std::function<void(bool, const std::string&)> done) override {
    boost::asio::post(sipIo_, [this, timeout, done = std::move(done)]() mutable {
      changes_.drain(true);
      boost::asio::post(haIo_, [this, timeout, done = std::move(done)]() mutable {
        replicator_.whenSynced(timeout, std::move(done));
      });
    });
  }

private:
  static SessionChangeQueue::Post postTo(boost::asio::io_context& io) {
    return [&io](std::function<void()> f) { boost::asio::post(io, std::move(f)); };
  }
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
  SipReplicaStore store_;
  Replicator replicator_;
  SessionChangeQueue changes_;
  SipReplicationHooks hooks_;
  bool syntheticAdded_ = false;
  bool owning_ = false;
};

} // namespace rmha::failover
