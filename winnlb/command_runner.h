#pragma once
// The process seam: NlbSteering starts its commands through a CommandRunner and hears their
// results as completions, so the thread that owns the steering (the HA thread) never waits
// for a process. The real runner is a CommandWorker: a thread of its own that runs one
// command at a time through a BlockingCommandRunner (CreateProcess on Windows) and posts each
// result back to the owner's executor. Unit tests use a fake that plays an NLB node.
//
//   owner (HA thread) ──start(cmd, done)──▶ CommandWorker ──post──▶ worker thread
//        ▲                                                           │ run(cmd): blocks
//        └──────────── done(result), on the owner's executor ◀──post─┘ (bounded by the runner)
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <thread>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "core/time_source.h"
#include "winnlb/nlb_command.h"

namespace rmha::winnlb {

/// What a finished command left behind.
struct CommandResult {
  /// Set when the program could not be started, or was killed at the runner's time limit;
  /// exitCode, out and err are then meaningless.
  std::error_code launchError;
  int exitCode = -1;
  std::string out;  ///< everything written to stdout
  std::string err;  ///< everything written to stderr

  bool launched() const { return !launchError; }
};

using CommandDone = std::function<void(CommandResult)>;

class CommandRunner {
public:
  virtual ~CommandRunner() = default;
  /// Starts `cmd`; `done` gets its result on the owner's executor. It may run before start()
  /// returns (a fake) or later (the worker): the caller copes with both. Commands run in the
  /// order they were started, one at a time.
  virtual void start(const Command& cmd, CommandDone done) = 0;
};

/// Runs one command to completion and returns its result: blocks for the command's duration,
/// bounded by the runner's own time limit. Only ever called on a CommandWorker's thread.
class BlockingCommandRunner {
public:
  virtual ~BlockingCommandRunner() = default;
  virtual CommandResult run(const Command& cmd) = 0;
};

/// The CommandRunner of the daemon: runs the commands on a thread of its own, one at a time
/// and in order, through `runner`, and posts each result to `owner`. Destroying it lets the
/// command under way finish (bounded by the runner's limit), drops the ones not yet started,
/// and delivers no more results. Construct and destroy it on the owner's thread.
class CommandWorker final : public CommandRunner {
public:
  CommandWorker(BlockingCommandRunner& runner, boost::asio::any_io_executor owner);
  ~CommandWorker() override;
  CommandWorker(const CommandWorker&) = delete;
  CommandWorker& operator=(const CommandWorker&) = delete;

  void start(const Command& cmd, CommandDone done) override;

private:
  BlockingCommandRunner& runner_;
  boost::asio::any_io_executor owner_;
  /// Cleared on destruction: results that arrive later are dropped on the owner's thread.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  boost::asio::io_context worker_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

#ifdef _WIN32
/// Starts the command with CreateProcess (no console window, no shell), captures stdout and
/// stderr, and kills it when it outlives `timeout`.
class WindowsCommandRunner final : public BlockingCommandRunner {
public:
  explicit WindowsCommandRunner(core::Millis timeout = core::Millis(30000));
  CommandResult run(const Command& cmd) override;

private:
  core::Millis timeout_;
};
#endif

} // namespace rmha::winnlb
