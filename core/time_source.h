#pragma once
// The clock seam. Only real_time_source.cc reads the real clocks; everything else is handed a
// TimeSource, so tests run on simulated time (see tests/fakes/fake_clock.h).
#include <chrono>
#include <cstdint>

namespace rmha::core {

using MonotonicTime = std::chrono::steady_clock::time_point;
using SystemTime = std::chrono::system_clock::time_point;
using Duration = std::chrono::nanoseconds;
using Millis = std::chrono::milliseconds;

class TimeSource {
public:
  virtual ~TimeSource() = default;
  /// Monotonic time, for every interval and deadline.
  virtual MonotonicTime monotonicTime() const = 0;
  /// Wall-clock time, for what operators read (logs, status, timelines).
  virtual SystemTime systemTime() const = 0;
};

/// The real clocks.
class RealTimeSource final : public TimeSource {
public:
  MonotonicTime monotonicTime() const override;
  SystemTime systemTime() const override;
};

/// Microseconds since the Unix epoch, the unit of every timestamp rmha prints.
inline std::int64_t toEpochMicros(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

inline double toMillis(Duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

} // namespace rmha::core
