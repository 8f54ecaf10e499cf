#pragma once
// A bounded asynchronous log sink: callers copy a formatted line into a fixed ring of slots
// and return at once; one writer thread does the blocking write(2). Why not a library: see
// docs/design/decisions.md ("Logging: a ring of fixed slots and one writer thread").
//
//   any thread --push(line)--> [ring: capacity x kLineMax bytes] --writer thread--> fd
//   (never blocks, no lock; full: dropped, counted)   (EINTR/EAGAIN retried; EPIPE, EIO, ...
//                                                      counted; after drops a notice line)
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <thread>

namespace rmha::core {

/// What the sink did so far (monotonic counts since it started, except `queued`).
struct LogCounters {
  std::uint64_t written = 0;      ///< lines written whole (drop notices included)
  std::uint64_t dropped = 0;      ///< lines dropped: the queue was full (or the sink stopped)
  std::uint64_t writeErrors = 0;  ///< lines lost to a write error (EPIPE, EIO, ENOSPC, ...)
  std::uint64_t formatErrors = 0; ///< log calls whose formatting threw (counted by Log)
  std::uint64_t queued = 0;       ///< lines waiting for the writer now
  int lastWriteError = 0;         ///< errno of the last write error, 0 if none
};

class LogSink {
public:
  /// The longest line a slot holds, its '\n' included; longer lines are cut (ending "...").
  static constexpr std::size_t kLineMax = 1024;

  struct Options {
    int fd = 2;                 ///< where lines go (not closed by the sink)
    std::size_t capacity = 512; ///< slots in the ring, rounded up to a power of two
    /// Formats the notice written after `dropped` lines were lost; returns its length
    /// (at most `cap`, '\n' included). Runs on the writer thread. Default: a plain line.
    std::size_t (*notice)(char* out, std::size_t cap, std::uint64_t dropped) = nullptr;
  };

  /// Starts the writer thread (normal scheduling, every asynchronous signal blocked).
  explicit LogSink(Options options);
  /// stop(kDefaultGrace) if not stopped yet.
  ~LogSink();
  LogSink(const LogSink&) = delete;
  LogSink& operator=(const LogSink&) = delete;

  /// Queues one line (ending in '\n'; cut at kLineMax). Never blocks, never throws, takes no
  /// lock and does not allocate: false when the ring is full or the sink is stopped, and then
  /// the line is dropped and counted. Safe from any thread.
  bool push(std::string_view line) noexcept;

  /// Lets the writer write what is queued for at most `grace`, then returns. True when all
  /// was written and the writer ended; false when it is still stuck in write(2): it is then
  /// left behind (detached, its memory kept) so that shutdown is never held up.
  bool stop(std::chrono::milliseconds grace) noexcept;

  LogCounters counters() const noexcept;

  static constexpr std::chrono::milliseconds kDefaultGrace{1000};

private:
  struct State;
  std::shared_ptr<State> state_; // shared with the writer thread, which may outlive us
  std::thread writer_;
  bool stopped_ = false;
};

} // namespace rmha::core
