#pragma once
// A fake NLB node behind the CommandRunner seam: it obeys start/stop/drainstop/suspend/resume
// and answers queries in the form asked (PowerShell JSON or nlb.exe text), converging a set
// number of queries after a start. Every command is logged as "<control>:<verb>" when it runs.
// As a CommandRunner it completes each command before start() returns, or, when `deferred`,
// holds it until finishNext() (a command still running); it is also a BlockingCommandRunner
// for the CommandWorker's tests.
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "winnlb/command_runner.h"
#include "winnlb/nlb_state.h"

namespace rmha::winnlb::test {

class FakeNlbNode final : public CommandRunner, public BlockingCommandRunner {
public:
  NlbNodeState state = NlbNodeState::Stopped;
  int queriesToConverge = 2;        ///< queries answered "converging" after a start
  bool powershellMissing = false;   ///< powershell.exe cannot be started
  bool powershellBroken = false;    ///< powershell.exe runs but every cmdlet fails (exit 1)
  bool startFails = false;          ///< start is refused in either form
  bool mediaDisconnectOnStart = false;
  bool deferred = false;            ///< start() holds commands until finishNext()
  std::vector<std::string> log;

  void start(const Command& cmd, CommandDone done) override {
    if (!deferred) {
      done(run(cmd));
      return;
    }
    held_.emplace_back(cmd, std::move(done));
  }
  /// Commands started and not finished (deferred mode).
  std::size_t held() const { return held_.size(); }
  /// Runs the oldest held command and delivers its result; false when none is held.
  bool finishNext() {
    if (held_.empty()) {
      return false;
    }
    auto [cmd, done] = std::move(held_.front());
    held_.pop_front();
    done(run(cmd));
    return true;
  }

  CommandResult run(const Command& cmd) override {
    log.push_back(fmt::format("{}:{}", toString(cmd.control), toString(cmd.verb)));
    const bool ps = cmd.control == NlbControl::PowerShell;
    if (ps && powershellMissing) {
      return {std::make_error_code(std::errc::no_such_file_or_directory), -1, "", ""};
    }
    if (ps && powershellBroken) {
      return {{}, 1, "", "Import-Module : The specified module was not loaded"};
    }
    switch (cmd.verb) {
      case NlbVerb::Query: return query(ps);
      case NlbVerb::Start: return start(ps);
      case NlbVerb::Stop:
      case NlbVerb::DrainStop:
        if (state == NlbNodeState::Suspended) {
          return refused(ps, 1013);
        }
        state = NlbNodeState::Stopped;
        return ok(ps, 1005);
      case NlbVerb::Suspend: state = NlbNodeState::Suspended; return ok(ps, 1013);
      case NlbVerb::Resume: state = NlbNodeState::Stopped; return ok(ps, 1000);
    }
    return {};
  }

private:
  static CommandResult ok(bool ps, int code) { return {{}, ps ? 0 : code, "", ""}; }
  static CommandResult refused(bool ps, int code) {
    return {{}, ps ? 1 : code, "", "operation refused"};
  }

  CommandResult start(bool ps) {
    if (startFails) {
      return {{}, ps ? 1 : 1004, "", "start failed"};
    }
    if (state == NlbNodeState::Suspended) {
      return refused(ps, 1013);
    }
    if (mediaDisconnectOnStart) {
      state = NlbNodeState::MediaDisconnected;
      return ok(ps, 1014);
    }
    if (!isConverged(state)) {
      state = NlbNodeState::Converging;
      left_ = queriesToConverge;
    }
    return ok(ps, 1006);
  }

  CommandResult query(bool ps) {
    if (state == NlbNodeState::Converging && left_-- <= 0) {
      state = NlbNodeState::Converged;
    }
    if (ps) {
      return {{}, 0,
              fmt::format(R"({{"Name":"RM1","InterfaceName":"Ethernet 2","HostPriority":1,)"
                          R"("State":"{}"}})",
                          psName()),
              ""};
    }
    return {{}, 0, fmt::format("Cluster 192.0.2.10\r\nHost 1 {}\r\n", textLine()), ""};
  }

  const char* psName() const {
    switch (state) {
      case NlbNodeState::Converged: return "Converged";
      case NlbNodeState::ConvergedDefault: return "Converged(default)";
      case NlbNodeState::Converging: return "Converging";
      case NlbNodeState::Draining: return "Draining";
      case NlbNodeState::Stopped: return "Stopped";
      case NlbNodeState::Suspended: return "Suspended";
      case NlbNodeState::MediaDisconnected: return "MediaDisconnected";
      case NlbNodeState::Unknown: return "Unknown";
    }
    return "Unknown";
  }

  const char* textLine() const {
    switch (state) {
      case NlbNodeState::Converged: return "converged with the following host(s) as part of the cluster:";
      case NlbNodeState::ConvergedDefault: return "converged as DEFAULT with the following host(s):";
      case NlbNodeState::Converging: return "is converging with the following host(s):";
      case NlbNodeState::Draining: return "is draining existing connections.";
      case NlbNodeState::Stopped: return "is stopped and does not know convergence state of the cluster.";
      case NlbNodeState::Suspended: return "cluster operations are suspended.";
      case NlbNodeState::MediaDisconnected: return "reports media disconnected.";
      case NlbNodeState::Unknown: return "is in an unknown state.";
    }
    return "";
  }

  int left_ = 0;
  std::deque<std::pair<Command, CommandDone>> held_;
};

} // namespace rmha::winnlb::test
