#include "core/sip/syntax.h"

#include <array>
#include <cctype>

namespace rmha::core::sip {
namespace {

constexpr std::array<bool, 256> makeTokenTable() {
  std::array<bool, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) {
    t[static_cast<std::size_t>(c)] = true;
  }
  for (int c = 'A'; c <= 'Z'; ++c) {
    t[static_cast<std::size_t>(c)] = true;
  }
  for (int c = '0'; c <= '9'; ++c) {
    t[static_cast<std::size_t>(c)] = true;
  }
  for (char c : std::string_view("-.!%*_+`'~")) {
    t[static_cast<unsigned char>(c)] = true;
  }
  return t;
}
constexpr auto kToken = makeTokenTable();

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool validHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_';
}

// "user[:password]" may contain escaped and unreserved characters; we only refuse what can
// never appear in a userinfo: controls, spaces, and the delimiters that end it.
bool validUserChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f && c != '<' && c != '>' && c != '"' && c != '@';
}

} // namespace

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

bool parseUint(std::string_view s, std::uint32_t& out, int maxDigits) {
  if (s.empty() || s.size() > static_cast<std::size_t>(maxDigits)) {
    return false;
  }
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > 0xffffffffULL) {
    return false;
  }
  out = static_cast<std::uint32_t>(v);
  return true;
}

bool isToken(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (!kToken[static_cast<unsigned char>(c)]) {
      return false;
    }
  }
  return true;
}

Status parseHostPort(std::string_view text, std::string_view& host, std::uint16_t& port,
                     bool& ipv6) {
  port = 0;
  ipv6 = false;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close < 3) {
      return {"bad IPv6 reference"};
    }
    host = text.substr(1, close - 1);
    for (char c : host) {
      if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.')) {
        return {"bad IPv6 reference"};
      }
    }
    ipv6 = true;
    rest = text.substr(close + 1);
  } else {
    const auto colon = text.find(':');
    host = text.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
    if (host.empty()) {
      return {"missing host"};
    }
    for (char c : host) {
      if (!validHostChar(c)) {
        return {"bad host"};
      }
    }
  }
  if (rest.empty()) {
    return kOk;
  }
  std::uint32_t p = 0;
  if (rest.front() != ':' || !parseUint(rest.substr(1), p, 5) || p == 0 || p > 65535) {
    return {"bad port"};
  }
  port = static_cast<std::uint16_t>(p);
  return kOk;
}

std::string_view findParam(std::string_view params, std::string_view name, bool* found) {
  if (found) {
    *found = false;
  }
  while (!params.empty()) {
    const auto semi = params.find(';');
    auto item = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    const auto eq = item.find('=');
    if (iequals(trim(item.substr(0, eq)), name)) {
      if (found) {
        *found = true;
      }
      return eq == std::string_view::npos ? std::string_view{} : trim(item.substr(eq + 1));
    }
  }
  return {};
}

std::string_view Uri::param(std::string_view name, bool* found) const {
  return findParam(params, name, found);
}

Status parseUri(std::string_view text, Uri& out) {
  out = Uri{};
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return {"URI without scheme"};
  }
  out.scheme = text.substr(0, colon);
  auto rest = text.substr(colon + 1);
  const bool tel = iequals(out.scheme, "tel");
  if (!tel && !iequals(out.scheme, "sip") && !iequals(out.scheme, "sips")) {
    return {"unsupported URI scheme"};
  }
  if (rest.empty()) {
    return {"empty URI"};
  }
  for (char c : rest) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '<' || c == '>' || c == '"') {
      return {"bad character in URI"};
    }
  }
  const auto q = rest.find('?');
  if (q != std::string_view::npos) {
    out.headers = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  const auto semi = rest.find(';');
  if (semi != std::string_view::npos) {
    out.params = rest.substr(semi + 1);
    rest = rest.substr(0, semi);
  }
  if (tel) {
    out.user = rest;  // the number; a tel URI has no host
    return rest.empty() ? Status{"empty tel URI"} : kOk;
  }
  const auto at = rest.rfind('@');
  if (at != std::string_view::npos) {
    auto userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto pc = userinfo.find(':');
    out.user = userinfo.substr(0, pc);
    if (pc != std::string_view::npos) {
      out.password = userinfo.substr(pc + 1);
    }
    if (out.user.empty()) {
      return {"empty user in URI"};
    }
    for (char c : userinfo) {
      if (!validUserChar(c)) {
        return {"bad user in URI"};
      }
    }
  }
  return parseHostPort(rest, out.host, out.port, out.ipv6);
}

Status parseNameAddr(std::string_view text, NameAddr& out) {
  out = NameAddr{};
  text = trim(text);
  if (text.empty()) {
    return {"empty address"};
  }
  std::string_view afterUri;
  const auto lt = text.find('<');
  if (lt != std::string_view::npos) {
    auto display = trim(text.substr(0, lt));
    if (!display.empty() && display.front() == '"') {
      if (display.size() < 2 || display.back() != '"') {
        return {"bad display name"};
      }
    }
    out.display = display;
    const auto gt = text.find('>', lt);
    if (gt == std::string_view::npos) {
      return {"missing '>' in address"};
    }
    out.uriText = text.substr(lt + 1, gt - lt - 1);
    afterUri = trim(text.substr(gt + 1));
  } else {
    // addr-spec: parameters after the URI belong to the header, not to the URI.
    const auto semi = text.find(';');
    out.uriText = trim(text.substr(0, semi));
    afterUri = semi == std::string_view::npos ? std::string_view{} : text.substr(semi);
    if (out.uriText.find_first_of(" \t,?") != std::string_view::npos) {
      return {"address with spaces must be in angle brackets"};
    }
  }
  if (auto st = parseUri(out.uriText, out.uri); !st.ok()) {
    return st;
  }
  if (!afterUri.empty()) {
    if (afterUri.front() != ';') {
      return {"junk after address"};
    }
    out.params = afterUri.substr(1);
    out.tag = findParam(out.params, "tag", &out.hasTag);
    if (out.hasTag && out.tag.empty()) {
      return {"empty tag"};
    }
  }
  return kOk;
}

Status parseVia(std::string_view text, Via& out) {
  out = Via{};
  out.text = text;
  // sent-protocol: SIP / 2.0 / transport (LWS allowed around the slashes).
  std::string_view parts[3];
  auto rest = text;
  for (int i = 0; i < 3; ++i) {
    rest = trim(rest);
    const auto end = i < 2 ? rest.find('/') : rest.find_first_of(" \t");
    if (end == std::string_view::npos) {
      return {"bad Via sent-protocol"};
    }
    parts[i] = trim(rest.substr(0, end));
    rest = rest.substr(end + (i < 2 ? 1 : 0));
  }
  if (!iequals(parts[0], "SIP") || parts[1] != "2.0" || !isToken(parts[2])) {
    return {"bad Via sent-protocol"};
  }
  out.transport = parts[2];
  rest = trim(rest);
  const auto semi = rest.find(';');
  const auto sentBy = trim(rest.substr(0, semi));
  if (auto st = parseHostPort(sentBy, out.host, out.port, out.ipv6); !st.ok()) {
    return {"bad Via sent-by"};
  }
  if (semi != std::string_view::npos) {
    out.params = rest.substr(semi + 1);
    bool found = false;
    out.branch = findParam(out.params, "branch", &found);
    if (found && out.branch.empty()) {
      return {"empty Via branch"};
    }
    out.received = findParam(out.params, "received", nullptr);
    out.rport = findParam(out.params, "rport", &out.hasRport);
    std::uint32_t p = 0;
    if (!out.rport.empty() && (!parseUint(out.rport, p, 5) || p == 0 || p > 65535)) {
      return {"bad Via rport"};
    }
  }
  return kOk;
}

} // namespace rmha::core::sip
