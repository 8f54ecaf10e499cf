#pragma once
// rmhad's composition root: builds every adapter from the configuration, wires them to the
// HA engine and runs the HA thread. The only code that knows every adapter.
#include <memory>

#include "failover/daemon/daemon_config.h"

namespace rmha::daemon {

class Daemon {
public:
  explicit Daemon(DaemonConfig config);
  ~Daemon();
  /// Runs until SIGTERM/SIGINT. Returns the process exit code. When `readyFd` >= 0, writes
  /// "ready\n" to it and closes it once every socket is open and the engine has started.
  int run(int readyFd = -1);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace rmha::daemon
