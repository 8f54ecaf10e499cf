#pragma once
// The timer seam: a one-shot timer that calls back on its owner's executor. The real one is
// an asio::steady_timer (core/asio_timer.h); tests use FakeTimer driven by FakeClock::advance.
#include <functional>
#include <memory>

#include "core/time_source.h"

namespace rmha::core {

class Timer {
public:
  virtual ~Timer() = default;
  /// Arms the timer to fire once after `d`, replacing any earlier arming.
  virtual void enable(Duration d) = 0;
  /// Disarms the timer; a callback that has not run yet will not run.
  virtual void disable() = 0;
  virtual bool enabled() const = 0;
};
using TimerPtr = std::unique_ptr<Timer>;
using TimerCallback = std::function<void()>;

class TimerFactory {
public:
  virtual ~TimerFactory() = default;
  /// Creates a disarmed timer whose callback runs on the factory's executor.
  virtual TimerPtr createTimer(TimerCallback cb) = 0;
};

} // namespace rmha::core
