#pragma once
// How long a heard peer may stay silent before it counts as lost. The configured dead interval
// is the floor; while the gaps between the peer's messages show a slow path or a loaded host,
// the threshold rises to 3/2 of the worst recent gap, never above the ceiling. A quiet pair
// keeps the fast floor; a pair on a stalling VM stops mistaking late heartbeats for a death.
// Pure: the caller brings `now`.
#include <array>

#include "core/time_source.h"

namespace rmha::failover {

class SilenceThreshold {
public:
  /// `ceiling` <= `floor` turns the adaptation off: the threshold is always `floor`.
  SilenceThreshold(core::Duration floor, core::Duration ceiling);

  /// A gap of `gap` between two messages of the peer ended at `now`. A gap longer than the
  /// ceiling is an outage (the peer was lost or restarted), not a sample of its timing.
  void recordGap(core::Duration gap, core::MonotonicTime now);

  /// The threshold that applies at `now`.
  core::Duration current(core::MonotonicTime now) const;
  /// The worst gap recorded in the last `kMemory` (zero when none).
  core::Duration worstRecentGap(core::MonotonicTime now) const;

  core::Duration floor() const { return floor_; }
  core::Duration ceiling() const { return ceiling_; }

  /// How long a gap is remembered: between 50 and 60 s (six slices of 10 s).
  static constexpr core::Duration kSlice = std::chrono::seconds(10);
  static constexpr std::size_t kSlices = 6;

private:
  core::Duration floor_;
  core::Duration ceiling_;
  /// The worst gap of each 10-second slice, indexed by the slice's number modulo kSlices.
  std::array<core::Duration, kSlices> worst_{};
  std::array<long long, kSlices> sliceOf_{};
  static long long sliceNumber(core::MonotonicTime t);
};

} // namespace rmha::failover
