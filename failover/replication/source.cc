// Session replication, the source's side: the stream of local changes (batches from the
// SIP thread's SessionChangeQueue), the backlog, resume and bulk copy, the
// acknowledgements and the handover's wait for them. See replicator.h.
#include <algorithm>

#include "core/log.h"
#include "failover/replication/replicator.h"
#include "failover/replication/detail.h"

namespace rmha::failover {

using core::Session;
using detail::control;
using detail::hex;

// --- source ---------------------------------------------------------------------------------

void Replicator::setSource(bool source) {
  Guard g(*this);
  if (source == source_) {
    return;
  }
  commit(); // what was decided as the source still goes out
  const bool ignoredPeer = ignoredLogged_;
  source_ = source;
  ignoredLogged_ = false;
  incoming_.reset(); // a copy being received is not for a source
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
    if (ignoredPeer && open_) {
      // The peer's copy came while this node was still the source and was ignored: say where
      // this node is, so the peer (the source now) sends its copy again.
      sendNow(control(RecordType::Resume, followStream_, applied_, kReplicationVersion));
      flush();
    }
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

void Replicator::streamChanges(std::vector<LocalChange> batch) {
  Guard g(*this);
  coalescing_ = batch.size() > 1; // one change needs no staging
  for (auto& c : batch) {
    if (c.removed) {
      remove(c.session.callId, c.at);
    } else {
      upsert(std::move(c.session), c.at);
    }
  }
  commit();
  coalescing_ = false;
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
      if (lagMs_.size() < detail::kLagSamples) {
        lagMs_.push_back(ms);
      } else {
        lagMs_[lagNext_++ % detail::kLagSamples] = ms;
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

} // namespace rmha::failover
