#pragma once
// Logging on fmt: RMHA_LOG(Info, "failover", "vip {} acquired on {}", vip, ifname).
// The format string is checked at compile time and formatted only when the level is enabled.
// A log call never blocks and never throws: once rmhad started the asynchronous sink
// (Log::startAsync), lines go through a bounded ring to a writer thread (core/log_sink.h);
// a full ring drops the line and counts it; a formatting exception is caught and counted.
#include <atomic>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "core/log_sink.h"

namespace rmha::core {

enum class LogLevel { Trace = 0, Debug, Info, Warn, Error, Off };

std::string_view toString(LogLevel level);
/// Parses "trace|debug|info|warn|error|off"; false on anything else.
bool parseLogLevel(std::string_view text, LogLevel& out);
/// The syslog priority journald reads from a "<N>" line prefix (sd-daemon(3)): error 3,
/// warn 4, info 6, debug and trace 7.
int syslogPriority(LogLevel level);

class Log {
public:
  static bool enabled(LogLevel level) { return level >= threshold_.load(std::memory_order_relaxed); }
  static void setLevel(LogLevel level) { threshold_.store(level, std::memory_order_relaxed); }
  /// Sets a prefix printed on every line (for example "[node 1]"). Lock-free for writers.
  static void setInstance(std::string instance);
  /// Prefixes every line with its syslog priority ("<6>..."), for journald.
  static void setSyslogPrefix(bool on);

  /// Writes one line: wall time (µs), level, component, message. Thread-safe, never throws.
  /// With the asynchronous sink running it never blocks either; before it starts (tests,
  /// --check-config) the line is written to stderr at once.
  static void write(LogLevel level, std::string_view component, std::string_view message) noexcept;
  /// Called by RMHA_LOG when formatting (or evaluating) its arguments threw: counted.
  static void formatFailed() noexcept;

  /// Starts the asynchronous sink on stderr (once per process; later calls do nothing).
  /// `syslogPrefix` unset: prefix lines with "<N>" exactly when stderr is the journal
  /// (JOURNAL_STREAM names stderr's device and inode, systemd.exec(5)).
  static void startAsync(std::optional<bool> syslogPrefix = std::nullopt);
  /// Writes what is queued for at most `grace`, then stops the sink; later lines are dropped
  /// and counted. Never waits longer than `grace` (a writer stuck in write(2) is left behind).
  static bool stopAsync(std::chrono::milliseconds grace = LogSink::kDefaultGrace) noexcept;

  /// Lines written, dropped, lost to write errors, formatting failures (all since start).
  static LogCounters counters() noexcept;

  /// Formats one whole line ('\n' included, cut at `cap` with "..."); returns its length.
  static std::size_t formatLine(char* out, std::size_t cap, LogLevel level,
                                std::string_view component, std::string_view message) noexcept;
  /// True when `journalStream` ("DEV:INODE", the JOURNAL_STREAM variable) names `fd`.
  static bool isJournalStream(int fd, const char* journalStream) noexcept;

private:
  static std::atomic<LogLevel> threshold_;
};

} // namespace rmha::core

// The arguments are evaluated and formatted inside the try: a throwing argument (a dump(), a
// message()) or formatter is counted (Log::counters().formatErrors) and never propagates.
// Short messages format into the buffer's inline storage, without a heap allocation.
#define RMHA_LOG(level, component, ...)                                                         \
  do {                                                                                          \
    if (::rmha::core::Log::enabled(::rmha::core::LogLevel::level)) {                            \
      try {                                                                                     \
        ::fmt::memory_buffer rmha_log_buf_;                                                     \
        ::fmt::format_to(::fmt::appender(rmha_log_buf_), __VA_ARGS__);                         \
        ::rmha::core::Log::write(::rmha::core::LogLevel::level, component,                      \
                                 ::std::string_view(rmha_log_buf_.data(),                       \
                                                    rmha_log_buf_.size()));                     \
      } catch (...) {                                                                           \
        ::rmha::core::Log::formatFailed();                                                      \
      }                                                                                         \
    }                                                                                           \
  } while (0)
