#pragma once
// Session replication between the pair: the node that owns the traffic (the source) streams
// every session change with a sequence number on the peer channel; the other node (the sink)
// applies each change in order and acknowledges cumulatively. A bounded backlog of
// unacknowledged records covers a short disconnection; past it, or when a node (re)joins,
// the source sends a bulk copy of its table, then the stream goes on.
//
// Threads: one owner. The replicator belongs to one thread, the SIP thread in the daemon,
// where the session table it reads and writes lives: its timers, the session changes, the
// channel's events (posted to it by the thread that reads the channel), the handover's
// waiter and every call into it run there; a call from another thread fails an assertion in
// debug builds. It shares no lock with the HA thread: the HA thread only posts to it (its
// state, the handover's wait, status) and gets its answers posted back, so neither a
// replication burst nor a bulk copy can delay a heartbeat. Only the channel's write side is
// shared (a short lock around a non-blocking write, see failover/peer/link.h).
//
//   source (SIP thread)                               sink (SIP thread)
//   SessionTable -observer-> SessionChangeQueue
//     -> Replicator --Upsert/Remove #n--> (channel) --> Replicator -> ReplicaStore (table)
//        Replicator <--Ack n (cumulative)--
//        channel opens: <--Resume (stream, applied)-- ; then backlog from applied+1,
//        or BulkBegin S, BulkItem..., BulkEnd S, then #S+1...
#include <cassert>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/owner_thread.h"
#include "core/session.h"
#include "core/time_source.h"
#include "core/timer.h"
#include "failover/peer/link.h"
#include "failover/replication/codec.h"

namespace rmha::failover {

/// Where the sink applies the peer's sessions (the SIP service in the daemon, a fake in tests).
class ReplicaStore {
public:
  virtual ~ReplicaStore() = default;
  /// Inserts or replaces a session of the peer. Must not block.
  virtual void insertReplica(core::Session s) = 0;
  /// Removes a session. Must not block.
  virtual void removeReplica(std::string callId) = 0;
};

struct ReplicationOptions {
  int localMember = 1;
  std::size_t backlogLimit = 65536;       ///< unacknowledged records kept for a reconnection
  std::size_t maxPayloadBytes = 60000;    ///< a payload is sent once it reaches this size
  std::size_t bulkItemsPerRound = 2000;   ///< sessions encoded per bulk round
  std::size_t writeHighWater = 4u << 20;  ///< bulk waits while more than this is queued
  core::Duration bulkRetry = core::Millis{1};
  /// Sink: acknowledgements wait this long to cover more records (one acknowledgement, one
  /// packet and one wake-up of the source for all of them); 0 acknowledges each payload at
  /// once. A bulk copy's end, and a SyncRequest (the source has someone waiting: a
  /// handover), are acknowledged at once whatever this says.
  core::Duration ackDelay = core::Millis{50};
  std::uint64_t corruptPayload = 0;       ///< tests only: corrupt the Nth payload sent (0: none)
};

struct ReplicationCounters {
  std::uint64_t recordsSent = 0;
  std::uint64_t recordsResent = 0;
  std::uint64_t recordsApplied = 0;
  std::uint64_t recordsRefused = 0;
  std::uint64_t duplicatesIgnored = 0;
  std::uint64_t backlogOverflows = 0;
  std::uint64_t bulkSyncsSent = 0;
  std::uint64_t bulkSyncsReceived = 0;
  std::uint64_t resyncsRequested = 0;
  std::uint64_t resyncsAnswered = 0;
  std::uint64_t resumes = 0;
  std::uint64_t changesCoalesced = 0;
  std::uint64_t ignoredAsSource = 0; ///< the peer's records that came while this node streamed
};

class Replicator final : public ChannelSink {
public:
  using SyncedCallback = std::function<void(bool ok, const std::string& why)>;
  /// A session change of this node's SIP table.
  struct LocalChange {
    bool removed = false;
    core::Session session;  ///< removed: only callId
    core::MonotonicTime at{};    ///< when the SIP thread made it (lag is measured from it)
  };

  /// `timers` call back on the owner thread.
  Replicator(ReplicationOptions options, ChannelTransport& channel, ReplicaStore& store,
             const core::TimeSource& time, core::TimerFactory& timers);
  ~Replicator() override;
  Replicator(const Replicator&) = delete;
  Replicator& operator=(const Replicator&) = delete;

  /// This node owns the traffic (active) or not. Becoming the source starts a new stream
  /// (and a bulk copy when the channel is up); ceasing drops the backlog.
  void setSource(bool source);
  bool source() const;

  /// Streams a batch of local changes, in order: the latest state of each session makes one
  /// record, and the records one payload.
  void streamChanges(std::vector<LocalChange> batch);
  /// One change, streamed at once (tests; the daemon streams batches).
  void onLocalUpsert(const core::Session& s, core::MonotonicTime at);
  void onLocalRemove(const std::string& callId, core::MonotonicTime at);

  /// Source: the channel is up, no bulk copy runs and the peer acknowledged every record.
  bool synced() const;
  /// Calls `done` (once the call that decided it has returned) once synced (ok) or after
  /// `timeout`, a channel loss or a role change (not ok, with why). One waiter at a time:
  /// a second one replaces the first (not ok).
  void whenSynced(core::Duration timeout, SyncedCallback done);

  /// For `rmhactl status`: state (in-sync / syncing / behind / disconnected), sequences, lag.
  nlohmann::json status() const;
  ReplicationCounters counters() const;
  std::size_t mirrorSize() const;

  // ChannelSink (owner thread)
  void onChannelOpen() override;
  void onChannelClosed() override;
  void onChannelPayload(std::span<const std::uint8_t> payload) override;

private:
  struct Pending {
    std::uint64_t seq = 0;
    std::vector<std::uint8_t> record;
    core::MonotonicTime at{};
  };
  struct Bulk {
    std::uint64_t snapshotSeq = 0;
    std::optional<std::string> cursor; ///< last Call-ID sent
    std::uint64_t sent = 0;
  };
  struct Staged {
    bool removed = false;
    core::MonotonicTime at{};  ///< the first change in the batch (lag is measured from it)
  };
  struct Incoming {
    std::uint64_t stream = 0;
    std::uint64_t snapshotSeq = 0;
    std::unordered_set<std::string> keys;
  };

  /// Marks a call into the replicator (checking its thread); when the outermost one returns,
  /// runs the callbacks queued meanwhile (waiters), so that they see a consistent replicator
  /// and may call into it.
  class Guard;

  // Source side.
  void upsert(core::Session&& s, core::MonotonicTime at);
  void remove(const std::string& callId, core::MonotonicTime at);
  void stage(const std::string& callId, bool removed, core::MonotonicTime at);
  void commit();
  void appendChange(const std::string& callId, bool removed, core::MonotonicTime at);
  void flush();
  void append(Record& r, core::MonotonicTime at);
  void sendRecord(std::span<const std::uint8_t> record);
  void sendNow(const Record& r);
  void startBulk(const std::string& why);
  void pumpBulk();
  void finishBulk();
  void resendFrom(std::uint64_t applied);
  void onResume(const Record& r);
  void onAck(const Record& r);
  bool isSynced() const;
  void checkWaiter();
  void sendAck();
  void failWaiter(const std::string& why);
  // Sink side.
  void applyRecord(const Record& r, bool& ack);
  bool ignoreAsSource(const Record& r);
  void applyStreamRecord(const Record& r, bool& ack);
  void applyBulkEnd(const Record& r, bool& ack);
  void applyUpsert(const core::Session& s);
  void applyRemove(const std::string& callId);
  void requestResync(const std::string& why);
  void refuse(const PayloadDecode& d, std::size_t payloadSize);
  std::string stateName() const;

  ReplicationOptions opt_;
  ChannelTransport& channel_;
  ReplicaStore& store_;
  const core::TimeSource& time_;
  core::OwnerThread owner_;
  mutable int depth_ = 0;                             ///< Guards alive (nested calls)
  mutable std::vector<std::function<void()>> later_;  ///< run by the outermost Guard
  bool coalescing_ = false;  ///< staging a batch of several changes
  Record scratch_;           ///< the record being appended
  core::TimerPtr bulkTimer_;
  core::TimerPtr waiterTimer_;
  core::TimerPtr ackTimer_;
  ReplicationCounters counters_;
  std::map<std::string, core::Session, std::less<>> mirror_; // ordered: bulk cursor
  PayloadWriter out_;
  std::uint64_t payloadsSent_ = 0;
  bool open_ = false;
  // Source.
  bool source_ = false;
  std::uint64_t streamId_ = 0;
  std::uint64_t seq_ = 0;
  std::uint64_t sentSeq_ = 0;
  std::uint64_t acked_ = 0;
  bool peerPositionKnown_ = false;
  std::deque<Pending> backlog_;
  std::vector<std::string> stagedOrder_;
  std::unordered_map<std::string, Staged> staged_;
  std::optional<Bulk> bulk_;
  core::MonotonicTime bulkStarted_{};
  std::uint64_t bulkAwaitAck_ = 0;     ///< snapshot seq of the bulk whose ack ends the timing
  double lastBulkMs_ = -1;
  std::uint64_t lastBulkSessions_ = 0;
  std::vector<double> lagMs_;          ///< ring of recent change-to-ack times
  std::size_t lagNext_ = 0;
  SyncedCallback waiter_;
  // Sink.
  std::uint64_t followStream_ = 0;
  std::uint64_t applied_ = 0;
  core::MonotonicTime appliedAt_{};  ///< when record applied_ arrived (not yet acknowledged)
  bool ackNow_ = false;
  std::optional<Incoming> incoming_;
  bool resyncRequested_ = false;
  bool ignoredLogged_ = false; // "ignoring the peer's records" once per term as the source
  std::string lastRefusal_;
  core::MonotonicTime lastRefusalLogged_{};
};

/// Marks a call into the replicator; the outermost one runs the callbacks queued meanwhile.
class Replicator::Guard {
public:
  explicit Guard(const Replicator& r) : r_(r) {
    assert(r.owner_.owned() && "Replicator called off its owner thread");
    ++r_.depth_;
  }
  ~Guard() {
    if (--r_.depth_ > 0) {
      return;
    }
    // Callbacks that call in queue theirs behind these: run until none is left.
    while (!r_.later_.empty()) {
      auto later = std::move(r_.later_);
      r_.later_.clear();
      ++r_.depth_;
      for (auto& f : later) {
        f();
      }
      --r_.depth_;
    }
  }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;

private:
  const Replicator& r_;
};

/// The SIP thread's session observer: queues the changes of dialogs (confirmed sessions and
/// their removal) and streams them at the end of the SIP thread's current burst of work (a
/// handler posted behind the messages already read, so under load a batch holds the
/// changes of a whole receive batch, and one payload carries them). The replicator is on the
/// same thread: a batch wakes no other thread and arms no timer. Set it on SipService with
/// setSessionObserver(). SIP thread only.
class SessionChangeQueue final : public core::SessionObserver {
public:
  using Post = std::function<void(std::function<void()>)>;
  /// `postHere` queues work on the SIP thread, behind what it already has.
  SessionChangeQueue(const core::TimeSource& time, Post postHere, Replicator& replicator);

  void onSessionUpserted(const core::Session& s) override;
  void onSessionRemoved(const core::SessionKey& key) override;
  /// Streams everything queued now.
  void drain();
  /// Whether changes are collected at all. Off on the standby, whose table changes are
  /// echoes of what it applied (the replicator would ignore them).
  void setCollecting(bool on) { collecting_ = on; }

private:
  void push(Replicator::LocalChange c);

  const core::TimeSource& time_;
  Post postHere_;
  Replicator& replicator_;
  bool drainPosted_ = false;  ///< a drain is queued behind the current burst
  bool collecting_ = true;
  std::vector<Replicator::LocalChange> queue_;
};

} // namespace rmha::failover
