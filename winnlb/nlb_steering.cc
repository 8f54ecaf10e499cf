#include "winnlb/nlb_steering.h"

#include <fmt/format.h>

#include "core/log.h"

namespace rmha::winnlb {
namespace {

constexpr core::Millis kMinConvergeTimeout{1000};
constexpr core::Millis kMaxConvergeTimeout{300000};
constexpr core::Millis kMinPoll{50};
constexpr core::Millis kMaxPoll{5000};
constexpr unsigned kMaxDrainMinutes = 60;

class NlbCategory final : public std::error_category {
public:
  const char* name() const noexcept override { return "nlb"; }
  std::string message(int ev) const override {
    switch (static_cast<NlbErrc>(ev)) {
      case NlbErrc::CommandFailed: return "NLB control command failed";
      case NlbErrc::QueryFailed: return "NLB node state could not be read";
      case NlbErrc::ConvergeTimeout: return "NLB node did not converge in time";
      case NlbErrc::MediaDisconnected: return "NLB cluster interface is media-disconnected";
      case NlbErrc::Superseded: return "NLB acquire superseded by a release or a newer acquire";
      case NlbErrc::BadOptions: return "NLB options are invalid";
    }
    return "unknown NLB error";
  }
};

// A control verb did what was asked: exit 0, or (nlb.exe) a WLBS code that is not a failure.
bool verbSucceeded(const Command& cmd, const CommandResult& r) {
  if (!r.launched()) {
    return false;
  }
  if (r.exitCode == 0) {
    return true;
  }
  if (cmd.control == NlbControl::PowerShell) {
    return false;
  }
  const auto code = wlbsCodeFromInt(r.exitCode);
  return code && wlbsCodeIsSuccess(*code);
}

std::string why(const CommandResult& r) {
  if (!r.launched()) {
    return r.launchError.message();
  }
  const auto& text = r.err.empty() ? r.out : r.err;
  return fmt::format("exit {}: {}", r.exitCode, firstLine(text));
}

} // namespace

std::string_view toString(NlbReleaseMode mode) {
  return mode == NlbReleaseMode::Stop ? "stop" : "drainstop";
}

std::optional<NlbReleaseMode> parseNlbReleaseMode(std::string_view text) {
  if (text == "drainstop") {
    return NlbReleaseMode::DrainStop;
  }
  if (text == "stop") {
    return NlbReleaseMode::Stop;
  }
  return std::nullopt;
}

const std::error_category& nlbCategory() {
  static const NlbCategory category;
  return category;
}

std::error_code make_error_code(NlbErrc e) { return {static_cast<int>(e), nlbCategory()}; }

std::vector<std::string> validateNlbOptions(const NlbSteeringOptions& o) {
  std::vector<std::string> problems;
  for (const auto& [key, value] : {std::pair<const char*, const std::string*>{
                                       "nlb-host", &o.target.hostName},
                                   {"nlb-interface", &o.target.interfaceName},
                                   {"nlb-cluster", &o.target.cluster}}) {
    if (auto p = checkNlbName(key, *value)) {
      problems.push_back(std::move(*p));
    }
  }
  if (o.convergeTimeout < kMinConvergeTimeout || o.convergeTimeout > kMaxConvergeTimeout) {
    problems.push_back(fmt::format(
        "nlb-converge-timeout is {} ms: write a value from {} to {} (NLB converges in 2.5-3 s "
        "after the heartbeat timeout)", o.convergeTimeout.count(), kMinConvergeTimeout.count(),
        kMaxConvergeTimeout.count()));
  }
  if (o.pollInterval < kMinPoll || o.pollInterval > kMaxPoll ||
      o.pollInterval >= o.convergeTimeout) {
    problems.push_back(fmt::format(
        "nlb-poll-interval is {} ms: write a value from {} to {} that is below "
        "nlb-converge-timeout", o.pollInterval.count(), kMinPoll.count(), kMaxPoll.count()));
  }
  if (o.target.drainTimeoutMinutes < 1 || o.target.drainTimeoutMinutes > kMaxDrainMinutes) {
    problems.push_back(fmt::format("nlb-drain-timeout is {} minutes: write 1 to {}",
                                   o.target.drainTimeoutMinutes, kMaxDrainMinutes));
  }
  if (o.control != NlbControl::PowerShell && !o.target.interfaceName.empty()) {
    problems.push_back("nlb-interface is used by nlb-control = powershell only: remove it, or "
                       "name the cluster with nlb-cluster for nlb.exe");
  }
  return problems;
}

NlbSteering::NlbSteering(NlbSteeringOptions options, CommandRunner& runner,
                         core::TimerFactory& timers)
    : options_(std::move(options)),
      runner_(runner),
      problems_(validateNlbOptions(options_)),
      control_(options_.control),
      poll_(timers.createTimer([this] { onPoll(); })),
      deadline_(timers.createTimer([this] { onDeadline(); })),
      finish_(timers.createTimer([this] { flushCompletions(); })) {
  for (const auto& p : problems_) {
    RMHA_LOG(Error, "nlb", "invalid option: {}", p);
  }
}

NlbSteering::~NlbSteering() { *alive_ = false; }

void NlbSteering::setEvents(core::SteeringEvents& sink) { events_ = &sink; }

template <class F>
auto NlbSteering::step(F f) {
  return [this, f = std::move(f), epoch = epoch_](auto&&... args) mutable {
    if (epoch == epoch_) {
      f(std::forward<decltype(args)>(args)...);
    }
  };
}

void NlbSteering::runOnce(NlbControl control, NlbVerb verb, RunDone then) {
  auto built = buildNlbCommand(control, verb, options_.target);
  if (!built) {
    Run r;
    r.cmd.control = control;
    r.cmd.verb = verb;
    r.result.launchError = make_error_code(NlbErrc::BadOptions);
    then(std::move(r));
    return;
  }
  queue_.push_back(Job{std::move(built).value(), std::move(then)});
  pump();
}

void NlbSteering::pump() {
  if (busy_ || queue_.empty()) {
    return;
  }
  busy_ = true;
  auto job = std::move(queue_.front());
  queue_.pop_front();
  const auto cmd = job.cmd;
  // The result may come back before start() returns (a fake) or later (the worker).
  runner_.start(cmd, [this, alive = alive_, job = std::move(job)](CommandResult r) mutable {
    if (*alive) {
      onFinished(std::move(job), std::move(r));
    }
  });
}

void NlbSteering::onFinished(Job job, CommandResult result) {
  busy_ = false;
  RMHA_LOG(Debug, "nlb", "{} {}: {}", toString(job.cmd.control), toString(job.cmd.verb),
           result.launched() ? fmt::format("exit {}", result.exitCode)
                             : result.launchError.message());
  const auto alive = alive_;
  job.then(Run{std::move(job.cmd), std::move(result)});
  if (*alive) {
    pump();
  }
}

void NlbSteering::run(NlbVerb verb, RunDone then) {
  runOnce(control_, verb, [this, verb, then = std::move(then)](Run first) mutable {
    if (first.cmd.control != NlbControl::PowerShell || !options_.fallback ||
        verbSucceeded(first.cmd, first.result)) {
      then(std::move(first));
      return;
    }
    if (!first.result.launched()) {
      // No PowerShell on this host: do not pay for a failed start on every poll.
      RMHA_LOG(Warn, "nlb", "powershell could not start ({}): using nlb.exe from now on",
               first.result.launchError.message());
      control_ = NlbControl::NlbExe;
    } else {
      RMHA_LOG(Warn, "nlb", "powershell {} failed ({}): trying nlb.exe", toString(verb),
               why(first.result));
    }
    runOnce(NlbControl::NlbExe, verb, std::move(then));
  });
}

void NlbSteering::queryNode(QueryDone then) {
  if (!problems_.empty()) {
    then(Parsed<NlbNodeStatus>::fail(problems_.front()));
    return;
  }
  run(NlbVerb::Query, [this, then = std::move(then)](Run r) {
    auto st = parseQueryResult(r.cmd, r.result, options_.target.hostName);
    if (!st) {
      RMHA_LOG(Warn, "nlb", "node query failed: {}", st.error());
    } else if (st->state != lastState_) {
      RMHA_LOG(Info, "nlb", "node state {} -> {} (reported \"{}\")", toString(lastState_),
               toString(st->state), st->reported);
      lastState_ = st->state;
    }
    then(std::move(st));
  });
}

void NlbSteering::startNode(const std::optional<NlbNodeStatus>& before,
                            std::function<void(bool)> then) {
  auto start = [this, then](Run r) {
    if (!verbSucceeded(r.cmd, r.result)) {
      RMHA_LOG(Error, "nlb", "start failed: {}", why(r.result));
      then(false);
      return;
    }
    RMHA_LOG(Info, "nlb", "node started, waiting up to {} ms for convergence",
             options_.convergeTimeout.count());
    then(true);
  };
  if (before && before->state == NlbNodeState::Suspended) {
    // A suspended node obeys nothing but resume; resume leaves it stopped.
    run(NlbVerb::Resume, step([this, then, start](Run r) {
          if (!verbSucceeded(r.cmd, r.result)) {
            RMHA_LOG(Error, "nlb", "resume failed: {}", why(r.result));
            then(false);
            return;
          }
          run(NlbVerb::Start, step(start));
        }));
    return;
  }
  run(NlbVerb::Start, step(start));
}

void NlbSteering::supersede() {
  complete(make_error_code(NlbErrc::Superseded));  // an earlier acquire still waiting
  ++epoch_;  // the steps of every earlier chain are dropped as their commands finish
  reasserting_ = false;
  polling_ = false;
}

void NlbSteering::acquire(core::SteeringDone done) {
  supersede();
  if (!problems_.empty()) {
    deliver(std::move(done), make_error_code(NlbErrc::BadOptions));
    return;
  }
  pending_ = std::move(done);
  deadline_->enable(options_.convergeTimeout);
  queryNode(step([this](Parsed<NlbNodeStatus> st) {
    std::optional<NlbNodeStatus> before;
    if (st) {
      before = st.value();
    }
    if (before && before->state == NlbNodeState::MediaDisconnected) {
      complete(make_error_code(NlbErrc::MediaDisconnected));
      return;
    }
    if (before && isConverged(before->state)) {
      complete({});
      return;
    }
    // A node already converging needs no start; anything else (or an unreadable state) does.
    if (before && before->state == NlbNodeState::Converging) {
      poll_->enable(options_.pollInterval);
      return;
    }
    startNode(before, step([this](bool started) {
                if (!started) {
                  complete(make_error_code(NlbErrc::CommandFailed));
                  return;
                }
                poll_->enable(options_.pollInterval);
              }));
  }));
}

void NlbSteering::onPoll() {
  if (!pending_ || polling_) {
    return;
  }
  polling_ = true;
  queryNode(step([this](Parsed<NlbNodeStatus> st) {
    polling_ = false;
    if (!pending_) {
      return;
    }
    if (st && isConverged(st->state)) {
      complete({});
      return;
    }
    if (st && st->state == NlbNodeState::MediaDisconnected) {
      complete(make_error_code(NlbErrc::MediaDisconnected));
      return;
    }
    poll_->enable(options_.pollInterval);
  }));
}

void NlbSteering::onDeadline() {
  RMHA_LOG(Error, "nlb", "node not converged within {} ms (last state {}{})",
           options_.convergeTimeout.count(), toString(lastState_),
           busy_ ? ", a command still running" : "");
  complete(make_error_code(NlbErrc::ConvergeTimeout));
}

void NlbSteering::complete(std::error_code ec) {
  poll_->disable();
  deadline_->disable();
  if (!pending_) {
    return;
  }
  auto done = std::move(pending_);
  pending_ = nullptr;
  ++epoch_;  // the claim is over: a late answer to one of its commands starts nothing
  polling_ = false;
  if (ec) {
    RMHA_LOG(Warn, "nlb", "acquire failed: {}", ec.message());
  } else {
    RMHA_LOG(Info, "nlb", "acquired: node {}", toString(lastState_));
  }
  deliver(std::move(done), ec);
}

void NlbSteering::deliver(core::SteeringDone done, std::error_code ec) {
  // Never call back from inside acquire()/release(): the engine may be mid-transition.
  completions_.emplace_back(std::move(done), ec);
  finish_->enable(core::Duration::zero());
}

void NlbSteering::flushCompletions() {
  auto ready = std::move(completions_);
  completions_.clear();
  for (auto& [done, ec] : ready) {
    if (done) {
      done(ec);
    }
  }
}

void NlbSteering::release() {
  supersede();
  if (!problems_.empty()) {
    RMHA_LOG(Error, "nlb", "release skipped: invalid options");
    return;
  }
  const auto verb =
      options_.releaseMode == NlbReleaseMode::Stop ? NlbVerb::Stop : NlbVerb::DrainStop;
  run(verb, [verb](Run r) {
    if (!verbSucceeded(r.cmd, r.result)) {
      RMHA_LOG(Error, "nlb", "release: {} failed: {}", toString(verb), why(r.result));
      return;
    }
    RMHA_LOG(Info, "nlb", "released: {}", toString(verb));
  });
}

void NlbSteering::reassert() {
  if (pending_ || reasserting_ || !problems_.empty()) {
    return;  // an acquire is already bringing the node up, or a reassert runs
  }
  reasserting_ = true;
  // Every step runs only while no later operation superseded this one (which clears the
  // flag itself), so each end of the chain simply clears it.
  const auto finished = [this] { reasserting_ = false; };
  queryNode(step([this, finished](Parsed<NlbNodeStatus> st) {
    if (!st) {
      finished();
      return;
    }
    const auto state = st->state;
    if (isConverged(state) || state == NlbNodeState::Converging) {
      finished();
      return;
    }
    if (state == NlbNodeState::MediaDisconnected) {
      RMHA_LOG(Warn, "nlb", "reassert: cluster interface media-disconnected, nothing to do");
      finished();
      return;
    }
    RMHA_LOG(Warn, "nlb", "reassert: node {} while active, starting it again", toString(state));
    startNode(st.value(), [finished](bool) { finished(); });
  }));
}

void NlbSteering::clearStale() {
  supersede();
  if (!problems_.empty()) {
    return;
  }
  queryNode(step([this](Parsed<NlbNodeStatus> st) {
    if (st && st->state == NlbNodeState::Stopped) {
      return;
    }
    // Not active: a node left in the cluster by an earlier run would take traffic we do not
    // serve. Stop at once, no drain: nothing of ours is running on it.
    run(NlbVerb::Stop, [this](Run r) {
      if (!verbSucceeded(r.cmd, r.result)) {
        RMHA_LOG(Error, "nlb", "clear stale: stop failed: {}", why(r.result));
        return;
      }
      RMHA_LOG(Info, "nlb", "clear stale: node was {}, stopped", toString(lastState_));
    });
  }));
}

std::string NlbSteering::describe() const {
  const auto& t = options_.target;
  return fmt::format(
      "nlb node {} on {} via {}{}, release {}, last state {}",
      t.hostName.empty() ? "(local)" : t.hostName,
      t.interfaceName.empty() ? "(default interface)" : "'" + t.interfaceName + "'",
      toString(control_),
      control_ == NlbControl::PowerShell && options_.fallback ? " (nlb.exe fallback)" : "",
      toString(options_.releaseMode), toString(lastState_));
}

} // namespace rmha::winnlb
