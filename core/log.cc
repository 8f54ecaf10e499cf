#include "core/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace rmha::core {

std::atomic<LogLevel> Log::threshold_{LogLevel::Info};

namespace {
std::mutex& logMutex() {
  static std::mutex m;
  return m;
}
std::string& instancePrefix() {
  static std::string prefix;
  return prefix;
}
} // namespace

std::string_view toString(LogLevel level) {
  switch (level) {
  case LogLevel::Trace: return "trace";
  case LogLevel::Debug: return "debug";
  case LogLevel::Info: return "info";
  case LogLevel::Warn: return "warn";
  case LogLevel::Error: return "error";
  case LogLevel::Off: return "off";
  }
  return "?";
}

bool parseLogLevel(std::string_view text, LogLevel& out) {
  for (auto l : {LogLevel::Trace, LogLevel::Debug, LogLevel::Info, LogLevel::Warn,
                 LogLevel::Error, LogLevel::Off}) {
    if (text == toString(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

void Log::setInstance(std::string instance) {
  std::lock_guard lock(logMutex());
  instancePrefix() = std::move(instance);
}

void Log::write(LogLevel level, std::string_view component, std::string_view message) {
  const auto now = std::chrono::system_clock::now();
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::lock_guard lock(logMutex());
  const auto& prefix = instancePrefix();
  fmt::print(stderr, "{}.{:06}Z {:<5} {:<8} {}{}{}\n", stamp, us % 1000000, toString(level),
             component, prefix, prefix.empty() ? "" : " ", message);
  std::fflush(stderr);
}

} // namespace rmha::core
