#pragma once
// Hand-written fakes of the ports HaService talks through, for unit tests on the FakeClock.
#include <functional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "core/ports.h"

namespace rmha::test {

/// Acquires at once (or fails with `acquireError`); counts reasserts, acquires, self-tests.
class FakeSteering final : public core::TrafficSteering {
public:
  void setEvents(core::SteeringEvents&) override {}
  void acquire(core::SteeringDone done) override {
    ++acquires;
    if (acquireThrows > 0) {
      --acquireThrows;
      throw std::runtime_error("the fake's acquire threw");
    }
    done(acquireError);
  }
  void release() override {
    ++releases;
    if (releaseThrows > 0) {
      --releaseThrows;
      throw std::runtime_error("the fake's release threw");
    }
  }
  void reassert() override { ++reasserts; }
  void clearStale() override {}
  std::string describe() const override { return "fake"; }
  core::SelfTestResult selfTest() override {
    ++selfTests;
    return selfTestResult;
  }
  int reasserts = 0;
  int acquires = 0;
  int releases = 0;
  int selfTests = 0;
  std::error_code acquireError;
  int acquireThrows = 0; ///< the next N acquire() calls throw (an adapter's bug)
  int releaseThrows = 0; ///< the next N release() calls throw
  core::SelfTestResult selfTestResult;
};

/// Always fit, no NICs, no events of its own.
class FakeLinks final : public core::LinkMonitor {
public:
  core::Result<> start(core::LinkEvents&) override { return {}; }
  void stop() override {}
  bool healthy() const override { return true; }
  std::vector<core::NicState> nics() const override { return {}; }
};

/// Records whether the service is serving or paused; holds no sessions.
class FakeService final : public core::ServiceControl, public core::SessionStore {
public:
  void startServing() override {
    serving = true;
    paused = false;
  }
  void stopServing() override {
    serving = false;
    paused = false;
  }
  void pauseServing(bool) override {
    serving = false;
    paused = true;
  }
  /// At once, unless `deferDone`: then kept in `pendingDone` for the test to run.
  void whenDone(std::function<void()> done) override {
    if (deferDone) {
      pendingDone.push_back(std::move(done));
    } else {
      done();
    }
  }
  std::size_t sessionCount() const override { return 0; }
  bool serving = false;
  bool paused = false;
  bool deferDone = false;
  std::vector<std::function<void()>> pendingDone;
};

} // namespace rmha::test
