// rmhad: the rmha daemon.
#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "core/log.h"
#include "failover/daemon/daemon.h"
#include "rmha_version.h"

int main(int argc, char** argv) {
  // A log reader or control client that went away must cost an EPIPE, never the daemon.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"rmhad - SIP Resource Manager high-availability daemon"};
  std::string config = "/etc/rmha/rmha.conf";
  std::string check;
  app.add_option("-c,--config", config, "configuration file")->capture_default_str();
  app.add_option("--check-config", check,
                 "validate FILE and exit: 0 when valid (warnings about interfaces this host "
                 "lacks go to stderr), 2 with the errors otherwise");
  int readyFd = -1;
  app.add_option("--ready-fd", readyFd,
                 "write \"ready\" to this file descriptor once started (for scripts)");
  std::vector<std::string> hookValues;
  app.add_option("--test-hook", hookValues,
                 "for tests and benchmarks only: no-replication, synthetic-sessions=N, "
                 "corrupt-replication=N (repeatable)");
  app.set_version_flag("--version", "rmhad " RMHA_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  rmha::daemon::TestHooks hooks;
  for (const auto& v : hookValues) {
    if (const auto problem = rmha::daemon::addTestHook(v, hooks); !problem.empty()) {
      std::cerr << "rmhad: " << problem << "\n";
      return 2;
    }
  }
  try {
    const auto cfg = rmha::daemon::loadDaemonConfig(check.empty() ? config : check);
    if (!check.empty()) {
      // Interfaces this host lacks are warnings: the file may be prepared for another host.
      for (const auto& w : rmha::daemon::hostWarnings(cfg)) {
        std::cerr << w << "\n";
      }
      std::cout << check << ": OK: " << rmha::daemon::describe(cfg) << "\n";
      return 0;
    }
    // From here no log call blocks: lines go through a bounded queue to a writer thread. At
    // exit (any path) what is queued gets a bounded time to be written.
    rmha::core::Log::startAsync(cfg.log.syslogPrefix);
    struct LogStop {
      ~LogStop() { rmha::core::Log::stopAsync(); }
    } logStop;
    rmha::daemon::Daemon daemon(cfg, hooks);
    return daemon.run(readyFd);
  } catch (const rmha::core::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "rmhad: " << e.what() << "\n";
    return 1;
  }
}
