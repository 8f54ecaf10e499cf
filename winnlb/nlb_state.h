#pragma once
// The state of the local NLB node and the WLBS provider's return codes.
#include <optional>
#include <string_view>

namespace rmha::winnlb {

/// What the local NLB node reports about itself.
enum class NlbNodeState {
  Unknown,            ///< not reported, or a state rmha does not know
  Stopped,            ///< cluster operations stopped: receives no cluster traffic
  Converging,         ///< joining; traffic split not settled yet
  Converged,          ///< in the cluster, handling its share of the traffic
  ConvergedDefault,   ///< converged as the default (highest-priority) host
  Draining,           ///< finishing existing connections, taking no new ones
  Suspended,          ///< cluster control suspended: only `resume` is obeyed
  MediaDisconnected,  ///< the cluster NIC has no link: unfit to be active
};

std::string_view toString(NlbNodeState state);

/// True for Converged and ConvergedDefault: the node receives its share of the traffic.
constexpr bool isConverged(NlbNodeState s) {
  return s == NlbNodeState::Converged || s == NlbNodeState::ConvergedDefault;
}

/// False when the node cannot carry traffic whatever we do (its cluster NIC has no link).
constexpr bool isFitForActive(NlbNodeState s) { return s != NlbNodeState::MediaDisconnected; }

/// Return values of the WLBS provider (nlb.exe / wlbs.exe, WMI MicrosoftNLB).
enum class WlbsCode : int {
  Ok = 1000,
  Already = 1001,
  DrainStop = 1002,
  BadParams = 1003,
  NotFound = 1004,
  Stopped = 1005,
  Converging = 1006,
  Converged = 1007,
  ConvergedDefault = 1008,
  Draining = 1009,
  Suspended = 1013,
  MediaDisconnected = 1014,
};

std::string_view toString(WlbsCode code);

/// The code for a number, or nullopt when the number is not a known WLBS code.
std::optional<WlbsCode> wlbsCodeFromInt(int value);

/// The node state a code reports, or nullopt for codes that are not states (1000..1004).
std::optional<NlbNodeState> stateFromWlbsCode(WlbsCode code);

/// True when a control command that returned `code` did what was asked (or found it done).
bool wlbsCodeIsSuccess(WlbsCode code);

} // namespace rmha::winnlb
