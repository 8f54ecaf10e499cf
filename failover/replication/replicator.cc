// Session replication: the replicator's set-up, the channel's events and the sink's ordered
// apply, acknowledgements and resync requests (the source's side: source.cc).
// See replicator.h for the exchange.
#include "failover/replication/replicator.h"

#include <algorithm>

#include "core/log.h"
#include "failover/replication/detail.h"

namespace rmha::failover {

using core::Session;

using detail::control;
using detail::hex;

namespace {
constexpr auto kRefusalLogEvery = std::chrono::seconds(1);
} // namespace

Replicator::Replicator(ReplicationOptions options, ChannelTransport& channel, ReplicaStore& store,
                       const core::TimeSource& time, core::TimerFactory& timers)
    : opt_(options), channel_(channel), store_(store), time_(time) {
  bulkTimer_ = timers.createTimer([this] {
    Guard g(*this);
    pumpBulk();
  });
  waiterTimer_ = timers.createTimer([this] {
    Guard g(*this);
    failWaiter(fmt::format("the standby acknowledged {} of {} record(s) in time{}", acked_, seq_,
                           bulk_ ? " (a bulk copy was running)" : ""));
  });
  ackTimer_ = timers.createTimer([this] {
    Guard g(*this);
    sendAck();
    flush();
  });
  lagMs_.reserve(detail::kLagSamples);
}

Replicator::~Replicator() {
  bulkTimer_->disable();
  waiterTimer_->disable();
  ackTimer_->disable();
}

bool Replicator::source() const {
  Guard g(*this);
  return source_;
}

ReplicationCounters Replicator::counters() const {
  Guard g(*this);
  return counters_;
}

std::size_t Replicator::mirrorSize() const {
  Guard g(*this);
  return mirror_.size();
}

// --- channel --------------------------------------------------------------------------------

void Replicator::onChannelOpen() {
  Guard g(*this);
  open_ = true;
  out_.reset();
  resyncRequested_ = false;
  incoming_.reset();
  bulk_.reset();
  bulkTimer_->disable();
  bulkAwaitAck_ = 0;
  peerPositionKnown_ = false;
  // Both sides say where they are; the source answers with the backlog or a bulk copy.
  sendNow(control(RecordType::Resume, followStream_, applied_, kReplicationVersion));
  flush();
}

void Replicator::onChannelClosed() {
  Guard g(*this);
  open_ = false;
  ackTimer_->disable();
  out_.reset();
  incoming_.reset();
  bulk_.reset();
  bulkTimer_->disable();
  bulkAwaitAck_ = 0;
  peerPositionKnown_ = false;
  failWaiter("the replication channel closed");
}

void Replicator::onChannelPayload(std::span<const std::uint8_t> payload) {
  Guard g(*this);
  const auto d = decodePayload(payload);
  bool ack = false;
  bool incomingWasStream = true; // a bulk copy's end is acknowledged at once
  ackNow_ = false;               // and so is anything the source asks to be
  for (const auto& r : d.records) {
    applyRecord(r, ack);
    incomingWasStream = incomingWasStream && r.type != RecordType::BulkEnd;
  }
  if (d.error != PayloadError::None) {
    refuse(d, payload.size());
  }
  if (ack) {
    if (opt_.ackDelay == core::Duration::zero() || !incomingWasStream || ackNow_) {
      sendAck();
    } else if (!ackTimer_->enabled()) {
      ackTimer_->enable(opt_.ackDelay);
    }
  }
  flush();
}

void Replicator::sendAck() {
  ackTimer_->disable();
  if (open_) {
    // How long the acknowledged record waited here: the source takes it off the lag, which
    // measures how stale this copy is, not how lazily it is acknowledged.
    const auto held = appliedAt_ == core::MonotonicTime{}
                          ? 0
                          : std::chrono::duration_cast<std::chrono::microseconds>(
                                time_.monotonicTime() - appliedAt_)
                                .count();
    sendNow(control(RecordType::Ack, followStream_, applied_,
                    static_cast<std::uint64_t>(std::max<std::int64_t>(held, 0))));
    appliedAt_ = {};
  }
}

// --- sink -----------------------------------------------------------------------------------

bool Replicator::ignoreAsSource(const Record& r) {
  if (!source_) {
    return false;
  }
  // The peer was active too (a split brain) and sent its copy or stream before it gave way,
  // or the channel delivered it late. This node's table is the truth: applying the copy would
  // bring back calls that ended here and drop the calls made here since.
  ++counters_.ignoredAsSource;
  if (!ignoredLogged_) {
    ignoredLogged_ = true;
    RMHA_LOG(Warn, "replication", "ignoring the peer's session records (stream {}): this node "
             "is the source; the peer was active too", hex(r.stream));
  }
  return true;
}

void Replicator::applyRecord(const Record& r, bool& ack) {
  switch (r.type) {
  case RecordType::Upsert:
  case RecordType::Remove:
  case RecordType::BulkBegin:
  case RecordType::BulkItem:
  case RecordType::BulkEnd:
    if (ignoreAsSource(r)) {
      return;
    }
    break;
  default: break;
  }
  switch (r.type) {
  case RecordType::Upsert:
  case RecordType::Remove:
    applyStreamRecord(r, ack);
    return;
  case RecordType::BulkBegin:
    incoming_ = Incoming{r.stream, r.seq, {}};
    resyncRequested_ = false;
    RMHA_LOG(Info, "replication", "receiving a bulk copy of {} session(s) (stream {})", r.count,
             hex(r.stream));
    return;
  case RecordType::BulkItem:
    if (incoming_) {
      incoming_->keys.insert(r.session.callId);
      applyUpsert(r.session);
    }
    return;
  case RecordType::BulkEnd:
    applyBulkEnd(r, ack);
    return;
  case RecordType::Ack:
    if (source_) {
      onAck(r);
    }
    return;
  case RecordType::SyncRequest:
    if (!source_) {
      ack = true;
      ackNow_ = true;
    }
    return;
  case RecordType::Resume:
    if (source_) {
      onResume(r);
    }
    return;
  case RecordType::Resync:
    if (source_) {
      ++counters_.resyncsAnswered;
      RMHA_LOG(Warn, "replication", "the peer asks for a resync: {}", r.text);
      startBulk("the peer asked for it");
    }
    return;
  }
}

void Replicator::applyStreamRecord(const Record& r, bool& ack) {
  if (incoming_) {
    return; // the stream resumes after BulkEnd
  }
  if (followStream_ == 0 || r.stream != followStream_) {
    if (!source_) {
      requestResync(fmt::format("a record of stream {}, this node follows {}", hex(r.stream),
                                hex(followStream_)));
    }
    return;
  }
  if (r.seq <= applied_) {
    ++counters_.duplicatesIgnored;
    return;
  }
  if (r.seq != applied_ + 1) {
    requestResync(fmt::format("record {} came after {}", r.seq, applied_));
    return;
  }
  if (r.type == RecordType::Upsert) {
    applyUpsert(r.session);
  } else {
    applyRemove(r.text);
  }
  applied_ = r.seq;
  appliedAt_ = time_.monotonicTime();
  ++counters_.recordsApplied;
  ack = true;
}

void Replicator::applyBulkEnd(const Record& r, bool& ack) {
  if (!incoming_ || incoming_->stream != r.stream || incoming_->snapshotSeq != r.seq) {
    return;
  }
  // What the copy did not name is gone on the source.
  for (auto it = mirror_.begin(); it != mirror_.end();) {
    auto next = std::next(it);
    if (!incoming_->keys.contains(it->first)) {
      store_.removeReplica(it->first);
      mirror_.erase(it);
    }
    it = next;
  }
  followStream_ = r.stream;
  applied_ = r.seq;
  appliedAt_ = {};
  ++counters_.bulkSyncsReceived;
  RMHA_LOG(Info, "replication", "bulk copy received: {} session(s), following stream {} from {}",
           incoming_->keys.size(), hex(followStream_), applied_);
  incoming_.reset();
  ack = true;
}

void Replicator::applyUpsert(const Session& s) {
  mirror_.insert_or_assign(s.callId, s);
  store_.insertReplica(s);
}

void Replicator::applyRemove(const std::string& callId) {
  mirror_.erase(callId);
  store_.removeReplica(callId);
}

void Replicator::requestResync(const std::string& why) {
  if (resyncRequested_ || !open_) {
    return;
  }
  resyncRequested_ = true;
  ++counters_.resyncsRequested;
  RMHA_LOG(Warn, "replication", "asking the peer for a full resync: {}", why);
  Record r;
  r.type = RecordType::Resync;
  r.text = why;
  sendNow(r);
}

void Replicator::refuse(const PayloadDecode& d, std::size_t payloadSize) {
  ++counters_.recordsRefused;
  lastRefusal_ = fmt::format("record {} of a {}-byte payload: {} (format version {}, this node "
                             "reads version {})",
                             d.failedIndex + 1, payloadSize, toString(d.error), d.version,
                             kReplicationVersion);
  const auto now = time_.monotonicTime();
  if (lastRefusalLogged_ == core::MonotonicTime{} || now - lastRefusalLogged_ >= kRefusalLogEvery) {
    RMHA_LOG(Error, "replication", "REPLICATION_RECORD_REFUSED {} ({} refused so far)",
             lastRefusal_, counters_.recordsRefused);
    lastRefusalLogged_ = now;
  }
  requestResync("a record did not decode: " + lastRefusal_);
}

} // namespace rmha::failover
