#include "winnlb/nlb_command.h"

#include <fmt/format.h>

namespace rmha::winnlb {
namespace {

constexpr std::size_t kMaxNameLength = 255;

bool isPlainNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == ' ' || c == '.' || c == '_' || c == '-' || c == '(' || c == ')' || c == '#';
}

// A name inside a PowerShell single-quoted string: checkNlbName() guarantees there is no
// quote in it, so no escaping is needed.
std::string psQuoted(std::string_view name) { return fmt::format("'{}'", name); }

std::string psNodeParams(NlbVerb verb, const NlbTarget& t) {
  std::string out;
  if (!t.hostName.empty()) {
    // Get-NlbClusterNode selects the node by -NodeName; the control cmdlets address the node
    // to act on by -HostName (default: the local host).
    out += verb == NlbVerb::Query ? " -NodeName " : " -HostName ";
    out += psQuoted(t.hostName);
  }
  if (!t.interfaceName.empty()) {
    out += " -InterfaceName " + psQuoted(t.interfaceName);
  }
  return out;
}

std::string psScript(NlbVerb verb, const NlbTarget& t) {
  // Stop on the first error so a failed cmdlet gives a non-zero exit code.
  std::string s = "$ErrorActionPreference = 'Stop'; Import-Module NetworkLoadBalancingClusters; ";
  const std::string params = psNodeParams(verb, t);
  switch (verb) {
    case NlbVerb::Query:
      // State is an enum: force its name, ConvertTo-Json would otherwise print a number.
      return s + "Get-NlbClusterNode" + params +
             " | Select-Object Name,InterfaceName,HostPriority,"
             "@{Name='State';Expression={[string]$_.State}} | ConvertTo-Json -Compress";
    case NlbVerb::Start: return s + "Start-NlbClusterNode" + params + " | Out-Null";
    case NlbVerb::Stop: return s + "Stop-NlbClusterNode" + params + " | Out-Null";
    case NlbVerb::DrainStop:
      return s + "Stop-NlbClusterNode" + params +
             fmt::format(" -Drain -Timeout {} | Out-Null", t.drainTimeoutMinutes);
    case NlbVerb::Suspend: return s + "Suspend-NlbClusterNode" + params + " | Out-Null";
    case NlbVerb::Resume: return s + "Resume-NlbClusterNode" + params + " | Out-Null";
  }
  return s;
}

} // namespace

std::string_view toString(NlbControl control) {
  switch (control) {
    case NlbControl::PowerShell: return "powershell";
    case NlbControl::NlbExe: return "nlb-exe";
    case NlbControl::WlbsExe: return "wlbs-exe";
  }
  return "powershell";
}

std::string_view toString(NlbVerb verb) {
  // The nlb.exe verb names; PowerShell maps them to cmdlets.
  switch (verb) {
    case NlbVerb::Query: return "query";
    case NlbVerb::Start: return "start";
    case NlbVerb::Stop: return "stop";
    case NlbVerb::DrainStop: return "drainstop";
    case NlbVerb::Suspend: return "suspend";
    case NlbVerb::Resume: return "resume";
  }
  return "query";
}

std::optional<NlbControl> parseNlbControl(std::string_view text) {
  for (auto c : {NlbControl::PowerShell, NlbControl::NlbExe, NlbControl::WlbsExe}) {
    if (text == toString(c)) {
      return c;
    }
  }
  return std::nullopt;
}

std::string quoteWindowsArg(std::string_view arg) {
  if (!arg.empty() && arg.find_first_of(" \t\n\v\"") == std::string_view::npos) {
    return std::string(arg);
  }
  // Backslashes are literal except before a quote (or the closing quote), where each one
  // must be doubled; a quote in the argument becomes \".
  std::string out = "\"";
  std::size_t backslashes = 0;
  for (char c : arg) {
    if (c == '\\') {
      ++backslashes;
      continue;
    }
    if (c == '"') {
      out.append(backslashes * 2 + 1, '\\');
    } else {
      out.append(backslashes, '\\');
    }
    backslashes = 0;
    out += c;
  }
  out.append(backslashes * 2, '\\');
  out += '"';
  return out;
}

std::string Command::commandLine() const {
  std::string line = quoteWindowsArg(program);
  for (const auto& a : args) {
    line += ' ';
    line += quoteWindowsArg(a);
  }
  return line;
}

std::optional<std::string> checkNlbName(std::string_view what, std::string_view value) {
  if (value.empty()) {
    return std::nullopt;
  }
  if (value.size() > kMaxNameLength) {
    return fmt::format("{} is {} characters long; write at most {}", what, value.size(),
                       kMaxNameLength);
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (!isPlainNameChar(c)) {
      const auto shown = static_cast<unsigned>(static_cast<unsigned char>(c));
      return fmt::format("{} \"{}\" has character 0x{:02x} at position {}: use only letters, "
                         "digits, space and . _ - ( ) #",
                         what, std::string(value), shown, i + 1);
    }
  }
  if (value.front() == ' ' || value.back() == ' ') {
    return fmt::format("{} \"{}\" starts or ends with a space: remove it", what,
                       std::string(value));
  }
  if (value.front() == '-') {
    // A leading dash would read as an option to nlb.exe and as a parameter to PowerShell.
    return fmt::format("{} \"{}\" starts with '-': a name cannot start with a dash", what,
                       std::string(value));
  }
  return std::nullopt;
}

Parsed<Command> buildNlbCommand(NlbControl control, NlbVerb verb, const NlbTarget& target) {
  for (const auto& [what, value] : {std::pair<std::string_view, const std::string&>{
                                        "nlb-host", target.hostName},
                                    {"nlb-interface", target.interfaceName},
                                    {"nlb-cluster", target.cluster}}) {
    if (auto problem = checkNlbName(what, value)) {
      return Parsed<Command>::fail(std::move(*problem));
    }
  }
  Command cmd;
  cmd.control = control;
  cmd.verb = verb;
  if (control == NlbControl::PowerShell) {
    cmd.program = "powershell.exe";
    cmd.args = {"-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-Command",
                psScript(verb, target)};
    return Parsed<Command>::ok(std::move(cmd));
  }
  cmd.program = control == NlbControl::WlbsExe ? "wlbs.exe" : "nlb.exe";
  cmd.args.emplace_back(toString(verb));
  if (!target.cluster.empty()) {
    cmd.args.push_back(target.cluster);
  }
  return Parsed<Command>::ok(std::move(cmd));
}

} // namespace rmha::winnlb
