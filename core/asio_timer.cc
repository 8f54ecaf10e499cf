#include "core/asio_timer.h"

#include <boost/asio/steady_timer.hpp>

namespace rmha::core {
namespace {

// The handler of a wait that completed before disable() or destruction may still be queued:
// it holds only a weak reference to the shared state and a generation number, so it does
// nothing once the timer is re-armed, disabled or gone.
struct TimerState {
  TimerCallback cb;
  std::uint64_t generation = 0;
  bool armed = false;
};

class AsioTimer final : public Timer {
public:
  AsioTimer(boost::asio::any_io_executor ex, TimerCallback cb)
      : timer_(std::move(ex)), state_(std::make_shared<TimerState>()) {
    state_->cb = std::move(cb);
  }
  ~AsioTimer() override { disable(); }

  void enable(Duration d) override {
    const auto gen = ++state_->generation;
    state_->armed = true;
    timer_.expires_after(d);
    timer_.async_wait([weak = std::weak_ptr<TimerState>(state_), gen](
                          const boost::system::error_code& ec) {
      auto state = weak.lock();
      if (ec || !state || gen != state->generation || !state->armed) {
        return;
      }
      state->armed = false;
      state->cb();
    });
  }
  void disable() override {
    ++state_->generation;
    state_->armed = false;
    timer_.cancel();
  }
  bool enabled() const override { return state_->armed; }

private:
  boost::asio::steady_timer timer_;
  std::shared_ptr<TimerState> state_;
};

} // namespace

TimerPtr AsioTimerFactory::createTimer(TimerCallback cb) {
  return std::make_unique<AsioTimer>(executor_, std::move(cb));
}

} // namespace rmha::core
