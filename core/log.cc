#include "core/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

namespace rmha::core {

std::atomic<LogLevel> Log::threshold_{LogLevel::Info};

namespace {

// Writers read the instance prefix without a lock: setInstance publishes a new string and
// keeps the old ones alive (it is called once or twice in a process's life).
std::atomic<const std::string*> g_instance{nullptr};
std::atomic<bool> g_syslogPrefix{false};
// The asynchronous sink, once started; never deleted, as other threads may still push.
std::atomic<LogSink*> g_sink{nullptr};
std::atomic<bool> g_stopped{false};
std::atomic<std::uint64_t> g_formatErrors{0};
// Lines written at once before the sink starts (tests, --check-config), or dropped after
// it stopped.
std::atomic<std::uint64_t> g_directWritten{0};
std::atomic<std::uint64_t> g_directErrors{0};
std::atomic<std::uint64_t> g_afterStop{0};
std::atomic<int> g_directLastError{0};

void writeDirect(const char* p, std::size_t n) noexcept {
  while (n > 0) {
    const ssize_t w = ::write(STDERR_FILENO, p, n);
    if (w > 0) {
      p += w;
      n -= static_cast<std::size_t>(w);
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else {
      g_directLastError.store(w < 0 ? errno : EIO, std::memory_order_relaxed);
      g_directErrors.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  g_directWritten.fetch_add(1, std::memory_order_relaxed);
}

// The writer's notice after drops, formatted like every other line.
std::size_t dropNotice(char* out, std::size_t cap, std::uint64_t dropped) {
  char msg[160];
  const auto r = fmt::format_to_n(msg, sizeof msg,
                                  "LOG_LINES_DROPPED {} log lines dropped: the log output "
                                  "did not keep up (blocked or too slow)",
                                  dropped);
  return Log::formatLine(out, cap, LogLevel::Warn, "core",
                         std::string_view(msg, std::min(r.size, sizeof msg)));
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

int syslogPriority(LogLevel level) {
  switch (level) {
  case LogLevel::Error: return 3; // SD_ERR
  case LogLevel::Warn: return 4;  // SD_WARNING
  case LogLevel::Info: return 6;  // SD_INFO
  default: return 7;              // SD_DEBUG (trace, debug)
  }
}

void Log::setInstance(std::string instance) {
  static std::mutex m;
  static std::vector<std::unique_ptr<std::string>> kept;
  std::lock_guard lock(m);
  kept.push_back(std::make_unique<std::string>(std::move(instance)));
  g_instance.store(kept.back().get(), std::memory_order_release);
}

void Log::setSyslogPrefix(bool on) {
  g_syslogPrefix.store(on, std::memory_order_relaxed);
}

std::size_t Log::formatLine(char* out, std::size_t cap, LogLevel level,
                            std::string_view component, std::string_view message) noexcept {
  using namespace std::chrono;
  if (cap < 8) {
    return 0;
  }
  try {
    // Calendar arithmetic rather than gmtime_r/strftime: no locale, no libc time-zone lock.
    const auto now = time_point_cast<microseconds>(system_clock::now());
    const auto day = floor<days>(now);
    const year_month_day ymd{day};
    const hh_mm_ss<microseconds> t{now - day};
    const auto* instance = g_instance.load(std::memory_order_acquire);
    const std::string_view prefix = instance ? std::string_view(*instance) : std::string_view();
    char prio[4] = {};
    if (g_syslogPrefix.load(std::memory_order_relaxed)) {
      prio[0] = '<';
      prio[1] = static_cast<char>('0' + syslogPriority(level));
      prio[2] = '>';
    }
    const auto r = fmt::format_to_n(
        out, cap - 1, "{}{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z {:<5} {:<8} {}{}{}", prio,
        static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
        static_cast<unsigned>(ymd.day()), t.hours().count(), t.minutes().count(),
        t.seconds().count(), t.subseconds().count(), toString(level), component, prefix,
        prefix.empty() ? "" : " ", message);
    std::size_t n = r.size;
    if (n > cap - 1) {
      n = cap - 1;
      std::memcpy(out + n - 3, "...", 3);
    }
    out[n] = '\n';
    return n + 1;
  } catch (...) {
    g_formatErrors.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
}

void Log::write(LogLevel level, std::string_view component, std::string_view message) noexcept {
  if (g_stopped.load(std::memory_order_acquire)) {
    g_afterStop.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  char line[LogSink::kLineMax];
  const auto n = formatLine(line, sizeof line, level, component, message);
  if (n == 0) {
    return;
  }
  if (auto* sink = g_sink.load(std::memory_order_acquire)) {
    sink->push(std::string_view(line, n));
  } else {
    writeDirect(line, n);
  }
}

void Log::formatFailed() noexcept {
  g_formatErrors.fetch_add(1, std::memory_order_relaxed);
}

bool Log::isJournalStream(int fd, const char* journalStream) noexcept {
  if (journalStream == nullptr) {
    return false;
  }
  std::uintmax_t dev = 0;
  std::uintmax_t ino = 0;
  char tail = 0;
  if (std::sscanf(journalStream, "%" SCNuMAX ":%" SCNuMAX "%c", &dev, &ino, &tail) != 2) {
    return false;
  }
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    return false;
  }
  return static_cast<std::uintmax_t>(st.st_dev) == dev &&
         static_cast<std::uintmax_t>(st.st_ino) == ino;
}

void Log::startAsync(std::optional<bool> syslogPrefix) {
  static std::once_flag once;
  std::call_once(once, [&] {
    setSyslogPrefix(syslogPrefix.value_or(
        isJournalStream(STDERR_FILENO, std::getenv("JOURNAL_STREAM"))));
    LogSink::Options o;
    o.fd = STDERR_FILENO;
    o.notice = dropNotice;
    g_sink.store(new LogSink(o), std::memory_order_release);
  });
}

bool Log::stopAsync(std::chrono::milliseconds grace) noexcept {
  auto* sink = g_sink.load(std::memory_order_acquire);
  if (sink == nullptr || g_stopped.exchange(true)) {
    return true;
  }
  return sink->stop(grace);
}

LogCounters Log::counters() noexcept {
  LogCounters c;
  if (const auto* sink = g_sink.load(std::memory_order_acquire)) {
    c = sink->counters();
  }
  c.written += g_directWritten.load(std::memory_order_relaxed);
  c.writeErrors += g_directErrors.load(std::memory_order_relaxed);
  c.dropped += g_afterStop.load(std::memory_order_relaxed);
  c.formatErrors = g_formatErrors.load(std::memory_order_relaxed);
  if (c.lastWriteError == 0) {
    c.lastWriteError = g_directLastError.load(std::memory_order_relaxed);
  }
  return c;
}

} // namespace rmha::core
