#pragma once
// Grammar pieces shared by the parser and the proxy: URIs, name-addr values, Via values,
// comma-separated lists and parameter lookup. Pure functions over string_views; nothing
// allocates.
#include <cstdint>
#include <string_view>

#include "core/sip/message.h"

namespace rmha::core::sip {

/// Outcome of a parse step: a reason usable in "400 Bad Request - <reason>", or ok.
struct [[nodiscard]] Status {
  const char* reason = nullptr;
  bool ok() const { return reason == nullptr; }
};
inline constexpr Status kOk{};

/// Strips spaces and tabs at both ends.
std::string_view trim(std::string_view s);
/// ASCII case-insensitive comparison.
bool iequals(std::string_view a, std::string_view b);
/// Parses a decimal number of at most `maxDigits` digits; false on anything else.
bool parseUint(std::string_view s, std::uint32_t& out, int maxDigits = 10);
/// True for an RFC 3261 token (method names, header names, parameter names).
bool isToken(std::string_view s);

/// Parses a SIP/SIPS/TEL URI.
Status parseUri(std::string_view text, Uri& out);
/// Parses host[:port] (IPv6 in brackets); the port is 0 when absent.
Status parseHostPort(std::string_view text, std::string_view& host, std::uint16_t& port,
                     bool& ipv6);
/// Parses one name-addr / addr-spec value with its parameters (tag extracted).
Status parseNameAddr(std::string_view text, NameAddr& out);
/// Parses one Via value.
Status parseVia(std::string_view text, Via& out);

/// Value of parameter `name` in a ';'-separated list ("a=1;b;c=x"), case-insensitive name.
std::string_view findParam(std::string_view params, std::string_view name, bool* found);

/// Splits a header value at top-level commas (not inside quotes or <>). Calls
/// `f(std::string_view item)` for each trimmed non-empty item; `f` returns false to stop.
/// Returns false when quotes or angle brackets are unbalanced.
template <class F>
bool forEachListItem(std::string_view v, F&& f) {
  bool quoted = false;
  int angle = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= v.size(); ++i) {
    const char c = i < v.size() ? v[i] : ',';
    if (quoted) {
      if (c == '\\' && i + 1 < v.size()) {
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else if (i == v.size()) {
        return false;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
    } else if (c == '<') {
      ++angle;
    } else if (c == '>') {
      if (--angle < 0) {
        return false;
      }
    } else if (c == ',' && angle == 0) {
      const auto item = trim(v.substr(start, i - start));
      start = i + 1;
      if (!item.empty() && !f(item)) {
        return true;
      }
    }
  }
  return angle == 0;
}

} // namespace rmha::core::sip
