#include "failover/engine/silence_threshold.h"

#include <algorithm>

namespace rmha::failover {

SilenceThreshold::SilenceThreshold(core::Duration floor, core::Duration ceiling)
    : floor_(floor), ceiling_(std::max(floor, ceiling)) {
  sliceOf_.fill(-1);
}

long long SilenceThreshold::sliceNumber(core::MonotonicTime t) {
  return static_cast<long long>(t.time_since_epoch() / kSlice);
}

void SilenceThreshold::recordGap(core::Duration gap, core::MonotonicTime now) {
  if (ceiling_ == floor_ || gap <= core::Duration::zero() || gap > ceiling_) {
    return;
  }
  const long long n = sliceNumber(now);
  const auto i = static_cast<std::size_t>(n % static_cast<long long>(kSlices));
  if (sliceOf_[i] != n) {
    sliceOf_[i] = n;
    worst_[i] = core::Duration::zero();
  }
  worst_[i] = std::max(worst_[i], gap);
}

core::Duration SilenceThreshold::worstRecentGap(core::MonotonicTime now) const {
  const long long n = sliceNumber(now);
  core::Duration worst{};
  for (std::size_t i = 0; i < kSlices; ++i) {
    if (sliceOf_[i] >= 0 && sliceOf_[i] > n - static_cast<long long>(kSlices) &&
        sliceOf_[i] <= n) {
      worst = std::max(worst, worst_[i]);
    }
  }
  return worst;
}

core::Duration SilenceThreshold::current(core::MonotonicTime now) const {
  return std::clamp(worstRecentGap(now) * 3 / 2, floor_, ceiling_);
}

} // namespace rmha::failover
