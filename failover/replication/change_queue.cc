// The SIP thread's session changes on their way to the replicator.
#include "failover/replication/replicator.h"

namespace rmha::failover {

using core::Session;

SessionChangeQueue::SessionChangeQueue(const core::TimeSource& time, Post postHere,
                                       Post postToHa, Replicator& replicator)
    : time_(time), postHere_(std::move(postHere)), postToHa_(std::move(postToHa)),
      replicator_(replicator) {}

void SessionChangeQueue::onSessionUpserted(const Session& s) {
  // Only dialogs are copied: a call still being set up (Trying, Early) cannot be continued by
  // another node (its transactions are not replicated; a late 2xx reaching the new active is
  // forwarded statelessly by its Via), so its intermediate states would cost a record each
  // for nothing.
  if (s.state != core::SessionState::Confirmed &&
      s.state != core::SessionState::Terminating) {
    return;
  }
  if (collecting_.load(std::memory_order_relaxed)) {
    push({false, s, time_.monotonicTime()});
  }
}

void SessionChangeQueue::onSessionRemoved(const core::SessionKey& key) {
  if (!collecting_.load(std::memory_order_relaxed)) {
    return;
  }
  Replicator::LocalChange c;
  c.removed = true;
  c.session.callId = key.callId;
  c.at = time_.monotonicTime();
  push(std::move(c));
}

void SessionChangeQueue::push(Replicator::LocalChange c) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(c));
  }
  if (!drainPosted_) {
    drainPosted_ = true;
    postHere_([this] {
      drainPosted_ = false;
      drain(false);
    });
  }
}

void SessionChangeQueue::drain(bool wait) {
  const bool streamed = replicator_.streamChanges(wait, [this](auto& batch) {
    std::lock_guard lock(mutex_);
    std::swap(queue_, batch);
  });
  if (!streamed) {
    postToHa_([this] { drain(true); });
  }
}

} // namespace rmha::failover
