#include "core/time_source.h"

namespace rmha::core {

MonotonicTime RealTimeSource::monotonicTime() const { return std::chrono::steady_clock::now(); }

SystemTime RealTimeSource::systemTime() const { return std::chrono::system_clock::now(); }

} // namespace rmha::core
