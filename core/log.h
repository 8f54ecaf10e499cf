#pragma once
// Logging on fmt: RMHA_LOG(Info, "failover", "vip {} acquired on {}", vip, ifname).
// The format string is checked at compile time and formatted only when the level is enabled.
#include <atomic>
#include <string_view>

#include <fmt/format.h>

namespace rmha::core {

enum class LogLevel { Trace = 0, Debug, Info, Warn, Error, Off };

std::string_view toString(LogLevel level);
/// Parses "trace|debug|info|warn|error|off"; false on anything else.
bool parseLogLevel(std::string_view text, LogLevel& out);

class Log {
public:
  static bool enabled(LogLevel level) { return level >= threshold_.load(std::memory_order_relaxed); }
  static void setLevel(LogLevel level) { threshold_.store(level, std::memory_order_relaxed); }
  /// Sets a prefix printed on every line (for example "[node 1]").
  static void setInstance(std::string instance);
  /// Writes one line: wall time (µs), level, component, message. Thread-safe.
  static void write(LogLevel level, std::string_view component, std::string_view message);

private:
  static std::atomic<LogLevel> threshold_;
};

} // namespace rmha::core

#define RMHA_LOG(level, component, ...)                                                         \
  do {                                                                                          \
    if (::rmha::core::Log::enabled(::rmha::core::LogLevel::level)) {                            \
      ::rmha::core::Log::write(::rmha::core::LogLevel::level, component,                        \
                               ::fmt::format(__VA_ARGS__));                                     \
    }                                                                                           \
  } while (0)
