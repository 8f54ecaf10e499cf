#pragma once
// rmhad's composition root: builds every adapter from the configuration, wires them to the
// HA engine and runs the HA thread. The only code that knows every adapter.
#include <cstdint>
#include <memory>
#include <string>

#include "failover/daemon/daemon_config.h"

namespace rmha::daemon {

/// Hooks for tests and benchmarks only (rmhad --test-hook NAME[=N]); each is logged loudly.
struct TestHooks {
  bool noReplication = false;          ///< no-replication: the benchmark's baseline pair
  std::uint64_t syntheticSessions = 0; ///< synthetic-sessions=N: N made-up sessions when first active
  std::uint64_t corruptReplication = 0;///< corrupt-replication=N: corrupt the Nth payload sent
};

/// Adds one `--test-hook` value to `hooks`; "" when understood, otherwise what is wrong.
std::string addTestHook(const std::string& value, TestHooks& hooks);

class Daemon {
public:
  explicit Daemon(DaemonConfig config, TestHooks hooks = {});
  ~Daemon();
  /// Runs until SIGTERM/SIGINT. Returns the process exit code. When `readyFd` >= 0, writes
  /// "ready\n" to it and closes it once every socket is open and the engine has started.
  int run(int readyFd = -1);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace rmha::daemon
