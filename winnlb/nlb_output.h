#pragma once
// Reading what the NLB node says about itself: the JSON of Get-NlbClusterNode | ConvertTo-Json
// (primary) and the console text of `nlb query` (fallback). Pure; bad input gives an error
// sentence, never an exception or a crash.
#include <string>
#include <string_view>

#include "winnlb/command_runner.h"
#include "winnlb/nlb_result.h"
#include "winnlb/nlb_state.h"

namespace rmha::winnlb {

/// The local node as one query reported it.
struct NlbNodeStatus {
  NlbNodeState state = NlbNodeState::Unknown;
  std::string name;           ///< node name (PowerShell), "" from nlb.exe
  std::string interfaceName;  ///< interface NLB is bound to (PowerShell), "" from nlb.exe
  int hostId = 0;             ///< host id ("Host N" of nlb.exe), 0 when not reported
  int hostPriority = 0;       ///< host priority (PowerShell), 0 when not reported
  std::string reported;       ///< the state as the tool wrote it, for logs and status
};

/// Maps a reported state name or WLBS code ("Converged", "Converged(default)", "1007"...),
/// case-insensitively, to a state; fails on anything else.
Parsed<NlbNodeState> parseStateName(std::string_view text);

/// Parses Get-NlbClusterNode JSON: one object or an array of them. With several nodes the
/// one whose Name matches `nodeName` (case-insensitive; a short name matches its FQDN) is
/// taken. A State that is present but unknown gives NlbNodeState::Unknown, not an error.
Parsed<NlbNodeStatus> parseNodeJson(std::string_view json, std::string_view nodeName);

/// Parses the console text of `nlb query` / `wlbs query`.
Parsed<NlbNodeStatus> parseQueryText(std::string_view text);

/// Interprets a finished query command of either form: exit code, stdout, stderr.
/// nlb.exe's exit code is used as a WLBS state code only when its text says nothing usable.
Parsed<NlbNodeStatus> parseQueryResult(const Command& cmd, const CommandResult& result,
                                       std::string_view nodeName);

/// The first line of `text`, trimmed and cut to `max` characters, for error messages.
std::string firstLine(std::string_view text, std::size_t max = 120);

} // namespace rmha::winnlb
