#pragma once
// One owner per object: an object that belongs to one thread (its timers, its callbacks and
// every call into it run there) holds an OwnerThread and asserts owned() in its entry points.
// The first call binds it to the calling thread; a call from any other thread after that is
// a bug in the wiring (work that should have been posted). Debug builds, the sanitizer build
// among them, abort on it; release builds pay one relaxed load and a compare.
#include <atomic>
#include <thread>

namespace rmha::core {

class OwnerThread {
public:
  /// True when the calling thread owns the object (the first caller becomes the owner).
  bool owned() const noexcept {
    const auto self = std::this_thread::get_id();
    auto owner = owner_.load(std::memory_order_relaxed);
    if (owner == std::thread::id{}) {
      return owner_.compare_exchange_strong(owner, self, std::memory_order_relaxed) ||
             owner == self;
    }
    return owner == self;
  }

private:
  mutable std::atomic<std::thread::id> owner_{};
};

} // namespace rmha::core
