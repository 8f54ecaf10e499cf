#pragma once
// NoSteering: core::TrafficSteering for the shapes where rmha moves no traffic itself
// (standalone, active-active behind a load balancer): acquire succeeds at once, release and
// reassert do nothing.
#include <string>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include "core/ports.h"

namespace rmha::netlink {

class NoSteering final : public core::TrafficSteering {
public:
  /// `executor`: the owner's (HA thread); done() is posted there, never called re-entrantly.
  explicit NoSteering(boost::asio::any_io_executor executor,
                      std::string description = "no traffic steering")
      : executor_(std::move(executor)), description_(std::move(description)) {}
  void setEvents(core::SteeringEvents&) override {}
  /// Posts `done({})`: there is nothing to wait for.
  void acquire(core::SteeringDone done) override {
    boost::asio::post(executor_, [done = std::move(done)] { done({}); });
  }
  void release() override {}
  void reassert() override {}
  void clearStale() override {}
  std::string describe() const override { return description_; }

private:
  boost::asio::any_io_executor executor_;
  std::string description_;
};

} // namespace rmha::netlink
