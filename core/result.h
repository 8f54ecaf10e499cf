#pragma once
// The one runtime result of the product's fallible calls (STYLE, ERRORS): a value, or an
// Error that says what failed. Adapters that start or open something (the NIC watchdog, the
// peer link, the control socket, the resource manager, a reading of the host's links) and
// the pure decoders of untrusted input (winnlb's command output and frames) return it.
// Startup configuration errors are not runtime errors: parsers throw ConfigError.
//
//   core::Result<Socket> open(...) {
//     if (ec) return core::fail(ec, fmt::format("tcp {}: {}", where, ec.message()));
//     return socket;
//   }
//   if (auto r = open(...); !r) RMHA_LOG(Error, "peer", "cannot open: {}", r.error());
#include <ostream>
#include <string>
#include <system_error>
#include <utility>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <fmt/format.h>

namespace rmha::core {

/// What failed: a code for a program to act on, and a sentence for the operator's log.
struct Error {
  std::error_code code;
  std::string what; ///< what failed, on what, and why; empty: code.message() says it all

  /// The sentence to log.
  std::string message() const { return what.empty() ? code.message() : what; }
};

/// boost::system::result<T, Error>: `if (!r)`, `r.error()`, `*r` / `r.value()`. A Result<void>
/// that succeeded is `{}`.
template <typename T = void>
using Result = boost::system::result<T, Error>;

/// An Error from a code and the sentence to log.
inline Error fail(std::error_code code, std::string what = {}) {
  return Error{code, std::move(what)};
}
/// An Error for bad input: the sentence says what was wrong with it.
inline Error fail(std::string what) {
  return Error{std::make_error_code(std::errc::invalid_argument), std::move(what)};
}

inline std::ostream& operator<<(std::ostream& os, const Error& e) { return os << e.message(); }

/// Result::value() on an Error throws this (found by argument-dependent lookup).
[[noreturn]] inline void throw_exception_from_error(const Error& e,
                                                    const boost::source_location&) {
  throw std::system_error(e.code, e.message());
}

} // namespace rmha::core

template <>
struct fmt::formatter<rmha::core::Error> : fmt::formatter<std::string> {
  auto format(const rmha::core::Error& e, format_context& ctx) const {
    return fmt::formatter<std::string>::format(e.message(), ctx);
  }
};
