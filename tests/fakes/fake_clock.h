#pragma once
// Simulated time: FakeClock is a TimeSource and a TimerFactory; advance(d) moves time forward
// and fires the timers that fall due, in deadline order, each at its own deadline.
#include <algorithm>
#include <memory>
#include <vector>

#include "core/time_source.h"
#include "core/timer.h"

namespace rmha::test {

class FakeClock final : public core::TimeSource, public core::TimerFactory {
public:
  FakeClock() : mono_(core::MonotonicTime{} + std::chrono::hours(1)),
                sys_(core::SystemTime{} + std::chrono::hours(24 * 365 * 50)) {}

  core::MonotonicTime monotonicTime() const override { return mono_; }
  core::SystemTime systemTime() const override { return sys_; }

  core::TimerPtr createTimer(core::TimerCallback cb) override {
    auto t = std::make_unique<FakeTimer>(*this, std::move(cb));
    timers_.push_back(t.get());
    return t;
  }

  /// Moves time forward by `d`, firing due timers in deadline order.
  void advance(core::Duration d) {
    const auto end = mono_ + d;
    for (;;) {
      FakeTimer* next = nullptr;
      for (auto* t : timers_) {
        if (t->armed_ && t->deadline_ <= end && (!next || t->deadline_ < next->deadline_)) {
          next = t;
        }
      }
      if (!next) {
        break;
      }
      if (next->deadline_ > mono_) {
        step(next->deadline_ - mono_);  // a timer already overdue (after stall()) fires late
      }
      next->armed_ = false;
      next->cb_();
    }
    step(end - mono_);
  }

  /// The process did not run for `d` (a stall of its VM, SIGSTOP): time moves on and no
  /// timer fires; the next advance() fires the overdue ones first, late.
  void stall(core::Duration d) { step(d); }

private:
  class FakeTimer final : public core::Timer {
  public:
    FakeTimer(FakeClock& c, core::TimerCallback cb) : clock_(c), cb_(std::move(cb)) {}
    ~FakeTimer() override {
      auto& v = clock_.timers_;
      v.erase(std::remove(v.begin(), v.end(), this), v.end());
    }
    void enable(core::Duration d) override {
      armed_ = true;
      deadline_ = clock_.mono_ + d;
    }
    void disable() override { armed_ = false; }
    bool enabled() const override { return armed_; }

    FakeClock& clock_;
    core::TimerCallback cb_;
    core::MonotonicTime deadline_{};
    bool armed_ = false;
  };

  void step(core::Duration d) {
    mono_ += d;
    sys_ += std::chrono::duration_cast<core::SystemTime::duration>(d);
  }

  core::MonotonicTime mono_;
  core::SystemTime sys_;
  std::vector<FakeTimer*> timers_;
};

} // namespace rmha::test
