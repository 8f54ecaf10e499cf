#pragma once
// Traffic steering for the Windows NLB shape: NLB owns the cluster IP on both nodes; rmha
// decides which node takes part in the cluster. acquire = start (or resume + start) the local
// node and wait until it reports converged; release = drainstop or stop; reassert = query and
// restart if needed; clearStale = stop a node left running by an earlier run.
//
//   engine (HA thread) ──acquire──▶ NlbSteering ──start(cmd)──▶ CommandRunner ──▶ powershell.exe
//        ▲                            │   ▲  ◀──result (completion)──┘ (a worker)     (nlb.exe)
//        └──────── done(ec) ◀─ timers ┘   └── poll every poll-interval until converged
//                                             or converge-timeout
//
// Every method runs on the owner's executor and returns at once: commands are started through
// the runner (a CommandWorker runs them on its own thread), one at a time and in order, and
// their results come back as completions. Each operation (acquire, release, reassert,
// clearStale) is a chain of commands; an acquire, release or clearStale supersedes the chains
// before it, whose remaining steps are dropped (the commands already started finish, in order,
// before the new operation's). The engine's SteeringDone is delivered from a timer, never
// from inside acquire()/release().
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "core/ports.h"
#include "core/time_source.h"
#include "core/timer.h"
#include "winnlb/command_runner.h"
#include "winnlb/nlb_command.h"
#include "winnlb/nlb_output.h"
#include "winnlb/nlb_state.h"

namespace rmha::winnlb {

/// How release() takes the node out (config `nlb-release`).
enum class NlbReleaseMode {
  DrainStop,  ///< finish existing connections, take no new ones, then stop
  Stop,       ///< stop at once
};
std::string_view toString(NlbReleaseMode mode);
/// Parses "drainstop" or "stop"; nullopt on anything else.
std::optional<NlbReleaseMode> parseNlbReleaseMode(std::string_view text);

struct NlbSteeringOptions {
  NlbControl control = NlbControl::PowerShell;              ///< nlb-control
  bool fallback = true;                                     ///< nlb-fallback: nlb.exe when PowerShell fails
  NlbReleaseMode releaseMode = NlbReleaseMode::DrainStop;   ///< nlb-release
  core::Millis convergeTimeout{10000};                      ///< nlb-converge-timeout
  core::Millis pollInterval{250};                           ///< nlb-poll-interval
  NlbTarget target;  ///< nlb-host, nlb-interface, nlb-cluster, nlb-drain-timeout
};

/// One sentence per problem with `options` (what to write instead); empty when usable.
std::vector<std::string> validateNlbOptions(const NlbSteeringOptions& options);

/// Why an NLB operation failed (std::error_code category "nlb").
enum class NlbErrc {
  CommandFailed = 1,   ///< the start/resume command failed (both forms, when falling back)
  QueryFailed,         ///< the node's state could not be read
  ConvergeTimeout,     ///< started, but not converged within nlb-converge-timeout
  MediaDisconnected,   ///< the cluster NIC has no link: this node cannot carry traffic
  Superseded,          ///< a release() or a newer acquire() replaced this acquire
  BadOptions,          ///< the options failed validateNlbOptions()
};
const std::error_category& nlbCategory();
std::error_code make_error_code(NlbErrc e);

class NlbSteering final : public core::TrafficSteering {
public:
  /// `runner` and `timers` must outlive the steering. Invalid options are logged and make
  /// every operation fail with NlbErrc::BadOptions (the config loader should have refused them).
  NlbSteering(NlbSteeringOptions options, CommandRunner& runner, core::TimerFactory& timers);
  ~NlbSteering() override;
  NlbSteering(const NlbSteering&) = delete;
  NlbSteering& operator=(const NlbSteering&) = delete;

  /// NLB reports no conflicts (it owns the cluster IP on every node): the sink is kept only.
  void setEvents(core::SteeringEvents& sink) override;
  /// Starts (or resumes and starts) the local node and polls until it is converged. `done`
  /// gets no error once converged, or an NlbErrc; it always runs from a timer callback.
  /// nlb-converge-timeout bounds the whole claim, its commands included.
  void acquire(core::SteeringDone done) override;
  /// Drainstop or stop per nlb-release; a pending acquire completes with Superseded.
  void release() override;
  /// Queries the node and starts it again if it is not converged or converging.
  void reassert() override;
  /// Stops the node unless it already reports stopped (used when starting as not active).
  void clearStale() override;
  /// "nlb node RM1 on 'Ethernet 2' via powershell, release drainstop, last state converged".
  std::string describe() const override;

  /// Queries the node (queued behind the commands under way) and records its state: the
  /// engine's fitness input. `then` gets the parsed status or why it could not be read.
  using QueryDone = std::function<void(Parsed<NlbNodeStatus>)>;
  void queryNode(QueryDone then);
  /// Commands started and not yet finished, plus those queued behind them.
  std::size_t commandsOutstanding() const { return queue_.size() + (busy_ ? 1 : 0); }
  /// The state of the last successful query (Unknown before the first).
  NlbNodeState lastState() const { return lastState_; }
  /// False when the last query reported the cluster NIC media-disconnected.
  bool fitForActive() const { return isFitForActive(lastState_); }
  /// The control form in use (nlb.exe once PowerShell proved impossible to start).
  NlbControl control() const { return control_; }

private:
  struct Run {
    Command cmd;
    CommandResult result;
  };
  using RunDone = std::function<void(Run)>;
  struct Job {
    Command cmd;
    RunDone then;
  };
  // One command through the runner, queued behind the one under way.
  void runOnce(NlbControl control, NlbVerb verb, RunDone then);
  // The verb in the control form in use, with the nlb.exe fallback.
  void run(NlbVerb verb, RunDone then);
  void pump();
  void onFinished(Job job, CommandResult result);
  // Resume (when suspended) then start; `then(true)` once the start was accepted.
  void startNode(const std::optional<NlbNodeStatus>& before, std::function<void(bool)> then);
  // Wraps a step of an operation: it runs only while no later acquire, release or clearStale
  // superseded the operation (and while the steering exists).
  template <class F>
  auto step(F f);
  // Ends the acquire under way (Superseded) and drops the rest of every earlier chain.
  void supersede();
  void onPoll();
  void onDeadline();
  void complete(std::error_code ec);
  void deliver(core::SteeringDone done, std::error_code ec);
  void flushCompletions();

  NlbSteeringOptions options_;
  CommandRunner& runner_;
  std::vector<std::string> problems_;
  NlbControl control_;
  core::SteeringEvents* events_ = nullptr;
  NlbNodeState lastState_ = NlbNodeState::Unknown;
  core::SteeringDone pending_;  // the acquire in progress, if any
  std::deque<Job> queue_;       // commands not yet started
  bool busy_ = false;           // a command is under way
  std::uint64_t epoch_ = 0;     // bumped by acquire, release and clearStale
  bool reasserting_ = false;    // a reassert's chain runs
  bool polling_ = false;        // a poll's query is outstanding
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::vector<std::pair<core::SteeringDone, std::error_code>> completions_;
  core::TimerPtr poll_;
  core::TimerPtr deadline_;
  core::TimerPtr finish_;
};

} // namespace rmha::winnlb

template <>
struct std::is_error_code_enum<rmha::winnlb::NlbErrc> : std::true_type {};
