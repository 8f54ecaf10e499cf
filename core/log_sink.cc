// The bounded asynchronous log sink.
//
//   producers (HA thread, SIP thread, ...)          writer thread (SCHED_OTHER, signals blocked)
//     claim a slot (CAS on enqueuePos)               slot at dequeuePos published?
//     copy the line, publish (seq = pos + 1)  ---->    yes: [drop notice] write(2) the line,
//     writer asleep? wake it (sem_post)                     free the slot (seq = pos + capacity)
//     no free slot: drop, count                        no: drop notice if any, sleep (sem_wait)
//
// The ring is Vyukov's bounded queue: every slot carries a sequence number that says whose
// turn it is, so a producer never waits for the writer and never takes a lock it could hold.
// The writer keeps the slot it is writing until write(2) returns: a stuck output costs one
// slot, and producers keep filling (then dropping) the others.
#include "core/log_sink.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include <fmt/format.h>

namespace rmha::core {

namespace {

struct Slot {
  std::atomic<std::uint64_t> seq{0};
  std::uint32_t len = 0;
  std::uint64_t droppedBefore = 0; ///< lines dropped just before this one
  char data[LogSink::kLineMax];
};

std::size_t roundUpPow2(std::size_t n) {
  std::size_t p = 2;
  while (p < n) {
    p <<= 1;
  }
  return p;
}

std::size_t plainNotice(char* out, std::size_t cap, std::uint64_t dropped) {
  const auto r = fmt::format_to_n(out, cap, "{} log lines dropped\n", dropped);
  return std::min(r.size, cap);
}

timespec monotonicDeadline(std::chrono::milliseconds after) {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  const auto ns = static_cast<long long>(ts.tv_nsec) +
                  std::chrono::duration_cast<std::chrono::nanoseconds>(after).count();
  ts.tv_sec += static_cast<time_t>(ns / 1000000000);
  ts.tv_nsec = static_cast<long>(ns % 1000000000);
  return ts;
}

} // namespace

struct LogSink::State {
  explicit State(const Options& o)
      : fd(o.fd), mask(roundUpPow2(o.capacity) - 1), slots(new Slot[mask + 1]),
        notice(o.notice ? o.notice : plainNotice) {
    for (std::size_t i = 0; i <= mask; ++i) {
      slots[i].seq.store(i, std::memory_order_relaxed);
    }
    ::sem_init(&work, 0, 0);
    ::sem_init(&done, 0, 0);
  }
  ~State() {
    ::sem_destroy(&work);
    ::sem_destroy(&done);
  }

  const int fd;
  const std::size_t mask;
  std::unique_ptr<Slot[]> slots;
  std::size_t (*notice)(char*, std::size_t, std::uint64_t);
  alignas(64) std::atomic<std::uint64_t> enqueuePos{0};
  alignas(64) std::atomic<std::uint64_t> dequeuePos{0}; // written by the writer only
  std::atomic<bool> sleeping{false};
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> droppedPending{0}; // dropped, not yet noted in the output
  std::atomic<std::uint64_t> written{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> writeErrors{0};
  std::atomic<int> lastError{0};
  sem_t work{}; // posted when the writer sleeps and there is work (or a stop)
  sem_t done{}; // posted once by the writer when it ends

  bool ready() const {
    const auto pos = dequeuePos.load(std::memory_order_relaxed);
    return slots[pos & mask].seq.load(std::memory_order_seq_cst) == pos + 1;
  }

  void drop() {
    dropped.fetch_add(1, std::memory_order_relaxed);
    droppedPending.fetch_add(1, std::memory_order_relaxed);
  }

  void run();
  bool drainOne();
  void noteDrops(std::uint64_t n);
  void writeAll(const char* p, std::size_t n);
  void waitWritable() const;
};

void LogSink::State::run() {
  for (;;) {
    if (drainOne()) {
      continue;
    }
    // Caught up: say what was lost while the output was blocked (or the ring full).
    noteDrops(droppedPending.exchange(0));
    if (stopping.load()) {
      break;
    }
    // Dekker with push(): either the producer sees `sleeping` and posts, or we see its slot.
    sleeping.store(true);
    if (ready() || stopping.load()) {
      sleeping.store(false);
      continue;
    }
    while (::sem_wait(&work) != 0 && errno == EINTR) {
    }
    sleeping.store(false);
  }
  ::sem_post(&done);
}

bool LogSink::State::drainOne() {
  const auto pos = dequeuePos.load(std::memory_order_relaxed);
  Slot& slot = slots[pos & mask];
  if (slot.seq.load(std::memory_order_seq_cst) != pos + 1) {
    return false;
  }
  if (slot.droppedBefore != 0) {
    noteDrops(slot.droppedBefore);
  }
  writeAll(slot.data, slot.len);
  slot.seq.store(pos + mask + 1, std::memory_order_release);
  dequeuePos.store(pos + 1, std::memory_order_relaxed);
  return true;
}

void LogSink::State::noteDrops(std::uint64_t n) {
  if (n == 0) {
    return;
  }
  char line[kLineMax];
  const auto len = std::min(notice(line, sizeof line, n), sizeof line);
  writeAll(line, len);
}

void LogSink::State::writeAll(const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w > 0) {
      p += w;
      n -= static_cast<std::size_t>(w);
      continue;
    }
    const int err = w < 0 ? errno : EIO;
    if (err == EINTR) {
      continue;
    }
    if (err == EAGAIN || err == EWOULDBLOCK) {
      // Someone made the shared output non-blocking: wait until it takes bytes again.
      waitWritable();
      continue;
    }
    // EPIPE (the reader is gone; SIGPIPE is ignored or blocked here), EIO, ENOSPC, EBADF...:
    // the line is lost, counted, and the next one is tried.
    lastError.store(err, std::memory_order_relaxed);
    writeErrors.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  written.fetch_add(1, std::memory_order_relaxed);
}

void LogSink::State::waitWritable() const {
  pollfd pfd{fd, POLLOUT, 0};
  // Bounded, so that a stop is seen within a second; POLLERR/POLLHUP end in write's error.
  ::poll(&pfd, 1, 1000);
}

LogSink::LogSink(Options options) : state_(std::make_shared<State>(options)) {
  // The writer must never take a signal meant for the daemon (an EINTR'd write, a handler run
  // on it): it starts with every asynchronous signal blocked. Faults stay deliverable.
  sigset_t all;
  sigset_t old;
  ::sigfillset(&all);
  for (const int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT}) {
    ::sigdelset(&all, sig);
  }
  ::pthread_sigmask(SIG_BLOCK, &all, &old);
  try {
    writer_ = std::thread([s = state_] {
      // Logging must not compete with the HA thread: normal scheduling even when the creator
      // runs at SCHED_FIFO.
      sched_param normal{};
      ::pthread_setschedparam(::pthread_self(), SCHED_OTHER, &normal);
      ::pthread_setname_np(::pthread_self(), "rmha-log");
      s->run();
    });
  } catch (...) {
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    throw;
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

LogSink::~LogSink() {
  stop(kDefaultGrace);
}

bool LogSink::push(std::string_view line) noexcept {
  State& s = *state_;
  if (s.stopping.load(std::memory_order_relaxed)) {
    s.drop();
    return false;
  }
  auto pos = s.enqueuePos.load(std::memory_order_relaxed);
  Slot* slot = nullptr;
  for (;;) {
    slot = &s.slots[pos & s.mask];
    const auto seq = slot->seq.load(std::memory_order_acquire);
    const auto diff = static_cast<std::int64_t>(seq - pos);
    if (diff == 0) {
      if (s.enqueuePos.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
        break;
      }
    } else if (diff < 0) {
      s.drop(); // the slot still holds the line from one lap ago: the ring is full
      return false;
    } else {
      pos = s.enqueuePos.load(std::memory_order_relaxed); // another producer took it
    }
  }
  if (line.size() > kLineMax) {
    std::memcpy(slot->data, line.data(), kLineMax - 4);
    std::memcpy(slot->data + kLineMax - 4, "...\n", 4);
    slot->len = static_cast<std::uint32_t>(kLineMax);
  } else {
    std::memcpy(slot->data, line.data(), line.size());
    slot->len = static_cast<std::uint32_t>(line.size());
  }
  slot->droppedBefore =
      s.droppedPending.load(std::memory_order_relaxed) != 0 ? s.droppedPending.exchange(0) : 0;
  slot->seq.store(pos + 1, std::memory_order_seq_cst);
  if (s.sleeping.load() && s.sleeping.exchange(false)) {
    ::sem_post(&s.work);
  }
  return true;
}

bool LogSink::stop(std::chrono::milliseconds grace) noexcept {
  if (stopped_) {
    return true;
  }
  stopped_ = true;
  State& s = *state_;
  s.stopping.store(true);
  ::sem_post(&s.work);
  const timespec deadline = monotonicDeadline(grace);
  int rc = 0;
  while ((rc = ::sem_clockwait(&s.done, CLOCK_MONOTONIC, &deadline)) != 0 && errno == EINTR) {
  }
  if (rc == 0) {
    writer_.join();
    return true;
  }
  // Still stuck in write(2): leave it behind. It owns a reference to the state, so the memory
  // it uses stays valid for as long as it runs.
  writer_.detach();
  return false;
}

LogCounters LogSink::counters() const noexcept {
  const State& s = *state_;
  LogCounters c;
  c.written = s.written.load(std::memory_order_relaxed);
  c.dropped = s.dropped.load(std::memory_order_relaxed);
  c.writeErrors = s.writeErrors.load(std::memory_order_relaxed);
  c.lastWriteError = s.lastError.load(std::memory_order_relaxed);
  const auto in = s.enqueuePos.load(std::memory_order_relaxed);
  const auto out = s.dequeuePos.load(std::memory_order_relaxed);
  c.queued = in > out ? in - out : 0;
  return c;
}

} // namespace rmha::core
