// The SIP thread's session changes on their way to the replicator.
#include "failover/replication/replicator.h"

namespace rmha::failover {

using core::Session;

SessionChangeQueue::SessionChangeQueue(const core::TimeSource& time, Post postHere,
                                       Replicator& replicator)
    : time_(time), postHere_(std::move(postHere)), replicator_(replicator) {}

void SessionChangeQueue::onSessionUpserted(const Session& s) {
  // Only dialogs are copied: a call still being set up (Trying, Early) cannot be continued by
  // another node (its transactions are not replicated; a late 2xx reaching the new active is
  // forwarded statelessly by its Via), so its intermediate states would cost a record each
  // for nothing.
  if (s.state != core::SessionState::Confirmed &&
      s.state != core::SessionState::Terminating) {
    return;
  }
  if (collecting_) {
    push({false, s, time_.monotonicTime()});
  }
}

void SessionChangeQueue::onSessionRemoved(const core::SessionKey& key) {
  if (!collecting_) {
    return;
  }
  Replicator::LocalChange c;
  c.removed = true;
  c.session.callId = key.callId;
  c.at = time_.monotonicTime();
  push(std::move(c));
}

void SessionChangeQueue::push(Replicator::LocalChange c) {
  queue_.push_back(std::move(c));
  if (!drainPosted_) {
    drainPosted_ = true;
    postHere_([this] {
      drainPosted_ = false;
      drain();
    });
  }
}

void SessionChangeQueue::drain() {
  if (queue_.empty()) {
    return;
  }
  auto batch = std::move(queue_);
  queue_.clear();
  replicator_.streamChanges(std::move(batch));
}

} // namespace rmha::failover
