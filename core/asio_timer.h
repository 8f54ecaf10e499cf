#pragma once
// Real timers on an Asio executor (the owner's io_context / strand).
#include <boost/asio/any_io_executor.hpp>

#include "core/timer.h"

namespace rmha::core {

class AsioTimerFactory final : public TimerFactory {
public:
  explicit AsioTimerFactory(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
  TimerPtr createTimer(TimerCallback cb) override;

private:
  boost::asio::any_io_executor executor_;
};

} // namespace rmha::core
