#include "winnlb/nlb_output.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace rmha::winnlb {
namespace {

// Far more than any node listing; bigger input is refused rather than parsed.
constexpr std::size_t kMaxOutput = 1 << 20;

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

std::string_view stripBom(std::string_view s) {
  return s.substr(0, 3) == "\xEF\xBB\xBF" ? s.substr(3) : s;
}

// "node1" names "node1.example.com" too: NLB shows FQDNs or short names depending on setup.
bool sameNode(std::string_view reported, std::string_view wanted) {
  if (equalsIgnoreCase(reported, wanted)) {
    return true;
  }
  const bool reportedShort = reported.find('.') == std::string_view::npos;
  const bool wantedShort = wanted.find('.') == std::string_view::npos;
  if (reportedShort == wantedShort) {
    return false;
  }
  const auto full = reportedShort ? wanted : reported;
  const auto brief = reportedShort ? reported : wanted;
  return equalsIgnoreCase(full.substr(0, full.find('.')), brief);
}

const nlohmann::json* member(const nlohmann::json& obj, std::string_view key) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (equalsIgnoreCase(it.key(), key)) {
      return &it.value();
    }
  }
  return nullptr;
}

std::string stringMember(const nlohmann::json& obj, std::string_view key) {
  const auto* v = member(obj, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

Parsed<NlbNodeStatus> nodeFromJson(const nlohmann::json& obj) {
  if (!obj.is_object()) {
    return Parsed<NlbNodeStatus>::fail("node entry is not a JSON object");
  }
  NlbNodeStatus st;
  st.name = stringMember(obj, "Name");
  st.interfaceName = stringMember(obj, "InterfaceName");
  if (const auto* p = member(obj, "HostPriority"); p && p->is_number_integer()) {
    st.hostPriority = static_cast<int>(std::clamp<std::int64_t>(p->get<std::int64_t>(), 0, 32));
  }
  const auto* state = member(obj, "State");
  if (!state || state->is_null()) {
    return Parsed<NlbNodeStatus>::fail(
        fmt::format("node \"{}\" has no State field in the Get-NlbClusterNode output", st.name));
  }
  if (state->is_string()) {
    st.reported = state->get<std::string>();
  } else if (state->is_number_integer()) {
    st.reported = std::to_string(state->get<std::int64_t>());
  } else {
    return Parsed<NlbNodeStatus>::fail(
        fmt::format("node \"{}\" has a State that is neither text nor a number", st.name));
  }
  // A state we do not know is reported as Unknown: the caller decides, nothing is guessed.
  auto parsed = parseStateName(st.reported);
  st.state = parsed ? parsed.value() : NlbNodeState::Unknown;
  return Parsed<NlbNodeStatus>::ok(std::move(st));
}

Parsed<NlbNodeStatus> pickNode(const nlohmann::json& arr, std::string_view nodeName) {
  if (arr.empty()) {
    return Parsed<NlbNodeStatus>::fail("Get-NlbClusterNode listed no node");
  }
  if (arr.size() == 1 && nodeName.empty()) {
    return nodeFromJson(arr.front());
  }
  if (nodeName.empty()) {
    return Parsed<NlbNodeStatus>::fail(fmt::format(
        "Get-NlbClusterNode listed {} nodes and no node name is set: set nlb-host", arr.size()));
  }
  for (const auto& entry : arr) {
    if (entry.is_object() && sameNode(stringMember(entry, "Name"), nodeName)) {
      return nodeFromJson(entry);
    }
  }
  return Parsed<NlbNodeStatus>::fail(
      fmt::format("Get-NlbClusterNode listed {} nodes, none named \"{}\"", arr.size(),
                  std::string(nodeName)));
}

// One line of `nlb query`: the state it states, or Unknown when it states none.
NlbNodeState classifyLine(const std::string& l) {
  // Order matters: "converged as DEFAULT ... draining" is draining, "stopped and does not
  // know convergence state" is stopped.
  static const std::array<std::pair<const char*, NlbNodeState>, 8> kRules{{
      {"media disconnected", NlbNodeState::MediaDisconnected},
      {"disconnected", NlbNodeState::MediaDisconnected},
      {"suspended", NlbNodeState::Suspended},
      {"draining", NlbNodeState::Draining},
      {"stopped", NlbNodeState::Stopped},
      {"converging", NlbNodeState::Converging},
      {"converged as default", NlbNodeState::ConvergedDefault},
      {"converged", NlbNodeState::Converged},
  }};
  for (const auto& [word, state] : kRules) {
    if (l.find(word) != std::string::npos) {
      return state;
    }
  }
  return NlbNodeState::Unknown;
}

bool isHistoryLine(const std::string& l) {
  // "Host 1 has entered a converging state 3 time(s)..." and "...last convergence completed
  // at..." describe the past, not the present state.
  return l.find("has entered a converging state") != std::string::npos ||
         l.find("last convergence") != std::string::npos;
}

} // namespace

std::string firstLine(std::string_view text, std::size_t max) {
  auto t = trim(text);
  auto line = trim(t.substr(0, t.find_first_of("\r\n")));
  std::string out(line.substr(0, max));
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      c = '?';
    }
  }
  return out;
}

Parsed<NlbNodeState> parseStateName(std::string_view text) {
  std::string key;
  for (char c : trim(text)) {
    if (c != ' ' && c != '-' && c != '_' && c != '(' && c != ')') {
      key += lower(c);
    }
  }
  static const std::array<std::pair<const char*, NlbNodeState>, 11> kNames{{
      {"converged", NlbNodeState::Converged},
      {"convergeddefault", NlbNodeState::ConvergedDefault},
      {"convergedasdefault", NlbNodeState::ConvergedDefault},
      {"default", NlbNodeState::ConvergedDefault},
      {"converging", NlbNodeState::Converging},
      {"draining", NlbNodeState::Draining},
      {"stopped", NlbNodeState::Stopped},
      {"suspended", NlbNodeState::Suspended},
      {"mediadisconnected", NlbNodeState::MediaDisconnected},
      {"disconnected", NlbNodeState::MediaDisconnected},
      {"unknown", NlbNodeState::Unknown},
  }};
  for (const auto& [name, state] : kNames) {
    if (key == name) {
      return Parsed<NlbNodeState>::ok(state);
    }
  }
  int code = 0;
  const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), code);
  if (!key.empty() && ec == std::errc() && end == key.data() + key.size()) {
    if (auto wc = wlbsCodeFromInt(code)) {
      if (auto st = stateFromWlbsCode(*wc)) {
        return Parsed<NlbNodeState>::ok(*st);
      }
    }
  }
  return Parsed<NlbNodeState>::fail(
      fmt::format("unknown NLB node state \"{}\"", firstLine(text, 40)));
}

Parsed<NlbNodeStatus> parseNodeJson(std::string_view json, std::string_view nodeName) {
  if (json.size() > kMaxOutput) {
    return Parsed<NlbNodeStatus>::fail("Get-NlbClusterNode output is larger than 1 MiB");
  }
  const auto text = trim(stripBom(json));
  if (text.empty()) {
    return Parsed<NlbNodeStatus>::fail("Get-NlbClusterNode printed nothing (no such node?)");
  }
  const auto doc = nlohmann::json::parse(text.begin(), text.end(), nullptr,
                                         /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Parsed<NlbNodeStatus>::fail(
        fmt::format("Get-NlbClusterNode output is not JSON: \"{}\"", firstLine(text, 60)));
  }
  if (doc.is_array()) {
    return pickNode(doc, nodeName);
  }
  if (!doc.is_object()) {
    return Parsed<NlbNodeStatus>::fail("Get-NlbClusterNode output is neither an object nor a list");
  }
  auto st = nodeFromJson(doc);
  if (st && !nodeName.empty() && !st->name.empty() && !sameNode(st->name, nodeName)) {
    return Parsed<NlbNodeStatus>::fail(fmt::format(
        "Get-NlbClusterNode reported node \"{}\", not \"{}\"", st->name, std::string(nodeName)));
  }
  return st;
}

Parsed<NlbNodeStatus> parseQueryText(std::string_view text) {
  if (text.size() > kMaxOutput) {
    return Parsed<NlbNodeStatus>::fail("nlb query output is larger than 1 MiB");
  }
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto eol = rest.find('\n');
    const auto raw = trim(rest.substr(0, eol));
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
    const std::string l = lowered(raw);
    if (isHistoryLine(l)) {
      continue;
    }
    const auto state = classifyLine(l);
    if (state == NlbNodeState::Unknown) {
      continue;
    }
    NlbNodeStatus st;
    st.state = state;
    st.reported = firstLine(raw, 200);
    int id = 0;
    if (l.rfind("host ", 0) == 0) {
      std::from_chars(l.data() + 5, l.data() + l.size(), id);
    }
    st.hostId = (id >= 1 && id <= 32) ? id : 0;
    return Parsed<NlbNodeStatus>::ok(std::move(st));
  }
  return Parsed<NlbNodeStatus>::fail(
      fmt::format("nlb query output states no host state: \"{}\"", firstLine(text, 80)));
}

Parsed<NlbNodeStatus> parseQueryResult(const Command& cmd, const CommandResult& result,
                                       std::string_view nodeName) {
  if (!result.launched()) {
    return Parsed<NlbNodeStatus>::fail(
        fmt::format("could not run {}: {}", cmd.program, result.launchError.message()));
  }
  if (cmd.control == NlbControl::PowerShell) {
    if (result.exitCode != 0) {
      const auto& why = result.err.empty() ? result.out : result.err;
      return Parsed<NlbNodeStatus>::fail(fmt::format("{} exited with {}: {}", cmd.program,
                                                     result.exitCode, firstLine(why)));
    }
    return parseNodeJson(result.out, nodeName);
  }
  auto text = parseQueryText(result.out);
  if (text) {
    return text;
  }
  // The text said nothing usable: fall back to the exit code as a WLBS state code.
  if (auto code = wlbsCodeFromInt(result.exitCode)) {
    if (auto state = stateFromWlbsCode(*code)) {
      NlbNodeStatus st;
      st.state = *state;
      st.reported = fmt::format("{} ({})", static_cast<int>(*code), toString(*code));
      return Parsed<NlbNodeStatus>::ok(std::move(st));
    }
    return Parsed<NlbNodeStatus>::fail(fmt::format("{} query returned {} ({}): {}", cmd.program,
                                                   static_cast<int>(*code), toString(*code),
                                                   firstLine(result.out)));
  }
  return text;
}

} // namespace rmha::winnlb
