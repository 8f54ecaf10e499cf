#pragma once
// The process seam: NlbSteering runs its commands through a CommandRunner. The real runner
// starts processes on Windows (CreateProcess, pipes); unit tests use a fake that plays an NLB
// node. Nothing here is Windows-specific except the real runner's declaration.
#include <string>
#include <system_error>

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

class CommandRunner {
public:
  virtual ~CommandRunner() = default;
  /// Runs `cmd` to completion, bounded by the runner's own time limit, and returns its exit
  /// code and output. Blocks the caller (the owner's executor) for the command's duration.
  virtual CommandResult run(const Command& cmd) = 0;
};

#ifdef _WIN32
/// Starts the command with CreateProcess (no console window, no shell), captures stdout and
/// stderr, and kills it when it outlives `timeout`.
class WindowsCommandRunner final : public CommandRunner {
public:
  explicit WindowsCommandRunner(core::Millis timeout = core::Millis(30000));
  CommandResult run(const Command& cmd) override;

private:
  core::Millis timeout_;
};
#endif

} // namespace rmha::winnlb
