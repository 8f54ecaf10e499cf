#pragma once
// Command lines that drive the local NLB node. Pure: builds argument vectors and the Windows
// command line, runs nothing. PowerShell (NetworkLoadBalancingClusters module, JSON output) is
// the primary form; nlb.exe (or the legacy wlbs.exe) with console text is the fallback.
//
// Names from the configuration end up inside a PowerShell single-quoted string and a Windows
// command line. Rather than escape every metacharacter of two languages, only a plain set of
// characters is accepted (letters, digits, space, . _ - ( ) #); anything else is refused when
// the command is built, with a sentence saying so.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "winnlb/nlb_result.h"

namespace rmha::winnlb {

/// How the node is driven (config `nlb-control`).
enum class NlbControl { PowerShell, NlbExe, WlbsExe };

/// What is asked of the node.
enum class NlbVerb { Query, Start, Stop, DrainStop, Suspend, Resume };

std::string_view toString(NlbControl control);
std::string_view toString(NlbVerb verb);
/// Parses "powershell", "nlb-exe", "wlbs-exe"; nullopt on anything else.
std::optional<NlbControl> parseNlbControl(std::string_view text);

/// Which node and cluster the commands address.
struct NlbTarget {
  /// The NLB node (host) name; "" = the local host. PowerShell -NodeName / -HostName.
  std::string hostName;
  /// The interface NLB is bound to; "" = let NLB pick (single-cluster hosts). PowerShell only.
  std::string interfaceName;
  /// nlb.exe: the cluster's name or primary IP; "" = every cluster on this host.
  std::string cluster;
  /// PowerShell Stop-NlbClusterNode -Drain -Timeout: minutes to wait for connections to end.
  unsigned drainTimeoutMinutes = 1;
};

/// One process to start: program, arguments, and what it was built for.
struct Command {
  NlbControl control = NlbControl::PowerShell;
  NlbVerb verb = NlbVerb::Query;
  std::string program;
  std::vector<std::string> args;

  /// The CreateProcess command line: program and arguments quoted by the MSVCRT rules.
  std::string commandLine() const;
};

/// Quotes one argument for a Windows command line (CommandLineToArgvW / MSVCRT rules).
std::string quoteWindowsArg(std::string_view arg);

/// nullopt when `value` may be used as a name; otherwise a sentence naming `what` and the
/// offending character. Empty values are accepted (they mean "not given").
std::optional<std::string> checkNlbName(std::string_view what, std::string_view value);

/// Builds the command for `verb` in the `control` form, or says which name cannot be used.
Parsed<Command> buildNlbCommand(NlbControl control, NlbVerb verb, const NlbTarget& target);

} // namespace rmha::winnlb
