// The SIP thread's session changes on their way to the HA thread's replicator.
#include "failover/replication.h"

namespace rmha::failover {

using core::sip::Session;

// --- SIP thread -> HA thread ----------------------------------------------------------------

SessionChangeQueue::SessionChangeQueue(const core::TimeSource& time,
                                       core::TimerFactory& sipTimers, Post postToHa,
                                       Replicator& replicator, core::Duration window)
    : time_(time), post_(std::move(postToHa)), replicator_(replicator), window_(window) {
  timer_ = sipTimers.createTimer([this] { handOver(); });
}

void SessionChangeQueue::onSessionUpserted(const Session& s) {
  // Only dialogs are copied: a call still being set up (Trying, Early) cannot be continued by
  // another node (its transactions are not replicated; a late 2xx reaching the new active is
  // forwarded statelessly by its Via), so its intermediate states would cost a record and a
  // wake-up of the HA thread each for nothing.
  if (s.state != core::sip::SessionState::Confirmed &&
      s.state != core::sip::SessionState::Terminating) {
    return;
  }
  if (collecting_.load(std::memory_order_relaxed)) {
    push({false, s, time_.monotonicTime()});
  }
}

void SessionChangeQueue::onSessionRemoved(const core::sip::SessionKey& key) {
  if (!collecting_.load(std::memory_order_relaxed)) {
    return;
  }
  Change c;
  c.removed = true;
  c.session.callId = key.callId;
  c.at = time_.monotonicTime();
  push(std::move(c));
}

void SessionChangeQueue::push(Change c) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(c));
  }
  if (batchStart_) {
    return;
  }
  if (window_ == core::Duration::zero()) {
    handOver();
    return;
  }
  batchStart_ = time_.monotonicTime();
  timer_->enable(window_);
}

void SessionChangeQueue::afterMessage() {
  if (batchStart_ && time_.monotonicTime() - *batchStart_ >= window_) {
    handOver();
  }
}

void SessionChangeQueue::handOver() {
  batchStart_.reset();
  timer_->disable();
  post_([this] { drain(); });
}

void SessionChangeQueue::drain() {
  {
    std::lock_guard lock(mutex_);
    std::swap(queue_, work_);
  }
  replicator_.beginBatch();
  for (const auto& c : work_) {
    if (c.removed) {
      replicator_.onLocalRemove(c.session.callId, c.at);
    } else {
      replicator_.onLocalUpsert(c.session, c.at);
    }
  }
  work_.clear();
  replicator_.endBatch();
}

} // namespace rmha::failover
