#pragma once
// libnl's NLE_* codes as std::error_code, so netlink failures travel like every other runtime
// error in rmha (std::error_code, never an exception out of a handler).
#include <system_error>

namespace rmha::netlink {

/// The category of libnl error codes (NLE_*); message() is libnl's nl_geterror() text.
const std::error_category& nlCategory();

/// Wraps a libnl return value: 0 or positive is success, -NLE_x (or NLE_x) is the error.
std::error_code makeNlError(int nle);

/// True when `ec` is the libnl code `nle` (given positive, e.g. NLE_EXIST).
bool isNlError(const std::error_code& ec, int nle);

} // namespace rmha::netlink
