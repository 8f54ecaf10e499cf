#include "winnlb/nlb_state.h"

namespace rmha::winnlb {

std::string_view toString(NlbNodeState state) {
  switch (state) {
    case NlbNodeState::Unknown: return "unknown";
    case NlbNodeState::Stopped: return "stopped";
    case NlbNodeState::Converging: return "converging";
    case NlbNodeState::Converged: return "converged";
    case NlbNodeState::ConvergedDefault: return "converged-default";
    case NlbNodeState::Draining: return "draining";
    case NlbNodeState::Suspended: return "suspended";
    case NlbNodeState::MediaDisconnected: return "media-disconnected";
  }
  return "unknown";
}

std::string_view toString(WlbsCode code) {
  switch (code) {
    case WlbsCode::Ok: return "ok";
    case WlbsCode::Already: return "already";
    case WlbsCode::DrainStop: return "drain-stop";
    case WlbsCode::BadParams: return "bad-params";
    case WlbsCode::NotFound: return "not-found";
    case WlbsCode::Stopped: return "stopped";
    case WlbsCode::Converging: return "converging";
    case WlbsCode::Converged: return "converged";
    case WlbsCode::ConvergedDefault: return "converged-default";
    case WlbsCode::Draining: return "draining";
    case WlbsCode::Suspended: return "suspended";
    case WlbsCode::MediaDisconnected: return "media-disconnected";
  }
  return "unknown";
}

std::optional<WlbsCode> wlbsCodeFromInt(int value) {
  switch (value) {
    case 1000: case 1001: case 1002: case 1003: case 1004: case 1005: case 1006: case 1007:
    case 1008: case 1009: case 1013: case 1014:
      return static_cast<WlbsCode>(value);
    default:
      return std::nullopt;
  }
}

std::optional<NlbNodeState> stateFromWlbsCode(WlbsCode code) {
  switch (code) {
    case WlbsCode::Stopped: return NlbNodeState::Stopped;
    case WlbsCode::Converging: return NlbNodeState::Converging;
    case WlbsCode::Converged: return NlbNodeState::Converged;
    case WlbsCode::ConvergedDefault: return NlbNodeState::ConvergedDefault;
    case WlbsCode::Draining: return NlbNodeState::Draining;
    case WlbsCode::Suspended: return NlbNodeState::Suspended;
    case WlbsCode::MediaDisconnected: return NlbNodeState::MediaDisconnected;
    default: return std::nullopt;
  }
}

bool wlbsCodeIsSuccess(WlbsCode code) {
  // A control verb answers with the state it left the node in, or ok/already/drain-stop;
  // only bad parameters and "not found" (no such cluster or host) are failures.
  return code != WlbsCode::BadParams && code != WlbsCode::NotFound;
}

} // namespace rmha::winnlb
