// Session replication: the source's stream, backlog and bulk copy; the sink's ordered apply,
// acknowledgements and resync requests. See replication.h for the exchange.
#include "failover/replication.h"

#include <algorithm>

#include "core/log.h"

namespace rmha::failover {

using core::sip::Session;

namespace {
constexpr std::size_t kLagSamples = 4096;
constexpr auto kRefusalLogEvery = std::chrono::seconds(1);

std::string hex(std::uint64_t v) { return fmt::format("{:016x}", v); }

Record control(RecordType type, std::uint64_t stream, std::uint64_t seq, std::uint64_t count = 0) {
  Record r;
  r.type = type;
  r.stream = stream;
  r.seq = seq;
  r.count = count;
  return r;
}
} // namespace

class Replicator::Guard {
public:
  explicit Guard(const Replicator& r) : r_(r), lock_(r.mutex_) {}
  Guard(const Replicator& r, std::try_to_lock_t t) : r_(r), lock_(r.mutex_, t) {}
  ~Guard() {
    if (!lock_.owns_lock() || r_.later_.empty()) {
      return;
    }
    auto later = std::move(r_.later_);
    r_.later_.clear();
    lock_.unlock();
    for (auto& f : later) {
      f();
    }
  }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
  bool locked() const { return lock_.owns_lock(); }

private:
  const Replicator& r_;
  std::unique_lock<std::mutex> lock_;
};

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
  lagMs_.reserve(kLagSamples);
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

// --- source ---------------------------------------------------------------------------------

void Replicator::setSource(bool source) {
  Guard g(*this);
  if (source == source_) {
    return;
  }
  commit(); // what was decided as the source still goes out
  source_ = source;
  backlog_.clear();
  bulk_.reset();
  bulkTimer_->disable();
  bulkAwaitAck_ = 0;
  stagedOrder_.clear();
  staged_.clear();
  seq_ = sentSeq_ = acked_ = 0;
  peerPositionKnown_ = false;
  if (!source) {
    failWaiter("this node is no longer active");
    RMHA_LOG(Info, "replication", "this node follows the peer's session stream");
    return;
  }
  // A new stream per term as the source: the peer's position in an older one means nothing.
  const auto ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(time_.systemTime().time_since_epoch())
          .count());
  auto id = (ns << 2) | static_cast<std::uint64_t>(opt_.localMember & 3);
  streamId_ = id > streamId_ ? id : streamId_ + 4;
  RMHA_LOG(Info, "replication", "this node streams its {} session(s) as stream {}",
           mirror_.size(), hex(streamId_));
  if (open_) {
    startBulk("this node became active");
    flush();
  }
}

bool Replicator::streamChanges(bool wait,
                               const std::function<void(std::vector<LocalChange>&)>& take) {
  std::optional<Guard> g;
  if (wait) {
    g.emplace(*this);
  } else {
    g.emplace(*this, std::try_to_lock);
    if (!g->locked()) {
      return false;
    }
  }
  take(work_);
  coalescing_ = work_.size() > 1; // one change needs no staging
  for (auto& c : work_) {
    if (c.removed) {
      remove(c.session.callId, c.at);
    } else {
      upsert(std::move(c.session), c.at);
    }
  }
  work_.clear();
  commit();
  coalescing_ = false;
  return true;
}

void Replicator::onLocalUpsert(const Session& s, core::MonotonicTime at) {
  Guard g(*this);
  upsert(Session(s), at);
  commit();
}

void Replicator::onLocalRemove(const std::string& callId, core::MonotonicTime at) {
  Guard g(*this);
  remove(callId, at);
  commit();
}

void Replicator::upsert(Session&& s, core::MonotonicTime at) {
  // On the sink the table follows the peer: local changes are echoes of applied records, or
  // side effects that only the active decides.
  if (!source_) {
    return;
  }
  auto it = mirror_.find(s.callId);
  if (it != mirror_.end() && sameSession(it->second, s)) {
    return;
  }
  if (it != mirror_.end()) {
    it->second = std::move(s);
  } else {
    it = mirror_.emplace(s.callId, std::move(s)).first;
  }
  stage(it->first, false, at);
}

void Replicator::remove(const std::string& callId, core::MonotonicTime at) {
  if (!source_) {
    return;
  }
  auto it = mirror_.find(callId);
  if (it == mirror_.end()) {
    return;
  }
  mirror_.erase(it);
  stage(callId, true, at);
}

void Replicator::stage(const std::string& callId, bool removed, core::MonotonicTime at) {
  if (!coalescing_) {
    appendChange(callId, removed, at);
    return;
  }
  auto [it, fresh] = staged_.try_emplace(callId, Staged{removed, at});
  if (!fresh) {
    it->second.removed = removed;
    ++counters_.changesCoalesced;
  } else {
    stagedOrder_.push_back(callId);
  }
}

void Replicator::commit() {
  for (const auto& id : stagedOrder_) {
    const auto& st = staged_.at(id);
    appendChange(id, st.removed, st.at);
  }
  stagedOrder_.clear();
  staged_.clear();
  flush();
}

void Replicator::appendChange(const std::string& callId, bool removed, core::MonotonicTime at) {
  // scratch_ keeps its strings' capacity from record to record: no allocation per copy.
  auto m = mirror_.find(callId);
  if (removed || m == mirror_.end()) {
    scratch_.type = RecordType::Remove;
    scratch_.text = callId;
  } else {
    scratch_.type = RecordType::Upsert;
    scratch_.session = m->second;
  }
  append(scratch_, at);
}

void Replicator::append(Record& r, core::MonotonicTime at) {
  r.stream = streamId_;
  r.seq = ++seq_;
  auto encoded = encodeRecord(r);
  if (open_ && peerPositionKnown_ && !bulk_ && sentSeq_ + 1 == r.seq) {
    sendRecord(encoded);
    sentSeq_ = r.seq;
    ++counters_.recordsSent;
  }
  backlog_.push_back({r.seq, std::move(encoded), at});
  if (backlog_.size() <= opt_.backlogLimit) {
    return;
  }
  const auto dropped = backlog_.front().seq;
  backlog_.pop_front();
  if (dropped <= acked_) {
    return;
  }
  // The peer has not acknowledged a record that is no longer kept. No copy is due now: on an
  // open channel the record was sent (TCP delivers it), or goes out after the bulk copy or
  // the Resume being awaited, and both look at the backlog again; a peer that resumes from
  // before it later gets a bulk copy instead. (Starting one here would start one per new
  // record for as long as a connected peer stays silent.)
  ++counters_.backlogOverflows;
  if (dropped == acked_ + 1) {
    RMHA_LOG(Warn, "replication", "the backlog of {} record(s) overflowed: the peer acknowledged "
             "record {}; if it resumes from there it gets a bulk copy",
             opt_.backlogLimit, acked_);
  }
}

void Replicator::sendRecord(std::span<const std::uint8_t> record) {
  if (out_.size() + record.size() > opt_.maxPayloadBytes) {
    flush();
  }
  out_.addEncoded(record);
}

void Replicator::sendNow(const Record& r) { sendRecord(encodeRecord(r)); }

void Replicator::flush() {
  if (out_.empty()) {
    return;
  }
  if (open_) {
    if (++payloadsSent_ == opt_.corruptPayload) {
      auto bad = out_.bytes();
      bad[1] = 0xee; // the first record's type
      RMHA_LOG(Warn, "replication", "test hook: sending payload {} corrupted", payloadsSent_);
      channel_.sendPayload(bad);
    } else {
      channel_.sendPayload(out_.bytes());
    }
  }
  out_.reset();
}

void Replicator::startBulk(const std::string& why) {
  if (!open_ || !source_) {
    return;
  }
  RMHA_LOG(Info, "replication", "bulk copy of {} session(s) to the peer: {}", mirror_.size(), why);
  bulk_ = Bulk{seq_, std::nullopt, 0};
  bulkStarted_ = time_.monotonicTime();
  bulkAwaitAck_ = seq_ + 1; // +1: 0 means "none"
  peerPositionKnown_ = true;
  ++counters_.bulkSyncsSent;
  sendNow(control(RecordType::BulkBegin, streamId_, seq_, mirror_.size()));
  pumpBulk();
}

void Replicator::pumpBulk() {
  if (!bulk_ || !open_) {
    return;
  }
  if (channel_.pendingBytes() > opt_.writeHighWater) {
    bulkTimer_->enable(opt_.bulkRetry);
    return;
  }
  auto it = bulk_->cursor ? mirror_.upper_bound(*bulk_->cursor) : mirror_.begin();
  Record item;
  item.type = RecordType::BulkItem;
  std::size_t n = 0;
  for (; it != mirror_.end() && n < opt_.bulkItemsPerRound; ++it, ++n) {
    item.session = it->second;
    sendNow(item);
  }
  bulk_->sent += n;
  if (it == mirror_.end()) {
    finishBulk();
    return;
  }
  // Keys changed behind the cursor from now on travel in the stream after BulkEnd.
  bulk_->cursor = std::prev(it)->first;
  flush();
  bulkTimer_->enable(core::Duration::zero());
}

void Replicator::finishBulk() {
  const auto snapshot = bulk_->snapshotSeq;
  lastBulkSessions_ = bulk_->sent;
  sendNow(control(RecordType::BulkEnd, streamId_, snapshot, bulk_->sent));
  bulk_.reset();
  sentSeq_ = snapshot;
  if (!backlog_.empty() && backlog_.front().seq > snapshot + 1) {
    ++counters_.backlogOverflows;
    startBulk("the backlog overflowed during the bulk copy");
    return;
  }
  resendFrom(snapshot);
}

void Replicator::resendFrom(std::uint64_t applied) {
  for (const auto& p : backlog_) {
    if (p.seq > applied) {
      sendRecord(p.record);
      ++counters_.recordsResent;
    }
  }
  sentSeq_ = seq_;
  flush();
}

void Replicator::onResume(const Record& r) {
  ++counters_.resumes;
  const bool sameStream = r.stream == streamId_ && r.seq <= seq_;
  const bool inBacklog =
      r.seq == seq_ || (!backlog_.empty() && backlog_.front().seq <= r.seq + 1);
  if (sameStream && inBacklog) {
    acked_ = r.seq;
    while (!backlog_.empty() && backlog_.front().seq <= acked_) {
      backlog_.pop_front();
    }
    peerPositionKnown_ = true;
    RMHA_LOG(Info, "replication", "the peer resumes stream {} at {}: resending {} record(s)",
             hex(streamId_), r.seq, seq_ - r.seq);
    resendFrom(r.seq);
    checkWaiter();
    return;
  }
  startBulk(r.stream == streamId_
                ? fmt::format("the peer is at record {}, the backlog starts at {}", r.seq,
                              backlog_.empty() ? seq_ + 1 : backlog_.front().seq)
                : fmt::format("the peer (re)joined (it followed stream {})", hex(r.stream)));
}

void Replicator::onAck(const Record& r) {
  if (r.stream != streamId_ || r.seq > sentSeq_) {
    return;
  }
  const auto now = time_.monotonicTime();
  if (r.seq > acked_) {
    // The ack that ends a bulk copy says nothing of the stream's lag.
    if (bulkAwaitAck_ == 0 && !backlog_.empty() && backlog_.front().seq <= r.seq) {
      // Lag: from the change to the peer holding it (the round trip less the time the peer
      // held the record before acknowledging it; the way back is counted, to be safe).
      const auto& p = backlog_[static_cast<std::size_t>(r.seq - backlog_.front().seq)];
      const double ms = std::max(0.0, core::toMillis(now - p.at) -
                                          static_cast<double>(r.count) / 1000.0);
      if (lagMs_.size() < kLagSamples) {
        lagMs_.push_back(ms);
      } else {
        lagMs_[lagNext_++ % kLagSamples] = ms;
      }
    }
    acked_ = r.seq;
    while (!backlog_.empty() && backlog_.front().seq <= acked_) {
      backlog_.pop_front();
    }
  }
  if (bulkAwaitAck_ != 0 && !bulk_ && r.seq + 1 >= bulkAwaitAck_) {
    bulkAwaitAck_ = 0;
    lastBulkMs_ = core::toMillis(now - bulkStarted_);
    RMHA_LOG(Info, "replication", "bulk copy of {} session(s) acknowledged in {:.1f} ms",
             lastBulkSessions_, lastBulkMs_);
  }
  checkWaiter();
}

bool Replicator::synced() const {
  Guard g(*this);
  return isSynced();
}

bool Replicator::isSynced() const {
  return source_ && open_ && channel_.channelReady() && peerPositionKnown_ && !bulk_ &&
         bulkAwaitAck_ == 0 && acked_ == seq_ && staged_.empty();
}

void Replicator::whenSynced(core::Duration timeout, SyncedCallback done) {
  Guard g(*this);
  failWaiter("replaced by a newer request");
  if (!source_) {
    later_.push_back([done = std::move(done)] { done(false, "this node is not active"); });
    return;
  }
  if (isSynced()) {
    later_.push_back([done = std::move(done)] { done(true, ""); });
    return;
  }
  if (open_ && peerPositionKnown_ && !bulk_) {
    sendNow(control(RecordType::SyncRequest, streamId_, sentSeq_)); // nor for a lazy ack
    flush();
  }
  waiter_ = std::move(done);
  waiterTimer_->enable(timeout);
}

void Replicator::checkWaiter() {
  if (waiter_ && isSynced()) {
    waiterTimer_->disable();
    later_.push_back([w = std::move(waiter_)] { w(true, ""); });
    waiter_ = nullptr;
  }
}

void Replicator::failWaiter(const std::string& why) {
  if (waiter_) {
    waiterTimer_->disable();
    later_.push_back([w = std::move(waiter_), why] { w(false, why); });
    waiter_ = nullptr;
  }
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

void Replicator::applyRecord(const Record& r, bool& ack) {
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
